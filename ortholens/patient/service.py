"""Patient rules: tenancy, who may be a patient's doctor, archiving, and portal invitations.

Functions take the signed-in `StaffPrincipal` and a session they never commit. Every read and write
of a patient appends an audit event in the same transaction; a try at another clinic's patient is
answered exactly like an unknown id (NotFound) and audited as denied.

    create_patient(db, principal, data) -> Patient
    list_patients(db, principal, query) -> (patients, next_cursor)
    get_patient(db, principal, patient_id) -> Patient
    update_patient(db, principal, patient_id, data) -> Patient
    archive_patient(db, principal, patient_id) -> Patient
    invite_patient(db, principal, patient_id, email=..., public_url=...) -> IssuedInvite
    find_patient(db, principal, patient_id, action=...) -> Patient   (scoped, no success event)
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth import repository as auth_repository
from ortholens.auth.policy import Permission, allowed
from ortholens.auth.principals import StaffPrincipal
from ortholens.auth.tokens import INVITE_TTL, token_digest
from ortholens.clinic.tenancy import find_in_clinic, target_clinic
from ortholens.kit.db import utcnow
from ortholens.kit.errors import Conflict, Forbidden, InvalidInput
from ortholens.models import Patient, PatientInvite, PatientStatus, Role
from ortholens.patient import repository
from ortholens.patient.schemas import PatientCreate, PatientUpdate

MAX_PAGE_SIZE = 100
NOT_FOUND = "No patient with this id."
TARGET = "patient"


@dataclass(frozen=True)
class PatientQuery:
    """What the patient list asks for. `clinic_id` narrows a super admin's list to one clinic."""

    search: str | None = None
    status: PatientStatus | None = None
    doctor_id: uuid.UUID | None = None
    clinic_id: uuid.UUID | None = None
    cursor: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class IssuedInvite:
    """A new invitation. `token` exists only here: the database keeps its SHA-256."""

    invite_id: uuid.UUID
    token: str
    invite_url: str
    expires_at: datetime


def find_patient(
    session: Session, principal: StaffPrincipal, patient_id: uuid.UUID, *, action: str
) -> Patient:
    """The patient if it is in the principal's clinics; else NotFound (audited as a denied
    `action` when the patient exists in another clinic)."""
    return find_in_clinic(
        session,
        principal,
        Patient,
        patient_id,
        action=action,
        target_type=TARGET,
        not_found=NOT_FOUND,
    )


def _record(
    session: Session,
    principal: StaffPrincipal,
    action: str,
    patient: Patient,
    details: dict[str, object] | None = None,
) -> None:
    # On the patient's clinic chain, so a super admin's actions show in that clinic's trail too.
    audit.record(
        session,
        principal.actor,
        action,
        clinic_id=patient.clinic_id,
        target_type=TARGET,
        target_id=patient.id,
        details=dict(details or {}),
    )


def _check_doctor(session: Session, doctor_id: uuid.UUID, clinic_id: uuid.UUID) -> None:
    doctor = repository.get_user(session, doctor_id)
    if (
        doctor is None
        or doctor.clinic_id != clinic_id
        or doctor.role is not Role.DOCTOR
        or doctor.disabled_at is not None
    ):
        raise InvalidInput("doctorId must name an active doctor of the patient's clinic.")


def _check_not_archiving(status: PatientStatus | None) -> None:
    if status is PatientStatus.ARCHIVED:
        raise InvalidInput("Use the archive action to archive a patient.")


def create_patient(session: Session, principal: StaffPrincipal, data: PatientCreate) -> Patient:
    """Add a patient to the principal's clinic (a super admin names the clinic)."""
    clinic_id = target_clinic(session, principal, data.clinic_id)
    _check_not_archiving(data.status)
    if data.doctor_id is not None:
        _check_doctor(session, data.doctor_id, clinic_id)
    patient = repository.add(
        session,
        Patient(
            clinic_id=clinic_id,
            doctor_id=data.doctor_id,
            first_name=data.first_name,
            last_name=data.last_name,
            date_of_birth=data.date_of_birth,
            status=data.status,
            scan_frequency_days=data.scan_frequency_days,
            guardian_name=data.guardian_name,
            guardian_email=data.guardian_email.lower() if data.guardian_email else None,
        ),
    )
    _record(session, principal, "patient.create", patient)
    return patient


