"""Push subscriptions and what we tell patients (seed 004 section 6).

Subscribing upserts by endpoint: a browser that subscribes again (or a shared tablet now used by
another patient of the clinic) updates its one row. Sending happens in the `notify.push` job: a
listener on `scan.reviewed` and on `message.sent` (from the clinic) requests it after commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth.principals import PatientPrincipal
from ortholens.dashboard.rules import patient_compliance
from ortholens.kit.db import utcnow
from ortholens.models import PushSubscription
from ortholens.notify import repository
from ortholens.notify.webpush import PushPayload, check_endpoint_url

# Reminders: at most one a day; 20 h rather than 24 so a daily run a little earlier still sends.
REMINDER_GAP = timedelta(hours=20)
PORTAL_HOME = "/home"


def subscribe(
    db: Session,
    principal: PatientPrincipal,
    *,
    endpoint: str,
    p256dh: str,
    auth: str,
    user_agent: str | None,
    allow_insecure_endpoints: bool,
) -> PushSubscription:
    """Create or update the subscription with this endpoint for the signed-in patient."""
    check_endpoint_url(endpoint, allow_insecure_endpoints=allow_insecure_endpoints)
    row = repository.subscription_by_endpoint(db, endpoint)
    if row is None:
        row = PushSubscription(endpoint=endpoint)
        db.add(row)
    row.clinic_id, row.patient_id = principal.clinic_id, principal.patient_id
    row.p256dh, row.auth = p256dh, auth
    row.user_agent = (user_agent or "")[:300] or None
    row.updated_at = utcnow()
    db.flush()
    audit.record(
        db,
        principal.actor,
        "push_subscription.upsert",
        target_type="push_subscription",
        target_id=row.id,
    )
    return row


def unsubscribe(db: Session, principal: PatientPrincipal, endpoint: str) -> bool:
    removed = repository.delete_patient_subscription(db, principal.patient_id, endpoint)
    if removed:
        audit.record(
            db,
            principal.actor,
            "push_subscription.delete",
            target_type="patient",
            target_id=principal.patient_id,
        )
    return removed


def subscriptions_of(db: Session, patient_id: uuid.UUID) -> list[PushSubscription]:
    """Every device the patient gets notifications on."""
    return repository.subscriptions_of(db, patient_id)


# What a notification says. No PHI beyond what the patient's own device may show: no names.


def scan_reviewed_payload(status: str) -> PushPayload:
    if status == "NEEDS_RETAKE":
        return PushPayload(
            title="Please retake your photos",
            body="Your orthodontist asked for a new set of photos.",
            url=PORTAL_HOME,
            tag="scan-reviewed",
        )
    return PushPayload(
        title="Scan reviewed",
        body="Your orthodontist has reviewed your latest photos.",
        url=PORTAL_HOME,
        tag="scan-reviewed",
    )


def message_payload(thread_id: uuid.UUID) -> PushPayload:
    return PushPayload(
        title="New message",
        body="You have a new message from your orthodontist.",
        url=f"/portal/messages/{thread_id}",
        tag=f"thread-{thread_id}",
    )


def reminder_payload() -> PushPayload:
    return PushPayload(
        title="Time for your check-in",
        body="Your next progress photos are due. It takes about two minutes.",
        url=PORTAL_HOME,
        tag="scan-reminder",
    )


@dataclass(frozen=True)
class DuePatient:
    patient_id: uuid.UUID
    clinic_id: uuid.UUID
    days_since: int


def due_for_reminder(db: Session, now: datetime) -> list[DuePatient]:
    """Active patients with a push subscription whose next scan is due (or overdue) today and
    who were not reminded in the last day."""
    due = []
    for patient, last_at in repository.subscribed_active_patients(db, now - REMINDER_GAP):
        entry = patient_compliance(patient, last_at, now)
        # Due on the day the frequency is reached, and every day after until they scan.
        if entry.days_since >= entry.frequency_days:
            due.append(DuePatient(patient.id, patient.clinic_id, entry.days_since))
    return due


def claim_reminder(db: Session, patient_id: uuid.UUID, now: datetime) -> bool:
    """Mark the patient reminded, unless another worker just did (conditional update)."""
    return repository.claim_reminder(db, patient_id, now, now - REMINDER_GAP)
