"""Patients: `/api/patients` (seed 004 section 1)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from ortholens.auth.deps import RequirePermission
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.http.deps import SessionDep, SettingsDep
from ortholens.models import PatientStatus
from ortholens.patient import service
from ortholens.patient.schemas import (
    InviteCreate,
    InviteRead,
    PatientCreate,
    PatientPage,
    PatientRead,
    PatientUpdate,
)

router = APIRouter(prefix="/api/patients", tags=["patients"])

Reader = Annotated[Authorized, RequirePermission(Permission.PATIENTS_READ)]
Writer = Annotated[Authorized, RequirePermission(Permission.PATIENTS_WRITE)]
Archiver = Annotated[Authorized, RequirePermission(Permission.PATIENTS_ARCHIVE)]
Inviter = Annotated[Authorized, RequirePermission(Permission.PATIENTS_INVITE)]


@router.post("", response_model=PatientRead, status_code=201)
def create_patient(body: PatientCreate, auth: Writer, db: SessionDep) -> PatientRead:
    """Add a patient to your clinic."""
    return PatientRead.model_validate(service.create_patient(db, auth.principal, body))


@router.get("", response_model=PatientPage)
def list_patients(
    *,
    auth: Reader,
    db: SessionDep,
    q: Annotated[
        str | None,
        Query(max_length=100, description='Part of the first or last name, or "first last".'),
    ] = None,
    status: PatientStatus | None = None,
    doctor_id: Annotated[uuid.UUID | None, Query(alias="doctorId")] = None,
    clinic_id: Annotated[
        uuid.UUID | None, Query(alias="clinicId", description="Super admins only.")
    ] = None,
    cursor: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=r"^[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}$",
            description="`nextCursor` of the previous page.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE_SIZE)] = 50,
) -> PatientPage:
    """Your clinic's patients by name, with search by name and filters by status and doctor."""
    query = service.PatientQuery(
        search=q,
        status=status,
        doctor_id=doctor_id,
        clinic_id=clinic_id,
        cursor=cursor,
        limit=limit,
    )
    patients, next_cursor = service.list_patients(db, auth.principal, query)
    return PatientPage(
        items=[PatientRead.model_validate(p) for p in patients], next_cursor=next_cursor
    )


@router.get("/{patient_id}", response_model=PatientRead)
def get_patient(patient_id: uuid.UUID, auth: Reader, db: SessionDep) -> PatientRead:
    """One patient of your clinic."""
    return PatientRead.model_validate(service.get_patient(db, auth.principal, patient_id))


@router.patch("/{patient_id}", response_model=PatientRead)
def update_patient(
    patient_id: uuid.UUID, body: PatientUpdate, auth: Writer, db: SessionDep
) -> PatientRead:
    """Change a patient's details; only the fields sent change."""
    patient = service.update_patient(db, auth.principal, patient_id, body)
    return PatientRead.model_validate(patient)


@router.post("/{patient_id}/archive", response_model=PatientRead)
def archive_patient(patient_id: uuid.UUID, auth: Archiver, db: SessionDep) -> PatientRead:
    """Archive a patient; their portal sign-ins and open invitations end at once."""
    return PatientRead.model_validate(service.archive_patient(db, auth.principal, patient_id))


@router.post("/{patient_id}/invite", response_model=InviteRead, status_code=201)
def invite_patient(
    patient_id: uuid.UUID,
    auth: Inviter,
    db: SessionDep,
    settings: SettingsDep,
    body: InviteCreate | None = None,
) -> InviteRead:
    """Create a single-use, 7-day portal invitation link; earlier unused links stop working."""
    invite = service.invite_patient(
        db,
        auth.principal,
        patient_id,
        email=body.email if body else None,
        public_url=settings.public_url,
    )
    return InviteRead(
        token=invite.token, invite_url=invite.invite_url, expires_at=invite.expires_at
    )
