"""Consents: `/api/patients/{id}/consents` for staff, `/api/patient/consents` for the patient."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter

from ortholens.auth.deps import CurrentPatient, RequirePermission
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.consent import service
from ortholens.consent.schemas import ConsentCreate, ConsentList, ConsentRead
from ortholens.http.deps import SessionDep
from ortholens.kit.db import utcnow
from ortholens.models import Consent

router = APIRouter(tags=["consents"])

Reader = Annotated[Authorized, RequirePermission(Permission.CONSENT_READ)]
Writer = Annotated[Authorized, RequirePermission(Permission.CONSENT_WRITE)]


def consent_read(consent: Consent, now: datetime) -> ConsentRead:
    """The API form of a consent, with its status at `now`."""
    return ConsentRead(
        id=consent.id,
        patient_id=consent.patient_id,
        kind=consent.kind,
        granted_by=consent.granted_by,
        guardian_name=consent.guardian_name,
        granted_at=consent.granted_at,
        expires_at=consent.expires_at,
        revoked_at=consent.revoked_at,
        recorded_by_id=consent.recorded_by_id,
        created_at=consent.created_at,
        status=service.consent_status(consent, now),
    )


def _list(consents: Sequence[Consent]) -> ConsentList:
    now = utcnow()
    return ConsentList(items=[consent_read(c, now) for c in consents])


@router.get("/api/patients/{patient_id}/consents", response_model=ConsentList)
def list_consents(patient_id: uuid.UUID, auth: Reader, db: SessionDep) -> ConsentList:
    """A patient's consents, newest first, each with its current status."""
    return _list(service.list_consents(db, auth.principal, patient_id))


@router.post("/api/patients/{patient_id}/consents", response_model=ConsentRead, status_code=201)
def grant_consent(
    patient_id: uuid.UUID, body: ConsentCreate, auth: Writer, db: SessionDep
) -> ConsentRead:
    """Record a consent; a minor's must come from a named guardian."""
    consent = service.grant_consent(db, auth.principal, patient_id, body)
    return consent_read(consent, utcnow())


@router.post("/api/patients/{patient_id}/consents/{consent_id}/revoke", response_model=ConsentRead)
def revoke_consent(
    patient_id: uuid.UUID, consent_id: uuid.UUID, auth: Writer, db: SessionDep
) -> ConsentRead:
    """Revoke a consent from now on."""
    consent = service.revoke_consent(db, auth.principal, patient_id, consent_id)
    return consent_read(consent, utcnow())


@router.get("/api/patient/consents", response_model=ConsentList)
def list_own_consents(principal: CurrentPatient, db: SessionDep) -> ConsentList:
    """Your own consents (patient portal)."""
    return _list(service.list_own_consents(db, principal))
