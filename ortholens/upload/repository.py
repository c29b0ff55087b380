"""The SQL of uploads: the clean-up, and the patient's open check-in and its photos (the photo
filer's own queries are in `ingest/repository.py`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ortholens.models import Image, ImageStatus, ScanSession, ScanSessionStatus


def stale_pending(session: Session, before: datetime, limit: int = 500) -> list[Image]:
    """Upload tickets nobody confirmed in time."""
    return list(
        session.scalars(
            select(Image)
            .where(Image.status == ImageStatus.PENDING, Image.created_at < before)
            .order_by(Image.created_at)
            .limit(limit)
        )
    )


def open_session_of(session: Session, patient_id: uuid.UUID, since: datetime) -> ScanSession | None:
    """The patient's latest check-in started after `since` that is neither sent nor reviewed."""
    return session.scalars(
        select(ScanSession)
        .where(
            ScanSession.patient_id == patient_id,
            ScanSession.status == ScanSessionStatus.PENDING,
            ScanSession.submitted_at.is_(None),
            ScanSession.created_at >= since,
        )
        .order_by(ScanSession.created_at.desc(), ScanSession.id.desc())
        .limit(1)
    ).first()


def session_photos(session: Session, scan_session_id: uuid.UUID) -> list[Image]:
    """A check-in's confirmed photos (upload tickets left out), in the order they arrived."""
    return list(
        session.scalars(
            select(Image)
            .where(
                Image.scan_session_id == scan_session_id,
                Image.status != ImageStatus.PENDING,
                Image.deleted_at.is_(None),
            )
            .order_by(Image.created_at, Image.id)
        )
    )
