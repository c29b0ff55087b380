"""Upload rules (seed 004 "Scan Upload"): a signed direct upload to the store, then a confirmation
that checks what arrived and queues its processing.

A requested upload is an `Image` row in status PENDING whose `original_key` is the object's key:
the ticket the confirmation looks up, and what `clean_stale_uploads` finds when nobody confirms.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.consent.service import require_valid_consent
from ortholens.kit.db import utcnow
from ortholens.kit.errors import Conflict, InvalidInput, NotFound
from ortholens.kit.jobs import request_job
from ortholens.kit.storage import ObjectStore, UploadTarget
from ortholens.kit.storage.keys import make_key
from ortholens.models import (
    ConsentKind,
    FileType,
    Image,
    ImageSource,
    ImageStatus,
    ScanSession,
    ScanSessionStatus,
)
from ortholens.processing.photo_types import detect_image_type
from ortholens.protocol.builtin import REMOTE_MONITORING, VIEW_LABELS
from ortholens.upload import repository

MAX_PHOTO_BYTES = 50 * 1024 * 1024
PHOTO_CONTENT_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/tiff": "tiff",
    "image/webp": "webp",
}
# Seed 004's scan wizard names its five photos; ADA-1100 codes are accepted as they are.
IMAGE_TYPE_ALIASES = {
    "FRONTAL": "IV07",
    "RIGHT": "IV01",
    "LEFT": "IV18",
    "UPPER": "IV25",
    "LOWER": "IV27",
}
STALE_AFTER = timedelta(hours=24)
HEAD_BYTES = 64


@dataclass(frozen=True)
class Uploader:
    """Whose upload this is: the patient themselves, or a staff member for a patient."""

    clinic_id: uuid.UUID
    patient_id: uuid.UUID
    actor: audit.Actor
    source: ImageSource
    user_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ConfirmedUpload:
    image: Image
    duplicate_of: uuid.UUID | None
    already_confirmed: bool


def view_code_for(image_type: str | None) -> str | None:
    """The ADA-1100 view an `imageType` names (FRONTAL, RIGHT, LEFT, UPPER, LOWER or a code)."""
    if not image_type:
        return None
    code = IMAGE_TYPE_ALIASES.get(image_type.upper(), image_type.upper())
    if code not in VIEW_LABELS:
        names = ", ".join([*IMAGE_TYPE_ALIASES, *VIEW_LABELS])
        raise InvalidInput(f"Unknown imageType {image_type!r}; use one of {names}.")
    return code


def start_scan_session(session: Session, uploader: Uploader) -> ScanSession:
    """A new PENDING check-in with no photos yet, expecting the five remote-monitoring views."""
    require_valid_consent(session, uploader.patient_id, ConsentKind.PHOTOGRAPHY)
    scan = ScanSession(
        clinic_id=uploader.clinic_id,
        patient_id=uploader.patient_id,
        status=ScanSessionStatus.PENDING,
        image_count=0,
        expected_views=[slot.view_code for slot in REMOTE_MONITORING.slots],
    )
    session.add(scan)
    session.flush()
    audit.record(
        session,
        uploader.actor,
        "scan_session.create",
        clinic_id=uploader.clinic_id,
        target_type="scan_session",
        target_id=scan.id,
    )
    return scan


def _scan_session(
    session: Session, uploader: Uploader, scan_session_id: uuid.UUID | None
) -> ScanSession | None:
    if scan_session_id is None:
        return None
    scan = session.get(ScanSession, scan_session_id)
    if scan is None or scan.patient_id != uploader.patient_id:
        raise NotFound("No scan session with this id.")
    if scan.status is not ScanSessionStatus.PENDING:
        raise Conflict("This scan session was already reviewed; start a new one.")
    return scan


def request_upload(
    session: Session,
    store: ObjectStore,
    uploader: Uploader,
    *,
    scan_session_id: uuid.UUID | None,
    image_type: str | None,
    content_type: str = "image/jpeg",
    expires_in: int = 300,
) -> tuple[Image, UploadTarget]:
    """A signed URL for one photo, valid `expires_in` seconds and at most 50 MB."""
    content_type = content_type.split(";", 1)[0].strip().lower()
    if content_type not in PHOTO_CONTENT_TYPES:
        raise InvalidInput("Photos must be JPEG, PNG, HEIC, TIFF or WebP.")
    view = view_code_for(image_type)
    scan = _scan_session(session, uploader, scan_session_id)
    require_valid_consent(session, uploader.patient_id, ConsentKind.PHOTOGRAPHY)
    key = make_key(
        uploader.clinic_id,
        uploader.patient_id,
        "photo",
        "original",
        PHOTO_CONTENT_TYPES[content_type],
    )
    image = Image(
        clinic_id=uploader.clinic_id,
        patient_id=uploader.patient_id,
        scan_session_id=scan.id if scan else None,
        file_type=FileType.PHOTO,
        view_code=view,
        view_set_by_user=view is not None,
        source=uploader.source,
        status=ImageStatus.PENDING,
        original_key=key,
        mime_type=content_type,
        uploaded_by_user_id=uploader.user_id,
    )
    session.add(image)
    session.flush()
    target = store.presign_upload(
        key, content_type=content_type, max_size=MAX_PHOTO_BYTES, expires_in=expires_in
    )
    return image, target


def confirm_upload(
    session: Session,
    store: ObjectStore,
    uploader: Uploader,
    *,
    key: str,
    scan_session_id: uuid.UUID | None,
    image_type: str | None,
) -> ConfirmedUpload:
    """Check the uploaded object (exists, size, real photo type) and queue its processing.

    Confirming the same key again returns the same image and changes nothing.
    """
    image = repository.find_by_key(session, key)
    if image is None or image.patient_id != uploader.patient_id:
        raise NotFound("No upload with this key.")
    if scan_session_id is not None and image.scan_session_id != scan_session_id:
        raise InvalidInput("This upload belongs to another scan session.")
    if image.status is not ImageStatus.PENDING:
        return ConfirmedUpload(image=image, duplicate_of=None, already_confirmed=True)
    view = view_code_for(image_type)
    if view is not None and image.view_code not in (None, view):
        raise InvalidInput("This upload was requested for another view.")
    info = store.head(key)
    if info is None:
        raise InvalidInput("Nothing was uploaded to this URL yet; upload the photo, then confirm.")
    if info.size == 0 or info.size > MAX_PHOTO_BYTES:
        raise InvalidInput(
            f"A photo must be between 1 byte and {MAX_PHOTO_BYTES // (1024 * 1024)} MB."
        )
    head = next(iter(store.iter_chunks(key, chunk_size=HEAD_BYTES)), b"")
    detected = detect_image_type(head)  # InvalidInput when the bytes are not a photo
    image.status = ImageStatus.UPLOADED
    image.original_size = info.size
    image.original_sha256 = info.sha256 or None  # S3 POST uploads: the processing job records it
    image.mime_type = detected.media_type
    if view is not None:
        image.view_code, image.view_set_by_user = view, True
    duplicate = (
        repository.find_duplicate(session, image.patient_id, info.sha256, image.id)
        if info.sha256
        else None
    )
    replaced = (
        repository.live_view_in_session(session, image.scan_session_id, image.view_code, image.id)
        if image.scan_session_id is not None and image.view_code
        else None
    )
    if replaced is not None:
        # A retake of the same view replaces the earlier photo; the session still counts it once.
        replaced.deleted_at = utcnow()
    elif image.scan_session_id is not None:
        repository.increment_image_count(session, image.scan_session_id)
    accept_upload(session, uploader, image, duplicate)
    return ConfirmedUpload(
        image=image, duplicate_of=duplicate.id if duplicate else None, already_confirmed=False
    )


def accept_upload(
    session: Session, uploader: Uploader, image: Image, duplicate: Image | None
) -> None:
    """An original is in: queue its processing and record the upload (with any duplicate)."""
    session.flush()
    request_job(session, "image.process", {"image_id": str(image.id)}, clinic_id=image.clinic_id)
    audit.record(
        session,
        uploader.actor,
        "image.upload",
        clinic_id=image.clinic_id,
        target_type="image",
        target_id=image.id,
        details={
            "patient_id": str(image.patient_id),
            "duplicate_of": str(duplicate.id) if duplicate else None,
        },
    )


def clean_stale_uploads(
    session: Session, store: ObjectStore, *, older_than: timedelta = STALE_AFTER
) -> int:
    """Remove upload tickets (and any bytes that arrived) that nobody confirmed in time."""
    stale = repository.stale_pending(session, utcnow() - older_than)
    for image in stale:
        store.delete(image.original_key)
        session.delete(image)
    if stale:
        audit.record(session, audit.SYSTEM, "upload.cleanup", details={"count": len(stale)})
    return len(stale)
