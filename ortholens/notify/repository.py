"""All SQL of push subscriptions and scan reminders."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ortholens.models import Patient, PatientStatus, PushSubscription, ScanSession


def subscription_by_endpoint(session: Session, endpoint: str) -> PushSubscription | None:
    """The one row of a browser's push endpoint, whoever it belongs to now."""
    return session.scalars(
        select(PushSubscription).where(PushSubscription.endpoint == endpoint)
    ).first()


def get_subscription(session: Session, subscription_id: uuid.UUID) -> PushSubscription | None:
    return session.get(PushSubscription, subscription_id)


def subscriptions_of(session: Session, patient_id: uuid.UUID) -> list[PushSubscription]:
    return list(
        session.scalars(select(PushSubscription).where(PushSubscription.patient_id == patient_id))
    )


def has_subscriptions(session: Session, patient_id: uuid.UUID) -> bool:
    count = session.scalar(
        select(func.count())
        .select_from(PushSubscription)
        .where(PushSubscription.patient_id == patient_id)
    )
    return bool(count)


def delete_patient_subscription(session: Session, patient_id: uuid.UUID, endpoint: str) -> bool:
    """Remove the patient's subscription with this endpoint; False when they had none."""
    result = session.execute(
        delete(PushSubscription).where(
            PushSubscription.endpoint == endpoint,
            PushSubscription.patient_id == patient_id,
        )
    )
    return bool(getattr(result, "rowcount", 0))


def delete_subscription(session: Session, subscription_id: uuid.UUID) -> None:
    """Remove a subscription by id (no-op when it is already gone)."""
    session.execute(delete(PushSubscription).where(PushSubscription.id == subscription_id))


def subscribed_active_patients(
    session: Session, not_reminded_since: datetime
) -> list[tuple[Patient, datetime | None]]:
    """Active patients with a push subscription, not reminded after `not_reminded_since`, each
    with the time of their latest scan session (None if they never scanned)."""
    last_scan = (
        select(ScanSession.created_at)
        .where(ScanSession.patient_id == Patient.id)
        .order_by(ScanSession.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Patient, last_scan)
        .where(
            Patient.status == PatientStatus.ACTIVE,
            Patient.id.in_(select(PushSubscription.patient_id)),
            (Patient.last_scan_reminder_at.is_(None))
            | (Patient.last_scan_reminder_at <= not_reminded_since),
        )
        .order_by(Patient.id)
    )
    return [(row[0], row[1]) for row in rows]


def claim_reminder(
    session: Session, patient_id: uuid.UUID, now: datetime, not_reminded_since: datetime
) -> bool:
    """Set the patient's reminder time to `now` unless it is after `not_reminded_since` already
    (a conditional update, so two workers cannot both claim one patient)."""
    result = session.execute(
        update(Patient)
        .where(
            Patient.id == patient_id,
            (Patient.last_scan_reminder_at.is_(None))
            | (Patient.last_scan_reminder_at <= not_reminded_since),
        )
        .values(last_scan_reminder_at=now)
    )
    return bool(getattr(result, "rowcount", 0))
