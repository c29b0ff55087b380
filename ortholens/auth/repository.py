"""All SQL of sign-in: sessions, refresh tokens and throttle buckets."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from ortholens.models import AuthSession, RateLimitBucket, RefreshToken, User


def get_session(session: Session, session_id: uuid.UUID) -> AuthSession | None:
    return session.get(AuthSession, session_id)


def find_refresh(session: Session, token_hash: str) -> RefreshToken | None:
    return session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))


def mark_refresh_used(session: Session, token_id: uuid.UUID, now: datetime) -> bool:
    """Use a refresh token once; False when it had already been used (a replay)."""
    result = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    assert isinstance(result, CursorResult)
    return bool(result.rowcount)


def revoke_sessions(
    session: Session,
    *,
    reason: str,
    now: datetime,
    session_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
) -> None:
    query = update(AuthSession).where(AuthSession.revoked_at.is_(None))
    if session_id is not None:
        query = query.where(AuthSession.id == session_id)
    elif user_id is not None:
        query = query.where(AuthSession.user_id == user_id)
    elif patient_id is not None:
        query = query.where(AuthSession.patient_id == patient_id)
    else:
        raise ValueError("say which sessions to revoke")
    session.execute(query.values(revoked_at=now, revoked_reason=reason))


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def get_bucket(session: Session, key: str) -> RateLimitBucket | None:
    return session.get(RateLimitBucket, key)


def delete_bucket(session: Session, bucket: RateLimitBucket) -> None:
    session.delete(bucket)
