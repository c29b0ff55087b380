"""Queries of the review domain: the queue, a session's photos, its tag set and suggestions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select
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


def list_sessions(
    session: Session,
    clinic_id: uuid.UUID | None,
    *,
    status: ScanSessionStatus | None,
    patient_id: uuid.UUID | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[ScanSession, Patient]]:
    """Sessions with at least one photo, oldest first (the queue is worked from the front)."""
    query = (
        select(ScanSession, Patient)
        .join(Patient, Patient.id == ScanSession.patient_id)
        .where(ScanSession.image_count > 0)
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
    return [(row[0], row[1]) for row in session.execute(query)]


def session_images(session: Session, scan_session_id: uuid.UUID) -> list[Image]:
    return list(
        session.scalars(
            select(Image)
            .where(
                Image.scan_session_id == scan_session_id,
                Image.file_type == FileType.PHOTO,
                Image.deleted_at.is_(None),
                Image.status != ImageStatus.PENDING,
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
