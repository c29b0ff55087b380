"""Seed 004 section 5 and the compliance calculation, over one clinic (a super admin may name one
with `clinicId`, or see every clinic where the figure allows it)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth.principals import Authorized
from ortholens.clinic.tenancy import target_clinic
from ortholens.dashboard import repository
from ortholens.dashboard.rules import (
    ANALYTICS_WINDOW_DAYS,
    ComplianceEntry,
    discount_tier,
    patient_compliance,
    percentage,
)
from ortholens.dashboard.schemas import FeedItem, OverduePatient, Summary, TagAnalytics
from ortholens.kit.db import utcnow
from ortholens.messaging.repository import recent_messages
from ortholens.models import Clinic, MessageThread, Patient

FEED_SCANS, FEED_MESSAGES, FEED_TAG_SETS = 20, 10, 10
PREVIEW_CHARS = 80


def clinic_filter(auth: Authorized, requested: uuid.UUID | None) -> uuid.UUID | None:
    """The clinic a read is limited to: the principal's own, or what a super admin asked for."""
    return auth.principal.clinic_scope or requested


def _name(patient: Patient) -> str:
    return f"{patient.first_name} {patient.last_name}"


def compliance(
    db: Session, clinic_id: uuid.UUID | None, now: datetime
) -> list[tuple[Patient, ComplianceEntry]]:
    return [
        (
            patient,
            patient_compliance(patient, last_at, now),
        )
        for patient, last_at in repository.active_patients_with_last_scan(db, clinic_id)
    ]


def _tagging(db: Session, clinic_id: uuid.UUID | None, now: datetime) -> tuple[datetime, int, int]:
    since = now - timedelta(days=ANALYTICS_WINDOW_DAYS)
    total, tagged = repository.sessions_since(db, clinic_id, since)
    return since, total, tagged


def summary(db: Session, auth: Authorized, requested: uuid.UUID | None) -> Summary:
    clinic_id = clinic_filter(auth, requested)
    now = utcnow()
    entries = compliance(db, clinic_id, now)
    _, total, tagged = _tagging(db, clinic_id, now)
    audit.record(db, auth.principal.actor, "dashboard.summary", clinic_id=clinic_id)
    return Summary(
        pending_scans=repository.pending_sessions(db, clinic_id),
        total_patients=len(entries),
        compliance_percentage=percentage(sum(e.on_time for _, e in entries), len(entries)),
        tagging_rate=percentage(tagged, total),
    )


def overdue(db: Session, auth: Authorized, requested: uuid.UUID | None) -> list[OverduePatient]:
    """Active patients past their scan frequency, most overdue first."""
    clinic_id = clinic_filter(auth, requested)
    rows = [(p, e) for p, e in compliance(db, clinic_id, utcnow()) if not e.on_time]
    rows.sort(key=lambda row: -row[1].days_overdue)
    audit.record(
        db,
        auth.principal.actor,
        "dashboard.overdue",
        clinic_id=clinic_id,
        details={"count": len(rows)},
    )
    return [
        OverduePatient(
            patient_id=patient.id,
            patient_name=_name(patient),
            last_scan_at=entry.last_scan_at,
            counted_from=entry.counted_from,
            days_since=entry.days_since,
            frequency_days=entry.frequency_days,
            days_overdue=entry.days_overdue,
        )
        for patient, entry in rows
    ]


def feed(db: Session, auth: Authorized, requested: uuid.UUID | None) -> list[FeedItem]:
    """20 recent check-ins, 10 messages and 10 reviews, merged newest first."""
    clinic_id = clinic_filter(auth, requested)
    items = [
        FeedItem(
            type="scan",
            id=scan.id,
            at=scan.created_at,
            patient_id=patient.id,
            patient_name=_name(patient),
            scan_session_id=scan.id,
            status=scan.status.value,
        )
        for scan, patient in repository.recent_sessions(db, clinic_id, FEED_SCANS)
    ]
    messages = recent_messages(db, clinic_id, FEED_MESSAGES)
    threads = {m.thread_id: db.get(MessageThread, m.thread_id) for m in messages}
    for message in messages:
        thread = threads[message.thread_id]
        assert thread is not None
        items.append(
            FeedItem(
                type="message",
                id=message.id,
                at=message.created_at,
                patient_id=thread.patient_id,
                thread_id=thread.id,
                sender_type=message.sender_type.value,
                preview=message.content[:PREVIEW_CHARS],
            )
        )
    items.extend(
        FeedItem(
            type="tag_set",
            id=tag_set.id,
            at=tag_set.created_at,
            patient_id=scan.patient_id,
            scan_session_id=scan.id,
            overall_tracking=tag_set.overall_tracking,
        )
        for tag_set, scan in repository.recent_tag_sets(db, clinic_id, FEED_TAG_SETS)
    )
    names = {
        p.id: _name(p)
        for p in (db.get(Patient, pid) for pid in {i.patient_id for i in items})
        if p is not None
    }
    items = [i.model_copy(update={"patient_name": names.get(i.patient_id)}) for i in items]
    items.sort(key=lambda item: item.at, reverse=True)
    audit.record(
        db,
        auth.principal.actor,
        "dashboard.feed",
        clinic_id=clinic_id,
        details={"count": len(items)},
    )
    return items


def tagging_analytics(db: Session, auth: Authorized, requested: uuid.UUID | None) -> TagAnalytics:
    """The clinic's 30-day tagging rate and discount tier, saved on the clinic (seed 004)."""
    clinic_id = target_clinic(db, auth.principal, requested)
    now = utcnow()
    since, total, tagged = _tagging(db, clinic_id, now)
    rate = percentage(tagged, total)
    tier = discount_tier(rate)
    clinic = db.get(Clinic, clinic_id)
    assert clinic is not None
    clinic.tagging_rate, clinic.discount_tier = rate, tier
    audit.record(
        db,
        auth.principal.actor,
        "clinic.tagging_analytics",
        clinic_id=clinic_id,
        target_type="clinic",
        target_id=clinic_id,
        details={"tagging_rate": rate, "discount_tier": tier},
    )
    return TagAnalytics(
        clinic_id=clinic_id,
        window_days=ANALYTICS_WINDOW_DAYS,
        since=since,
        total_sessions=total,
        tagged_sessions=tagged,
        tagging_rate=rate,
        discount_tier=tier,
    )
