from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from ortholens.job import repository
from ortholens.kit.errors import NotFound
from ortholens.kit.jobs import Job


def get_job(session: Session, job_id: uuid.UUID) -> Job:
    """One job by id, or NotFound."""
    job = repository.get_job(session, job_id)
    if job is None:
        raise NotFound("No job with this id.")
    return job
