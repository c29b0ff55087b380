"""Queries of the review domain: the queue, a session's photos, its tag set and suggestions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.orm import Session

from ortholens.models import (
    AiTagSuggestion,
    FileType,
    Image,
    ImageStatus,
    Patient,
    ScanSession,
    ScanSessionStatus,
    TagSet,
)


def queue_query(
    clinic_id: uuid.UUID | None,
    *,
    status: ScanSessionStatus | None,
    patient_id: uuid.UUID | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Select[ScanSession, Patient]:
    """The review queue's statement, oldest first in (created_at, id): the clinic's
    ix_scan_sessions_clinic_status_created (one status) or ix_scan_sessions_clinic_created.

    Only check-ins the patient sent are in it: one still being taken (or left half done) is not
    the doctor's work yet."""
    query = (
        select(ScanSession, Patient)
        .join(Patient, Patient.id == ScanSession.patient_id)
        .where(ScanSession.image_count > 0, ScanSession.submitted_at.is_not(None))
        .order_by(ScanSession.created_at, ScanSession.id)
        .limit(limit)
    )
    if clinic_id is not None:
        query = query.where(ScanSession.clinic_id == clinic_id)
    if status is not None:
        query = query.where(ScanSession.status == status)
    if patient_id is not None:
        query = query.where(ScanSession.patient_id == patient_id)
    if after is not None:
        at, last_id = after
        query = query.where(
            or_(
                ScanSession.created_at > at,
                and_(ScanSession.created_at == at, ScanSession.id > last_id),
            )
        )
    return query


def list_sessions(
    session: Session,
    clinic_id: uuid.UUID | None,
    *,
    status: ScanSessionStatus | None,
    patient_id: uuid.UUID | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[ScanSession, Patient]]:
    """Sent sessions with at least one photo, oldest first (the queue is worked from the front)."""
    query = queue_query(clinic_id, status=status, patient_id=patient_id, after=after, limit=limit)
    return [(row[0], row[1]) for row in session.execute(query)]


def session_images(session: Session, scan_session_id: uuid.UUID) -> list[Image]:
    return list(
        session.scalars(
            select(Image)
            .where(
                Image.scan_session_id == scan_session_id,
                Image.file_type == FileType.PHOTO,
                Image.deleted_at.is_(None),
                # A photo that failed processing is not its view's photo (retry or dismiss it).
                Image.status.not_in((ImageStatus.PENDING, ImageStatus.FAILED)),
            )
            .order_by(Image.created_at, Image.id)
        )
    )


def previous_session(session: Session, scan: ScanSession) -> ScanSession | None:
    return session.scalars(
        select(ScanSession)
        .where(
            ScanSession.patient_id == scan.patient_id,
            ScanSession.created_at < scan.created_at,
            ScanSession.image_count > 0,
            ScanSession.submitted_at.is_not(None),
        )
        .order_by(ScanSession.created_at.desc())
        .limit(1)
    ).first()


def tag_set_of(session: Session, scan_session_id: uuid.UUID) -> TagSet | None:
    return session.scalars(select(TagSet).where(TagSet.scan_session_id == scan_session_id)).first()


def latest_suggestion(session: Session, scan_session_id: uuid.UUID) -> AiTagSuggestion | None:
    return session.scalars(
        select(AiTagSuggestion)
        .where(AiTagSuggestion.scan_session_id == scan_session_id)
        .order_by(AiTagSuggestion.created_at.desc(), AiTagSuggestion.id.desc())
        .limit(1)
    ).first()


def latest_reviewed_session(session: Session, patient_id: uuid.UUID) -> ScanSession | None:
    return session.scalars(
        select(ScanSession)
        .where(
            ScanSession.patient_id == patient_id,
            ScanSession.status != ScanSessionStatus.PENDING,
        )
        .order_by(ScanSession.reviewed_at.desc().nulls_last(), ScanSession.created_at.desc())
        .limit(1)
    ).first()


def get_session(session: Session, scan_session_id: uuid.UUID) -> ScanSession | None:
    """A scan session by id in any clinic (callers have scoped what led them here)."""
    return session.get(ScanSession, scan_session_id)


def recent_sessions_of(session: Session, patient_id: uuid.UUID, limit: int) -> list[ScanSession]:
    """The patient's latest scan sessions, newest first."""
    return list(
        session.scalars(
            select(ScanSession)
            .where(ScanSession.patient_id == patient_id)
            .order_by(ScanSession.created_at.desc())
            .limit(limit)
        )
    )


def last_session_at(session: Session, patient_id: uuid.UUID) -> datetime | None:
    """When the patient's latest sent check-in began (None if they never sent one)."""
    return session.scalars(
        select(ScanSession.created_at)
        .where(ScanSession.patient_id == patient_id, ScanSession.submitted_at.is_not(None))
        .order_by(ScanSession.created_at.desc())
        .limit(1)
    ).first()


def latest_session_with_photos(session: Session, patient_id: uuid.UUID) -> ScanSession | None:
    """The patient's latest sent check-in with photos."""
    return session.scalars(
        select(ScanSession)
        .where(
            ScanSession.patient_id == patient_id,
            ScanSession.image_count > 0,
            ScanSession.submitted_at.is_not(None),
        )
        .order_by(ScanSession.created_at.desc())
        .limit(1)
    ).first()


def mark_reviewed(
    session: Session, scan_session_id: uuid.UUID, reviewer_id: uuid.UUID, now: datetime
) -> None:
    """Set the session REVIEWED by `reviewer_id` at `now` (callers refresh loaded rows)."""
    session.execute(
        update(ScanSession)
        .where(ScanSession.id == scan_session_id)
        .values(
            status=ScanSessionStatus.REVIEWED,
            reviewed_at=now,
            reviewed_by_id=reviewer_id,
            updated_at=now,
        )
    )
