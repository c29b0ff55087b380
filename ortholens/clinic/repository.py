"""All SQL of clinics and staff."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ortholens.models import Clinic, Role, User


def get_clinic(session: Session, clinic_id: uuid.UUID) -> Clinic | None:
    return session.get(Clinic, clinic_id)


def get_user(session: Session, user_id: uuid.UUID) -> User | None:
    return session.get(User, user_id)


def clinic_by_name(session: Session, name: str) -> Clinic | None:
    """The first clinic with exactly this name (names are not unique; the demo's is ours)."""
    return session.scalars(select(Clinic).where(Clinic.name == name).limit(1)).first()


def email_taken(session: Session, email: str) -> bool:
    return session.scalar(select(User.id).where(User.email == email).limit(1)) is not None


def list_staff(session: Session, clinic_id: uuid.UUID | None) -> list[User]:
    query = select(User).order_by(User.full_name, User.id)
    if clinic_id is not None:
        query = query.where(User.clinic_id == clinic_id)
    return list(session.scalars(query))


def count_active_admins(session: Session, clinic_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(
                User.clinic_id == clinic_id,
                User.role == Role.CLINIC_ADMIN,
                User.disabled_at.is_(None),
            )
        )
        or 0
    )
