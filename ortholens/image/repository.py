"""All SQL of the imaging record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from ortholens.models import FileType, Image, ImageStatus


@dataclass(frozen=True)
class GalleryFilter:
    file_type: FileType | None = None
    category: str | None = None
    view_code: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    scan_session_id: uuid.UUID | None = None
    tag: str | None = None
    include_deleted: bool = False


def get(session: Session, image_id: uuid.UUID) -> Image | None:
    return session.get(Image, image_id)


def _filtered(patient_id: uuid.UUID, f: GalleryFilter) -> Select[Image]:
    query = select(Image).where(Image.patient_id == patient_id, Image.status != ImageStatus.PENDING)
    if not f.include_deleted:
        query = query.where(Image.deleted_at.is_(None))
    if f.file_type:
        query = query.where(Image.file_type == f.file_type)
    if f.category:
        query = query.where(Image.category == f.category)
    if f.view_code:
        query = query.where(Image.view_code == f.view_code)
    if f.since:
        query = query.where(Image.created_at >= f.since)
    if f.until:
        query = query.where(Image.created_at < f.until)
    if f.scan_session_id:
        query = query.where(Image.scan_session_id == f.scan_session_id)
    return query


def list_images(
    session: Session,
    patient_id: uuid.UUID,
    f: GalleryFilter,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Image]:
    """Newest first; `after` is the (created_at, id) of the last row of the previous page."""
    query = _filtered(patient_id, f)
    if after is not None:
        at, last_id = after
        query = query.where(
            or_(Image.created_at < at, and_(Image.created_at == at, Image.id < last_id))
        )
    query = query.order_by(Image.created_at.desc(), Image.id.desc())
    if f.tag is None:
        return list(session.scalars(query.limit(limit)))
    # Tags live in a JSON list; filtering them in Python keeps the query portable (pages are small).
    found: list[Image] = []
    for image in session.scalars(query):
        if f.tag in (image.tags or []):
            found.append(image)
            if len(found) == limit:
                break
    return found
