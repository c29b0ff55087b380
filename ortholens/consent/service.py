"""Consent rules: who may grant (a guardian for a minor), validity in time, revocation, and the
check other capabilities make before using a patient's images.

    grant_consent(db, principal, patient_id, data) -> Consent
    list_consents(db, principal, patient_id) -> list[Consent]
    revoke_consent(db, principal, patient_id, consent_id) -> Consent
    list_own_consents(db, patient_principal) -> list[Consent]
    require_valid_consent(db, patient_id, kind, at=None) -> Consent   (raises ConsentMissing)
    consent_status(consent, at) -> "active" | "expired" | "revoked"
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth.principals import PatientPrincipal, StaffPrincipal
from ortholens.consent import repository
from ortholens.consent.schemas import ConsentCreate, ConsentStatus
from ortholens.kit.db import utcnow
from ortholens.kit.errors import Conflict, InvalidInput, NotFound
from ortholens.models import Consent, ConsentGrantor, ConsentKind, Patient, PatientStatus
from ortholens.patient.service import find_patient

AGE_OF_MAJORITY = 18
# A grant time a little ahead of ours is a clock difference, not a consent from the future.
CLOCK_SKEW = timedelta(minutes=5)

MISSING_MESSAGES = {
    ConsentKind.PHOTOGRAPHY: (
        "This patient has no valid photography consent; record one before adding photos."
    ),
    ConsentKind.MARKETING: (
        "This patient has no valid marketing consent; record one before using their images "
        "in marketing."
    ),
    ConsentKind.EDUCATION: (
        "This patient has no valid education consent; record one before using their images "
        "for teaching."
    ),
}


class ConsentMissing(InvalidInput):
    """The patient has no consent of the needed kind in force."""

    slug = "consent-required"
    title = "Consent required"


def consent_status(consent: Consent, at: datetime) -> ConsentStatus:
    """Whether a consent is in force at `at`: revoked wins over expired."""
    if consent.revoked_at is not None and consent.revoked_at <= at:
        return "revoked"
    if consent.expires_at is not None and consent.expires_at <= at:
        return "expired"
    return "active"


def age_on(date_of_birth: date, day: date) -> int:
    """Completed years of age on `day`."""
    before_birthday = (day.month, day.day) < (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - int(before_birthday)


def _record(
    session: Session, actor: audit.Actor, action: str, patient: Patient, details: dict[str, object]
) -> None:
    audit.record(
        session,
        actor,
        action,
        clinic_id=patient.clinic_id,
        target_type="patient",
        target_id=patient.id,
        details=details,
    )


def _check_grantor(patient: Patient, data: ConsentCreate, granted_at: datetime) -> None:
    minor = (
        patient.date_of_birth is not None
        and age_on(patient.date_of_birth, granted_at.date()) < AGE_OF_MAJORITY
    )
    if minor and data.granted_by is not ConsentGrantor.GUARDIAN:
        raise InvalidInput(
            "This patient is under 18: consent must be given by a guardian "
            "(grantedBy GUARDIAN, with guardianName)."
        )
    if data.granted_by is ConsentGrantor.GUARDIAN and not data.guardian_name:
        raise InvalidInput("Name the guardian who gave this consent (guardianName).")


def grant_consent(
    session: Session, principal: StaffPrincipal, patient_id: uuid.UUID, data: ConsentCreate
) -> Consent:
    """Record a consent for a patient of the principal's clinics. A minor's (by date of birth;
    unknown means adult) must come from a named guardian."""
    patient = find_patient(session, principal, patient_id, action="consent.grant")
    if patient.status is PatientStatus.ARCHIVED:
        raise Conflict("This patient is archived; bring them back before recording consent.")
    now = utcnow()
    granted_at = data.granted_at or now
    if granted_at > now + CLOCK_SKEW:
        raise InvalidInput("grantedAt cannot be in the future.")
    if data.expires_at is not None and data.expires_at <= granted_at:
        raise InvalidInput("expiresAt must be after grantedAt.")
    _check_grantor(patient, data, granted_at)
    consent = repository.add(
        session,
        Consent(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            kind=data.kind,
            granted_by=data.granted_by,
            guardian_name=data.guardian_name
            if data.granted_by is ConsentGrantor.GUARDIAN
            else None,
            granted_at=granted_at,
            expires_at=data.expires_at,
            recorded_by_id=principal.user_id,
        ),
    )
    _record(
        session,
        principal.actor,
        "consent.grant",
        patient,
        {"consent_id": str(consent.id), "kind": consent.kind.value},
    )
    return consent


def list_consents(
    session: Session, principal: StaffPrincipal, patient_id: uuid.UUID
) -> list[Consent]:
    """Every consent of a patient of the principal's clinics, newest first."""
    patient = find_patient(session, principal, patient_id, action="consent.list")
    consents = repository.list_for_patient(session, patient.id)
    _record(session, principal.actor, "consent.list", patient, {"count": len(consents)})
    return consents


def revoke_consent(
    session: Session, principal: StaffPrincipal, patient_id: uuid.UUID, consent_id: uuid.UUID
) -> Consent:
    """Revoke a consent from now on; revoking a revoked consent changes nothing."""
    patient = find_patient(session, principal, patient_id, action="consent.revoke")
    consent = repository.get_for_patient(session, patient.id, consent_id)
    if consent is None:
        raise NotFound("No consent with this id.")
    already = consent.revoked_at is not None
    if not already:
        consent.revoked_at = utcnow()
        session.flush()
    _record(
        session,
        principal.actor,
        "consent.revoke",
        patient,
        {"consent_id": str(consent.id), "kind": consent.kind.value, "already_revoked": already},
    )
    return consent


def list_own_consents(session: Session, principal: PatientPrincipal) -> list[Consent]:
    """The signed-in patient's own consents, newest first."""
    consents = repository.list_for_patient(session, principal.patient_id)
    audit.record(
        session,
        principal.actor,
        "consent.list",
        target_type="patient",
        target_id=principal.patient_id,
        details={"count": len(consents)},
    )
    return consents


def require_valid_consent(
    session: Session, patient_id: uuid.UUID, kind: ConsentKind, at: datetime | None = None
) -> Consent:
    """The consent of `kind` in force for the patient at `at` (default now); raises
    `ConsentMissing` (422, "consent-required") when there is none. The caller has already
    checked that the patient is in its principal's clinic."""
    consent = repository.find_valid(session, patient_id, kind, at or utcnow())
    if consent is None:
        raise ConsentMissing(MISSING_MESSAGES[kind])
    return consent
