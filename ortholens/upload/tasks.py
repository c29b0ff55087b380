"""`upload.cleanup`: every hour, remove upload tickets nobody confirmed within a day."""

from __future__ import annotations

from typing import Any

from ortholens.kit.jobs import JobContext, job_handler, periodic
from ortholens.upload.service import clean_stale_uploads


@job_handler("upload.cleanup", max_attempts=1)
def clean_up_uploads(ctx: JobContext) -> dict[str, Any]:
    """Delete never-confirmed uploads (rows and any bytes that arrived)."""
    return {"removed": clean_stale_uploads(ctx.session, ctx.resources.store)}


periodic("upload.cleanup", minute="17")
