"""Queries on generated files. A generated file is the result of a job (the `jobs` row holds its
key, name, size and, once cleaned up, when it expired), so these are queries on `jobs`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ortholens.kit.jobs import Job, JobStatus

EXPIRED_AT = "expiredAt"
EXPIRED_MESSAGE = "Expired; export again."


def get_job(session: Session, job_id: uuid.UUID) -> Job | None:
    return session.get(Job, job_id)


def due_for_expiry(
    session: Session, job_names: Sequence[str], *, finished_before: datetime, limit: int
) -> list[Job]:
    """Finished generating jobs older than the cut-off whose file has not been expired yet."""
    if not job_names:
        return []
    query = (
        select(Job)
        .where(
            Job.name.in_(job_names),
            Job.status == JobStatus.SUCCEEDED,
            Job.finished_at < finished_before,
            Job.result[EXPIRED_AT].as_string().is_(None),
        )
        .order_by(Job.finished_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def mark_expired(job: Job, at: datetime) -> None:
    """Note on the job that its file is gone (a JSON column: assign a new value to save it)."""
    result: dict[str, Any] = dict(job.result or {})
    result[EXPIRED_AT] = at.isoformat()
    job.result = result
    job.message = EXPIRED_MESSAGE
