"""Sign-in rules: sessions, refresh rotation with reuse detection, logout, passwords, TOTP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth import mfa, repository, throttle
from ortholens.auth.tokens import ACCESS_TTL, REFRESH_TTL, TokenSigner, TokenType, token_digest
from ortholens.kit.db import defer_on_rollback, utcnow
from ortholens.kit.errors import InvalidInput, OrthoLensError, Unauthorized
from ortholens.kit.passwords import hash_password, verify_password
from ortholens.models import (
    ActorType,
    AuditOutcome,
    AuthSession,
    Clinic,
    Patient,
    RefreshToken,
    SubjectType,
    User,
)

MIN_PASSWORD_LENGTH = 10
BAD_CREDENTIALS = "The e-mail or password is not right."


class MfaRequired(Unauthorized):
    slug = "mfa-required"
    title = "Two-factor code required"


@dataclass(frozen=True)
class IssuedTokens:
    session_id: uuid.UUID
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    csrf_token: str  # bound to the session (`TokenSigner.csrf_token`)


def check_password_strength(password: str) -> None:
    """Refuse passwords a user could not keep safe (length is what matters most)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > 256:
        raise InvalidInput("Choose a password of at most 256 characters.")


def _issue(
    session: Session, signer: TokenSigner, auth: AuthSession, *, version: int, now: datetime
) -> IssuedTokens:
    subject = auth.user_id if auth.subject_type is SubjectType.STAFF else auth.patient_id
    assert subject is not None
    access_type = TokenType.STAFF if auth.subject_type is SubjectType.STAFF else TokenType.PATIENT
    access, access_exp = signer.issue(
        access_type, subject, now=now, ttl=ACCESS_TTL, session_id=auth.id, version=version
    )
    refresh, refresh_exp = signer.issue(
        TokenType.REFRESH, subject, now=now, ttl=REFRESH_TTL, session_id=auth.id, version=version
    )
    session.add(
        RefreshToken(session_id=auth.id, token_hash=token_digest(refresh), expires_at=refresh_exp)
    )
    session.flush()
    return IssuedTokens(
        auth.id, access, access_exp, refresh, refresh_exp, signer.csrf_token(auth.id)
    )


def open_session(
    session: Session,
    signer: TokenSigner,
    *,
    user: User | None = None,
    patient: Patient | None = None,
) -> IssuedTokens:
    """Start a sign-in session for a staff member or a patient and issue its first tokens."""
    now = utcnow()
    if user is not None:
        auth = AuthSession(
            subject_type=SubjectType.STAFF,
            user_id=user.id,
            clinic_id=user.clinic_id,
            expires_at=now + REFRESH_TTL,
        )
        version = user.token_version
    elif patient is not None:
        auth = AuthSession(
            subject_type=SubjectType.PATIENT,
            patient_id=patient.id,
            clinic_id=patient.clinic_id,
            expires_at=now + REFRESH_TTL,
        )
        version = 0
    else:
        raise ValueError("a session needs a user or a patient")
    session.add(auth)
    session.flush()
    return _issue(session, signer, auth, version=version, now=now)


def refresh(
    session: Session, signer: TokenSigner, token: str, *, subject_type: SubjectType
) -> IssuedTokens:
    """Exchange a refresh token for new tokens. A token used twice revokes its whole session."""
    now = utcnow()
    claims = signer.decode(token, TokenType.REFRESH)
    stored = repository.find_refresh(session, token_digest(token))
    auth = repository.get_session(session, claims.session_id) if claims.session_id else None
    if stored is None or auth is None or auth.subject_type is not subject_type:
        raise Unauthorized("Your sign-in has ended; please sign in again.")
    if auth.revoked_at is not None or auth.expires_at <= now or stored.expires_at <= now:
        raise Unauthorized("Your sign-in has ended; please sign in again.")
    if not repository.mark_refresh_used(session, stored.id, now):
        # A replayed refresh token: someone else holds a copy. End the whole family.
        session_id, clinic_id = auth.id, auth.clinic_id
        actor_type = ActorType.USER if subject_type is SubjectType.STAFF else ActorType.PATIENT

        def revoke(after: Session) -> None:
            repository.revoke_sessions(
                after, reason="refresh_reuse", now=now, session_id=session_id
            )

        defer_on_rollback(session, revoke)
        audit.record_denied(
            session,
            audit.Actor(actor_type, claims.subject, clinic_id),
            "auth.refresh_reuse",
            target_type="session",
            target_id=session_id,
        )
        raise Unauthorized("Your sign-in has ended; please sign in again.")
    version = 0
    if subject_type is SubjectType.STAFF:
        user = session.get(User, auth.user_id)
        if user is None or user.disabled_at is not None or user.token_version != claims.version:
            raise Unauthorized("Your sign-in has ended; please sign in again.")
        version = user.token_version
    return _issue(session, signer, auth, version=version, now=now)


