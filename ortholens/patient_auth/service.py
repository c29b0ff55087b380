"""Patient portal sign-in rules: checking an invitation, registering with it (once), login with
throttling, refresh and logout. Sessions and tokens are those of `ortholens.auth.service`.

    check_invite(db, token) -> InviteCheck
    register(db, signer, token=..., email=..., password=...) -> (Patient, IssuedTokens)
    sign_in_patient(db, signer, throttle_secret=..., email=..., password=...) -> (Patient, IssuedTokens)
    refresh_patient(db, signer, token) -> IssuedTokens
    sign_out(db, principal) -> None
    own_profile(db, principal) -> Patient
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth import service as auth_service
from ortholens.auth import throttle
from ortholens.auth.principals import PatientPrincipal
from ortholens.auth.service import BAD_CREDENTIALS, IssuedTokens
from ortholens.auth.tokens import TokenSigner, token_digest
from ortholens.kit.db import utcnow
from ortholens.kit.errors import Conflict, NotFound, OrthoLensError, Unauthorized
from ortholens.kit.passwords import hash_password
from ortholens.models import (
    ActorType,
    AuditOutcome,
    Patient,
    PatientInvite,
    PatientStatus,
    SubjectType,
)
from ortholens.patient_auth import repository
from ortholens.patient_auth.schemas import InviteProblem

THROTTLE_REALM = "patient"

UNKNOWN_INVITE = "This invitation link is not valid; ask your clinic for a new one."
PROBLEM_DETAILS: dict[InviteProblem, str] = {
    "unknown": UNKNOWN_INVITE,
    "expired": "This invitation has expired; ask your clinic for a new one.",
    "revoked": "This invitation was replaced or withdrawn; ask your clinic for the newest link.",
    "used": "This invitation has already been used; sign in instead.",
}


class InviteUnusable(OrthoLensError):
    """An invitation that existed but can no longer be used (expired or withdrawn)."""

    status_code = 410
    slug = "invite-unusable"
    title = "Invitation no longer valid"


@dataclass(frozen=True)
class InviteCheck:
    """What the registration page may show: the first name only, never the full record."""

    valid: bool
    patient_first_name: str | None = None
    email: str | None = None
    reason: InviteProblem | None = None


def _problem(invite: PatientInvite, patient: Patient, now: datetime) -> InviteProblem | None:
    if invite.used_at is not None:
        return "used"
    if invite.voided_at is not None or patient.status is PatientStatus.ARCHIVED:
        return "revoked"
    if invite.expires_at <= now:
        return "expired"
    return None


def _load(session: Session, token: str) -> tuple[PatientInvite, Patient] | None:
    invite = repository.find_invite(session, token_digest(token))
    patient = session.get(Patient, invite.patient_id) if invite else None
    return (invite, patient) if invite and patient else None


def _actor(patient: Patient) -> audit.Actor:
    return audit.Actor(ActorType.PATIENT, patient.id, patient.clinic_id)


def check_invite(session: Session, token: str) -> InviteCheck:
    """Whether an invitation link can still be used, and whom it is for."""
    found = _load(session, token)
    if found is None:
        return InviteCheck(valid=False, reason="unknown")
    invite, patient = found
    problem = _problem(invite, patient, utcnow())
    if problem is not None:
        return InviteCheck(valid=False, reason=problem)
    audit.record(
        session,
        audit.ANONYMOUS,
        "patient.invite_check",
        clinic_id=patient.clinic_id,
        target_type="patient",
        target_id=patient.id,
        details={"invite_id": str(invite.id)},
    )
    return InviteCheck(valid=True, patient_first_name=patient.first_name, email=invite.email)


def _refuse(
    session: Session, problem: InviteProblem, found: tuple[PatientInvite, Patient] | None
) -> OrthoLensError:
    if found is None:
        audit.record_denied(
            session, audit.ANONYMOUS, "patient.register", details={"reason": problem}
        )
        return NotFound(UNKNOWN_INVITE)
    invite, patient = found
    audit.record_denied(
        session,
        audit.ANONYMOUS,
        "patient.register",
        clinic_id=patient.clinic_id,
        target_type="patient",
        target_id=patient.id,
        details={"reason": problem, "invite_id": str(invite.id)},
    )
    detail = PROBLEM_DETAILS[problem]
    return Conflict(detail) if problem == "used" else InviteUnusable(detail)


def register(
    session: Session, signer: TokenSigner, *, token: str, email: str, password: str
) -> tuple[Patient, IssuedTokens]:
    """Create the patient's portal account from an invitation, in the caller's transaction, and
    sign them in. The invitation works once, even for two registrations at the same moment."""
    now = utcnow()
    found = _load(session, token)
    if found is None:
        raise _refuse(session, "unknown", None)
    invite, patient = found
    problem = _problem(invite, patient, now)
    if problem is not None:
        raise _refuse(session, problem, found)
    auth_service.check_password_strength(password)
    email = email.strip().lower()
    other = repository.find_patient_by_email(session, email)
    if other is not None and other.id != patient.id:
        raise _email_taken()
    password_hash = hash_password(password)
    # The conditional UPDATE decides which of two concurrent registrations wins; it comes before
    # any other write (and the audit chain's lock) so the loser waits on this row alone.
    if not repository.mark_invite_used(session, invite.id, now):
        raise _refuse(session, "used", found)
    patient.portal_email = email
    patient.portal_password_hash = password_hash
    patient.onboarded_at = now
    try:
        session.flush()
    except IntegrityError:
        # Another patient took this address at the same moment (the unique constraint saw it).
        raise _email_taken() from None
    tokens = auth_service.open_session(session, signer, patient=patient)
    audit.record(
        session,
        _actor(patient),
        "patient.register",
        target_type="patient",
        target_id=patient.id,
        details={"invite_id": str(invite.id), "session_id": str(tokens.session_id)},
    )
    return patient, tokens


def _email_taken() -> Conflict:
    return Conflict(
        "This e-mail address is already used by another patient account; use another address."
    )


def sign_in_patient(
    session: Session, signer: TokenSigner, *, throttle_secret: bytes, email: str, password: str
) -> tuple[Patient, IssuedTokens]:
    """Check a patient's e-mail and password; throttled per account and per address, with one
    answer (and similar timing) for an unknown e-mail and a wrong password."""
    attempt = throttle.SignInAttempt.begin(session, throttle_secret, THROTTLE_REALM, email)
    patient = repository.find_patient_by_email(session, email)
    stored_hash = patient.portal_password_hash if patient else None
    password_ok = attempt.password_matches(stored_hash, password)

    def fail(reason: str) -> Unauthorized:
        attempt.failed(session)
        audit.record_denied(
            session,
            _actor(patient) if patient else audit.ANONYMOUS,
            "patient.login",
            outcome=AuditOutcome.FAILURE,
            details={"reason": reason},
        )
        return Unauthorized(BAD_CREDENTIALS)

    if patient is None or not password_ok:
        raise fail("bad_credentials")
    if patient.status is PatientStatus.ARCHIVED:
        raise fail("archived")
    attempt.succeeded(session)
    tokens = auth_service.open_session(session, signer, patient=patient)
    audit.record(
        session,
        _actor(patient),
        "patient.login",
        target_type="session",
        target_id=tokens.session_id,
    )
    return patient, tokens


def refresh_patient(session: Session, signer: TokenSigner, token: str) -> IssuedTokens:
    """New tokens for a patient's refresh token (single use; a replay ends the session)."""
    return auth_service.refresh(session, signer, token, subject_type=SubjectType.PATIENT)


def sign_out(session: Session, principal: PatientPrincipal) -> None:
    """End the patient's current session; its tokens stop working at once."""
    auth_service.end_session(session, principal.session_id, principal.actor)


def own_profile(session: Session, principal: PatientPrincipal) -> Patient:
    """The signed-in patient's own record (audited as a read by the patient)."""
    patient = session.get(Patient, principal.patient_id)
    if patient is None:
        raise Unauthorized("Your sign-in has ended; please sign in again.")
    audit.record(
        session, principal.actor, "patient.read", target_type="patient", target_id=patient.id
    )
    return patient
