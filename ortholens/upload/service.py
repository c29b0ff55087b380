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
from ortholens.ingest import Filed, Incoming, IngestLimits, Submission, ingest
from ortholens.ingest import repository as photo_records
from ortholens.ingest.formats import photo_content_types
from ortholens.ingest.photos import NO_UPLOAD
from ortholens.kit.db import utcnow
from ortholens.kit.errors import Conflict, InvalidInput, NotFound
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
from ortholens.protocol.builtin import REMOTE_MONITORING, VIEW_LABELS
from ortholens.upload import checkin, repository

PHOTO_LIMITS = IngestLimits()
MAX_PHOTO_BYTES = PHOTO_LIMITS.photo.max_bytes
PHOTO_CONTENT_TYPES = photo_content_types()
MAX_FILES_PER_REQUEST = 50
# Seed 004's scan wizard names its five photos; ADA-1100 codes are accepted as they are.
IMAGE_TYPE_ALIASES = {
    "FRONTAL": "IV07",
    "RIGHT": "IV01",
    "LEFT": "IV18",
    "UPPER": "IV25",
    "LOWER": "IV27",
}
STALE_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class Uploader:
    """Whose upload this is: the patient themselves, or a staff member for a patient."""

    clinic_id: uuid.UUID
    patient_id: uuid.UUID
    actor: audit.Actor
    source: ImageSource
    user_id: uuid.UUID | None = None

    def submission(self, scan_session_id: uuid.UUID | None = None) -> Submission:
        """This uploader's photos as the ingest pipeline files them."""
        return Submission(
            actor=self.actor,
            clinic_id=self.clinic_id,
            user_id=self.user_id,
            source=self.source,
            patient_id=self.patient_id,
            takes=frozenset({FileType.PHOTO}),
            scan_session_id=scan_session_id,
        )


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
    """A PENDING check-in expecting the five remote-monitoring views: the one the patient started
    within a day and has not sent (so leaving the wizard half way loses nothing), else a new one."""
    require_valid_consent(session, uploader.patient_id, ConsentKind.PHOTOGRAPHY)
    resumed = checkin.open_session(session, uploader.patient_id, utcnow())
    if resumed is not None:
        return resumed
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
    if scan.submitted_at is not None:
        raise Conflict("These photos were already sent; start a new check-in to send more.")
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
    """Check the uploaded object (exists, size, real photo type) and file it through the pipeline.

    Confirming the same key again returns the same image and changes nothing.
    """
    image = photo_records.find_by_key(session, key)
    if image is None or image.patient_id != uploader.patient_id:
        raise NotFound(NO_UPLOAD)
    if scan_session_id is not None and image.scan_session_id != scan_session_id:
        raise InvalidInput("This upload belongs to another scan session.")
    if image.status is not ImageStatus.PENDING:
        return ConfirmedUpload(image=image, duplicate_of=None, already_confirmed=True)
    view = view_code_for(image_type)
    if view is not None and image.view_code not in (None, view):
        raise InvalidInput("This upload was requested for another view.")
    if view is not None:
        image.view_code, image.view_set_by_user = view, True
    (filed,) = ingest(
        session,
        store,
        uploader.submission(image.scan_session_id),
        [Incoming(name="", key=key)],
        PHOTO_LIMITS,
    )
    return ConfirmedUpload(image=image, duplicate_of=filed.duplicate_of, already_confirmed=False)


def add_photos(
    session: Session, store: ObjectStore, uploader: Uploader, items: list[Incoming]
) -> list[Filed]:
    """Several photos of a patient at once (every file is checked before any is stored)."""
    if not items:
        raise InvalidInput("Send at least one photo.")
    if len(items) > MAX_FILES_PER_REQUEST:
        raise InvalidInput(f"Send at most {MAX_FILES_PER_REQUEST} photos at a time.")
    return ingest(session, store, uploader.submission(), items, PHOTO_LIMITS)


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
