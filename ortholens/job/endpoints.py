from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter

from ortholens.auth.deps import RequirePermission
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.http.deps import SessionDep
from ortholens.job import service
from ortholens.job.schemas import JobRead

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=JobRead)
def get_job(
    job_id: uuid.UUID,
    auth: Annotated[Authorized, RequirePermission(Permission.JOBS_READ)],
    session: SessionDep,
) -> JobRead:
    """Status, progress and outcome of a background job of your clinic."""
    return JobRead.model_validate(service.get_job(session, job_id, auth.principal.clinic_scope))
