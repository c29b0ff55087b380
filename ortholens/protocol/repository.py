"""All SQL of photo protocols."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ortholens.models import FileType, Image, ImageStatus, PhotoProtocol


def list_for_clinic(session: Session, clinic_id: uuid.UUID) -> list[PhotoProtocol]:
    return list(
        session.scalars(
            select(PhotoProtocol)
            .where(PhotoProtocol.clinic_id == clinic_id)
            .options(selectinload(PhotoProtocol.slots))
            .order_by(PhotoProtocol.name)
        )
    )


def get(session: Session, protocol_id: uuid.UUID) -> PhotoProtocol | None:
    return session.scalar(
        select(PhotoProtocol)
        .where(PhotoProtocol.id == protocol_id)
        .options(selectinload(PhotoProtocol.slots))
    )


def delete(session: Session, protocol: PhotoProtocol) -> None:
    """Remove a clinic's protocol and its slots (at the next flush)."""
    session.delete(protocol)


def name_taken(session: Session, clinic_id: uuid.UUID, name: str) -> bool:
    found = session.scalar(
        select(PhotoProtocol.id).where(
            PhotoProtocol.clinic_id == clinic_id, PhotoProtocol.name == name
        )
    )
    return found is not None


def photo_view_codes(
    session: Session, patient_id: uuid.UUID, scan_session_id: uuid.UUID | None
) -> list[str | None]:
    """View codes of a patient's live photos (of one scan session when given); a photo that
    failed processing is not its view's photo."""
    query = select(Image.view_code).where(
        Image.patient_id == patient_id,
        Image.file_type == FileType.PHOTO,
        Image.deleted_at.is_(None),
        Image.status != ImageStatus.FAILED,
    )
    if scan_session_id is not None:
        query = query.where(Image.scan_session_id == scan_session_id)
    return list(session.scalars(query))
