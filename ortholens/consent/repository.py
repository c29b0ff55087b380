"""All SQL of consents."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ortholens.models import Consent, ConsentKind


def list_for_patient(session: Session, patient_id: uuid.UUID) -> list[Consent]:
    """A patient's consents, newest grant first."""
    return list(
        session.scalars(
            select(Consent)
            .where(Consent.patient_id == patient_id)
            .order_by(Consent.granted_at.desc(), Consent.id)
        )
    )


def get_for_patient(
    session: Session, patient_id: uuid.UUID, consent_id: uuid.UUID
) -> Consent | None:
    return session.scalar(
        select(Consent).where(Consent.id == consent_id, Consent.patient_id == patient_id)
    )


def add(session: Session, consent: Consent) -> Consent:
    session.add(consent)
    session.flush()
    return consent


def find_valid(
    session: Session, patient_id: uuid.UUID, kind: ConsentKind, at: datetime
) -> Consent | None:
    """The most recent consent of `kind` in force at `at` (granted, not expired, not revoked)."""
    return session.scalar(
        select(Consent)
        .where(
            Consent.patient_id == patient_id,
            Consent.kind == kind,
            Consent.granted_at <= at,
            or_(Consent.expires_at.is_(None), Consent.expires_at > at),
            or_(Consent.revoked_at.is_(None), Consent.revoked_at > at),
        )
        .order_by(Consent.granted_at.desc(), Consent.id)
        .limit(1)
    )
