"""All SQL of the imaging record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from ortholens.models import (
    FileType,
    Image,
    ImageSource,
    ImageStatus,
    PendingScan,
    PendingScanStatus,
)


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


def gallery_query(
    patient_id: uuid.UUID, f: GalleryFilter, *, after: tuple[datetime, uuid.UUID] | None
) -> Select[Image]:
    """The gallery's statement, newest first in (created_at, id): ix_images_patient_created."""
    query = _filtered(patient_id, f)
    if after is not None:
        at, last_id = after
        query = query.where(
            or_(Image.created_at < at, and_(Image.created_at == at, Image.id < last_id))
        )
    return query.order_by(Image.created_at.desc(), Image.id.desc())


def list_images(
    session: Session,
    patient_id: uuid.UUID,
    f: GalleryFilter,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Image]:
    """Newest first; `after` is the (created_at, id) of the last row of the previous page."""
    query = gallery_query(patient_id, f, after=after)
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


def all_images(session: Session) -> list[Image]:
    """Every image row of every clinic, oldest first (the storage check walks them all)."""
    return list(session.scalars(select(Image).order_by(Image.created_at)))


def live_external_refs(session: Session, clinic_id: uuid.UUID, source: ImageSource) -> set[str]:
    """The source's own ids of the clinic's images from `source` that are not deleted."""
    refs = session.scalars(
        select(Image.external_ref).where(
            Image.clinic_id == clinic_id,
            Image.source == source,
            Image.external_ref.is_not(None),
            Image.deleted_at.is_(None),
        )
    )
    return {ref for ref in refs if ref is not None}


def waiting_pending_scan_keys(session: Session) -> set[str]:
    """Object keys of the scan files waiting in the pending queue, in every clinic.

    The queue belongs to `intraoral`, which imports this package; its files sit in the imaging
    store, so the storage check asks here rather than import `intraoral` back.
    """
    return set(
        session.scalars(
            select(PendingScan.original_key).where(PendingScan.status == PendingScanStatus.PENDING)
        )
    )
