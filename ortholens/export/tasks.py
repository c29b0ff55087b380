"""`export.expire`: every hour, delete generated files whose retention is over.

A file is kept `ORTHOLENS_EXPORT_RETENTION_HOURS` after its job finished; then its objects are
deleted and its job marked expired (status answers 410 "export again"). Two workers' ticks may both
run it: the second finds nothing left to expire.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ortholens.export.service import expire_files
from ortholens.kit.jobs import JobContext, job_handler, periodic

EXPIRE_JOB = "export.expire"


@job_handler(EXPIRE_JOB, max_attempts=1)
def expire_generated_files(ctx: JobContext) -> dict[str, Any]:
    """Delete expired generated files and mark their jobs expired."""
    runtime = ctx.resources
    retention = timedelta(hours=runtime.settings.export_retention_hours)
    return {"expired": expire_files(ctx.session, runtime.store, retention)}


periodic(EXPIRE_JOB, minute="41")