def end_session(session: Session, session_id: uuid.UUID, actor: audit.Actor) -> None:
    """Sign out: the session's access and refresh tokens stop working at once."""
    repository.revoke_sessions(session, reason="logout", now=utcnow(), session_id=session_id)
    audit.record(session, actor, "auth.logout", target_type="session", target_id=session_id)


def sign_in_staff(
    session: Session,
    signer: TokenSigner,
    *,
    throttle_secret: bytes,
    mfa_key: bytes,
    email: str,
    password: str,
    totp_code: str | None,
) -> tuple[User, IssuedTokens]:
    """Check e-mail, password and (when enrolled) the TOTP code; throttled per account and address."""
    attempt = throttle.SignInAttempt.begin(session, throttle_secret, "staff", email)
    user = repository.find_user_by_email(session, email)
    password_ok = attempt.password_matches(user.password_hash if user else None, password)

    def fail(reason: str, error: OrthoLensError | None = None) -> OrthoLensError:
        attempt.failed(session)
        audit.record_denied(
            session,
            audit.Actor(ActorType.USER, user.id, user.clinic_id) if user else audit.ANONYMOUS,
            "auth.login",
            outcome=AuditOutcome.FAILURE,
            details={"reason": reason},
        )
        return error or Unauthorized(BAD_CREDENTIALS)

    if user is None or not password_ok:
        raise fail("bad_credentials")
    if user.disabled_at is not None:
        raise fail("disabled")
    if user.mfa_secret and user.mfa_enabled_at:
        if not totp_code:
            # Only someone who knows the password learns that a code is needed.
            raise MfaRequired("Enter the 6-digit code from your authenticator app.")
        secret = mfa.unseal_secret(mfa_key, user.id, user.mfa_secret)
        if not mfa.code_is_valid(secret, totp_code):
            raise fail("bad_totp", Unauthorized("The two-factor code is not right."))
    attempt.succeeded(session)
    tokens = open_session(session, signer, user=user)
    audit.record(
        session,
        audit.Actor(ActorType.USER, user.id, user.clinic_id),
        "auth.login",
        target_type="session",
        target_id=tokens.session_id,
    )
    return user, tokens


def change_password(session: Session, user: User, *, current: str, new: str) -> None:
    """Change a staff password. Every session of the user ends at once (the caller opens a new
    one for the device that made the change)."""
    if not verify_password(user.password_hash, current):
        raise InvalidInput("The current password is not right.")
    check_password_strength(new)
    user.password_hash = hash_password(new)
    end_all_sessions(session, user, reason="password_change")
    audit.record(
        session,
        audit.Actor(ActorType.USER, user.id, user.clinic_id),
        "auth.password_change",
        target_type="user",
        target_id=user.id,
    )


def end_all_sessions(session: Session, user: User, *, reason: str) -> None:
    """End every session of `user`; their unexpired access tokens stop working too."""
    repository.revoke_sessions(session, reason=reason, now=utcnow(), user_id=user.id)
    user.token_version += 1
    session.flush()


def clinic_requires_mfa(clinic: Clinic | None) -> bool:
    return bool(clinic and clinic.settings.get("require_mfa"))
