"""All SQL of background jobs (the rows `kit.jobs` keeps for each one)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from ortholens.kit.jobs import Job, JobStatus


def get_job(session: Session, job_id: uuid.UUID) -> Job | None:
    return session.get(Job, job_id)


def jobs_query(
    *,
    status: JobStatus | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int = 50,
) -> Select[Job]:
    """Jobs newest first in (created_at, id), after the (created_at, id) `after`:
    ix_jobs_status_created (one status) or ix_jobs_created."""
    query = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Job.status == status)
    if after is not None:
        at, last_id = after
        query = query.where(or_(Job.created_at < at, and_(Job.created_at == at, Job.id < last_id)))
    return query


def list_jobs(
    session: Session,
    *,
    status: JobStatus | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int = 50,
) -> list[Job]:
    """A page of jobs, newest first, of one status or of all."""
    return list(session.scalars(jobs_query(status=status, after=after, limit=limit)))


def active_job_id(session: Session, name: str, clinic_id: uuid.UUID) -> uuid.UUID | None:
    """The id of a queued or running job of this name for the clinic, if there is one."""
    return session.scalars(
        select(Job.id).where(
            Job.name == name,
            Job.clinic_id == clinic_id,
            Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
        )
    ).first()


def jobs_named(session: Session, names: Sequence[str]) -> list[Job]:
    """Every job, in any state and clinic, whose name is one of `names`."""
    return list(session.scalars(select(Job).where(Job.name.in_(names))))


def count_by_status(session: Session) -> dict[JobStatus, int]:
    """How many jobs are in each state (states without jobs are absent)."""
    rows = session.execute(select(Job.status, func.count()).group_by(Job.status))
    return {JobStatus(status): int(n) for status, n in rows}
