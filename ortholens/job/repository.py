from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ortholens.kit.jobs import Job, JobStatus


def get_job(session: Session, job_id: uuid.UUID) -> Job | None:
    return session.get(Job, job_id)


def list_jobs(session: Session, *, status: JobStatus | None = None, limit: int = 50) -> list[Job]:
    query = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if status is not None:
        query = query.where(Job.status == status)
    return list(session.scalars(query))
