"""The SQL the photo filer needs: upload tickets, duplicates and scan-session accounting."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ortholens.models import Image, ImageStatus, ScanSession


def find_by_key(session: Session, key: str) -> Image | None:
    """The image whose original is stored under `key` (a signed upload's ticket)."""
    return session.scalar(select(Image).where(Image.original_key == key))


def find_duplicate(
    session: Session, patient_id: uuid.UUID, sha256: str, not_id: uuid.UUID
) -> Image | None:
    """A live image of the same patient with the same original bytes."""
    return session.scalar(
        select(Image)
        .where(
            Image.patient_id == patient_id,
            Image.original_sha256 == sha256,
            Image.id != not_id,
            Image.deleted_at.is_(None),
            Image.status != ImageStatus.PENDING,
        )
        .limit(1)
    )


def live_view_in_session(
    session: Session, scan_session_id: uuid.UUID, view_code: str, not_id: uuid.UUID
) -> Image | None:
    """The confirmed, not deleted photo of `view_code` already in a scan session."""
    return session.scalar(
        select(Image)
        .where(
            Image.scan_session_id == scan_session_id,
            Image.view_code == view_code,
            Image.id != not_id,
            Image.deleted_at.is_(None),
            Image.status != ImageStatus.PENDING,
        )
        .limit(1)
    )


def increment_image_count(session: Session, scan_session_id: uuid.UUID) -> None:
    """One more photo in a scan session."""
    session.execute(
        update(ScanSession)
        .where(ScanSession.id == scan_session_id)
        .values(image_count=ScanSession.image_count + 1)
    )