def list_patients(
    session: Session, principal: StaffPrincipal, query: PatientQuery
) -> tuple[list[Patient], str | None]:
    """One page of the principal's patients, by name; the cursor for the next page or None."""
    limit = max(1, min(query.limit, MAX_PAGE_SIZE))
    scope = principal.clinic_scope if principal.clinic_scope is not None else query.clinic_id
    after = None
    if query.cursor:
        try:
            cursor_id = uuid.UUID(query.cursor)
        except ValueError:
            raise InvalidInput("The cursor is not valid; start from the first page.") from None
        after = repository.sort_key(session, cursor_id, scope)
        if after is None:
            raise InvalidInput("The cursor is not valid; start from the first page.")
    where = repository.PatientFilter(
        clinic_scope=scope,
        search=query.search.strip() if query.search and query.search.strip() else None,
        status=query.status,
        doctor_id=query.doctor_id,
    )
    rows = repository.list_patients(session, where, after=after, limit=limit + 1)
    page = rows[:limit]
    audit.record(
        session,
        principal.actor,
        "patient.list",
        clinic_id=scope,
        details={"count": len(page), "searched": where.search is not None},
    )
    return page, str(page[-1].id) if len(rows) > limit else None


def get_patient(session: Session, principal: StaffPrincipal, patient_id: uuid.UUID) -> Patient:
    """One patient of the principal's clinics (NotFound for any other id)."""
    patient = find_patient(session, principal, patient_id, action="patient.read")
    _record(session, principal, "patient.read", patient)
    return patient


def update_patient(
    session: Session, principal: StaffPrincipal, patient_id: uuid.UUID, data: PatientUpdate
) -> Patient:
    """Change the fields sent. Bringing an archived patient back needs the archive permission."""
    patient = find_patient(session, principal, patient_id, action="patient.update")
    changes = data.changes()
    status = changes.get("status")
    _check_not_archiving(data.status if "status" in changes else None)
    if (
        patient.status is PatientStatus.ARCHIVED
        and status is not None
        and not allowed(principal.role, Permission.PATIENTS_ARCHIVE)
    ):
        audit.record_denied(
            session, principal.actor, "patient.update", target_type=TARGET, target_id=patient.id
        )
        raise Forbidden(f"Your role does not allow this ({Permission.PATIENTS_ARCHIVE.value}).")
    if changes.get("doctor_id") is not None:
        assert isinstance(changes["doctor_id"], uuid.UUID)
        _check_doctor(session, changes["doctor_id"], patient.clinic_id)
    if isinstance(changes.get("guardian_email"), str):
        changes["guardian_email"] = str(changes["guardian_email"]).lower()
    changed = sorted(name for name, value in changes.items() if getattr(patient, name) != value)
    for name in changed:
        setattr(patient, name, changes[name])
    session.flush()
    _record(session, principal, "patient.update", patient, {"fields": changed})
    return patient


def archive_patient(session: Session, principal: StaffPrincipal, patient_id: uuid.UUID) -> Patient:
    """Archive a patient: their portal sign-ins end at once and open invitations are voided.
    Archiving an archived patient changes nothing."""
    patient = find_patient(session, principal, patient_id, action="patient.archive")
    already = patient.status is PatientStatus.ARCHIVED
    if not already:
        now = utcnow()
        patient.status = PatientStatus.ARCHIVED
        auth_repository.revoke_sessions(session, reason="archived", now=now, patient_id=patient.id)
        repository.void_open_invites(session, patient.id, now)
        session.flush()
    _record(session, principal, "patient.archive", patient, {"already_archived": already})
    return patient


def invite_patient(
    session: Session,
    principal: StaffPrincipal,
    patient_id: uuid.UUID,
    *,
    email: str | None,
    public_url: str,
) -> IssuedInvite:
    """Issue a 7-day, single-use portal invitation (32 random bytes, hex); older unused ones
    stop working. Refused for archived patients and for patients who already registered."""
    patient = find_patient(session, principal, patient_id, action="patient.invite")
    if patient.status is PatientStatus.ARCHIVED:
        raise Conflict("This patient is archived; bring them back before inviting them.")
    if patient.has_portal_account:
        raise Conflict("This patient already has a portal account; they can sign in.")
    now = utcnow()
    token = secrets.token_hex(32)
    repository.void_open_invites(session, patient.id, now)
    invite = repository.add_invite(
        session,
        PatientInvite(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            token_hash=token_digest(token),
            email=email.strip().lower() if email else None,
            expires_at=now + INVITE_TTL,
            created_by_id=principal.user_id,
        ),
    )
    _record(session, principal, "patient.invite", patient, {"invite_id": str(invite.id)})
    return IssuedInvite(
        invite_id=invite.id,
        token=token,
        invite_url=f"{public_url.rstrip('/')}/register/{token}",
        expires_at=invite.expires_at,
    )
