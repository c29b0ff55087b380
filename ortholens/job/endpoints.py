from __future__ import annotations

import uuid

from fastapi import APIRouter

from ortholens.http.deps import SessionDep
from ortholens.job import service
from ortholens.job.schemas import JobRead

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=JobRead)
def get_job(job_id: uuid.UUID, session: SessionDep) -> JobRead:
    """Status, progress and outcome of a background job."""
    return JobRead.model_validate(service.get_job(session, job_id))
