"""Dashboard queries: counts per clinic and the latest scan of every active patient."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from ortholens.models import (
    AiTagSuggestion,
    FileType,
    Image,
    ImageStatus,
    Message,
    MessageThread,
    Patient,
    PatientStatus,
    ScanSession,
    ScanSessionStatus,
    SenderType,
    TagSet,
)
from ortholens.review.repository import queue_query


def _in_clinic(
    column: InstrumentedAttribute[uuid.UUID], clinic_id: uuid.UUID | None
) -> ColumnElement[bool]:
    """A clinic filter; no filter at all for a super admin looking across clinics."""
    return true() if clinic_id is None else column == clinic_id


def pending_sessions(session: Session, clinic_id: uuid.UUID | None) -> int:
    query = (
        select(func.count())
        .select_from(ScanSession)
        .where(
            ScanSession.status == ScanSessionStatus.PENDING,
            ScanSession.image_count > 0,
            ScanSession.submitted_at.is_not(None),  # one the patient has not sent is not work yet
        )
    )
    return int(session.scalar(query.where(_in_clinic(ScanSession.clinic_id, clinic_id))) or 0)


def active_patients_with_last_scan(
    session: Session, clinic_id: uuid.UUID | None
) -> list[tuple[Patient, datetime | None]]:
    """Every ACTIVE patient with the time of their latest scan session (None if never)."""
    last = (
        select(ScanSession.patient_id, func.max(ScanSession.created_at).label("last_at"))
        .group_by(ScanSession.patient_id)
        .subquery()
    )
    query = (
        select(Patient, last.c.last_at)
        .outerjoin(last, last.c.patient_id == Patient.id)
        .where(Patient.status == PatientStatus.ACTIVE)
        .order_by(Patient.last_name, Patient.first_name, Patient.id)
    )
    rows = session.execute(query.where(_in_clinic(Patient.clinic_id, clinic_id)))
    return [(row[0], row[1]) for row in rows]


def sessions_since(
    session: Session, clinic_id: uuid.UUID | None, since: datetime
) -> tuple[int, int]:
    """(all sessions with photos, those with a tag set) created since `since`."""
    base = (
        select(func.count())
        .select_from(ScanSession)
        .where(
            ScanSession.created_at >= since,
            ScanSession.image_count > 0,
            ScanSession.submitted_at.is_not(None),
        )
    )
    base = base.where(_in_clinic(ScanSession.clinic_id, clinic_id))
    total = int(session.scalar(base) or 0)
    tagged = int(session.scalar(base.join(TagSet, TagSet.scan_session_id == ScanSession.id)) or 0)
    return total, tagged


def recent_sessions(
    session: Session, clinic_id: uuid.UUID | None, limit: int
) -> list[tuple[ScanSession, Patient]]:
    query = (
        select(ScanSession, Patient)
        .join(Patient, Patient.id == ScanSession.patient_id)
        .where(ScanSession.image_count > 0)
        .order_by(ScanSession.created_at.desc())
        .limit(limit)
    )
    return [
        (r[0], r[1])
        for r in session.execute(query.where(_in_clinic(ScanSession.clinic_id, clinic_id)))
    ]


def recent_tag_sets(
    session: Session, clinic_id: uuid.UUID | None, limit: int
) -> list[tuple[TagSet, ScanSession]]:
    query = (
        select(TagSet, ScanSession)
        .join(ScanSession, ScanSession.id == TagSet.scan_session_id)
        .order_by(TagSet.created_at.desc())
        .limit(limit)
    )
    rows = session.execute(query.where(_in_clinic(TagSet.clinic_id, clinic_id)))
    return [(row[0], row[1]) for row in rows]


def queued_check_ins(session: Session, clinic_id: uuid.UUID | None) -> int:
    """How many check-ins wait in the review queue: the queue's own statement, counted, so the
    menu's badge and the queue never disagree about what is waiting."""
    queue = queue_query(
        clinic_id, status=ScanSessionStatus.PENDING, patient_id=None, after=None, limit=1
    )
    statement = queue.limit(None).order_by(None).with_only_columns(func.count())
    return int(session.scalar(statement) or 0)


def unread_patient_messages(session: Session, clinic_id: uuid.UUID | None) -> int:
    """Messages from patients nobody at the clinic has opened yet (the menu's badge)."""
    query = (
        select(func.count())
        .select_from(Message)
        .where(Message.sender_type == SenderType.PATIENT, Message.read_at.is_(None))
    )
    return int(session.scalar(query.where(_in_clinic(Message.clinic_id, clinic_id))) or 0)


def threads_with_unread(
    session: Session, clinic_id: uuid.UUID | None, limit: int
) -> list[tuple[MessageThread, Patient, int]]:
    """Threads holding unread patient messages, the longest waiting first, with that count."""
    unread = (
        select(
            Message.thread_id,
            func.count().label("unread"),
            func.min(Message.created_at).label("waiting_since"),
        )
        .where(
            Message.sender_type == SenderType.PATIENT,
            Message.read_at.is_(None),
            _in_clinic(Message.clinic_id, clinic_id),
        )
        .group_by(Message.thread_id)
        .subquery()
    )
    query = (
        select(MessageThread, Patient, unread.c.unread)
        .join(unread, unread.c.thread_id == MessageThread.id)
        .join(Patient, Patient.id == MessageThread.patient_id)
        .order_by(unread.c.waiting_since, MessageThread.id)
        .limit(limit)
    )
    return [(row[0], row[1], int(row[2])) for row in session.execute(query)]


def photos_of_sessions(session: Session, session_ids: list[uuid.UUID]) -> list[Image]:
    """The processed or processing photos of some check-ins, in the order they were taken."""
    if not session_ids:
        return []
    query = (
        select(Image)
        .where(
            Image.scan_session_id.in_(session_ids),
            Image.file_type == FileType.PHOTO,
            Image.deleted_at.is_(None),
            Image.status != ImageStatus.PENDING,
        )
        .order_by(Image.created_at, Image.id)
    )
    return list(session.scalars(query))


def latest_suggestions(
    session: Session, session_ids: list[uuid.UUID]
) -> dict[uuid.UUID, AiTagSuggestion]:
    """The newest AI suggestion of each check-in that has one."""
    if not session_ids:
        return {}
    query = (
        select(AiTagSuggestion)
        .where(AiTagSuggestion.scan_session_id.in_(session_ids))
        .order_by(AiTagSuggestion.created_at, AiTagSuggestion.id)
    )
    return {row.scan_session_id: row for row in session.scalars(query)}  # newest wins
