from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from ortholens.job import repository
from ortholens.kit.errors import NotFound
from ortholens.kit.jobs import Job


def get_job(session: Session, job_id: uuid.UUID, clinic_scope: uuid.UUID | None = None) -> Job:
    """One job by id, or NotFound; with a clinic scope, another clinic's or a system job is
    NotFound too (None: all jobs, for super admins and the CLI)."""
    job = repository.get_job(session, job_id)
    if job is None or (clinic_scope is not None and job.clinic_id != clinic_scope):
        raise NotFound("No job with this id.")
    return job
