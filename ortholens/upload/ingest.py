"""Bringing photos in directly (not through a signed URL): the staff multipart upload and
`ortholens import photos`. Both check every file first, then store; a failure while storing removes
what this call stored, so a refused upload leaves neither rows nor objects behind.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ortholens.consent.service import require_valid_consent
from ortholens.kit.errors import InvalidInput, PayloadTooLarge
from ortholens.kit.storage import ObjectStore
from ortholens.kit.storage.keys import make_key
from ortholens.models import ConsentKind, FileType, Image, ImageStatus
from ortholens.processing.photo_types import ImageType, detect_image_type
from ortholens.upload import repository
from ortholens.upload.service import MAX_PHOTO_BYTES, Uploader, accept_upload

MAX_FILES_PER_REQUEST = 50
_EXTENSIONS = {
    ImageType.JPEG: "jpg",
    ImageType.PNG: "png",
    ImageType.HEIC: "heic",
    ImageType.TIFF: "tiff",
    ImageType.WEBP: "webp",
}


@dataclass(frozen=True)
class Incoming:
    name: str  # shown back in reports only; never used to decide anything
    data: bytes


@dataclass(frozen=True)
class Checked:
    name: str
    data: bytes
    image_type: ImageType
    sha256: str


@dataclass(frozen=True)
class Ingested:
    name: str
    image_id: uuid.UUID
    duplicate_of: uuid.UUID | None


def check_photo(item: Incoming) -> Checked:
    """Size and real type of one file; InvalidInput naming the file when it is refused."""
    if not item.data:
        raise InvalidInput(f"{item.name}: the file is empty.")
    if len(item.data) > MAX_PHOTO_BYTES:
        raise PayloadTooLarge(
            f"{item.name}: photos can be at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB."
        )
    try:
        image_type = detect_image_type(item.data[:64])
    except InvalidInput as exc:
        raise InvalidInput(f"{item.name}: {exc.detail}") from None
    return Checked(item.name, item.data, image_type, hashlib.sha256(item.data).hexdigest())


def ingest_photos(
    session: Session,
    store: ObjectStore,
    uploader: Uploader,
    items: list[Incoming],
    *,
    scan_session_id: uuid.UUID | None = None,
    skip_duplicates: bool = False,
) -> list[Ingested]:
    """Store photos as new images of the uploader's patient and queue their processing.

    A file whose bytes the patient already has is reported with `duplicate_of`; with
    `skip_duplicates` (archive imports) it is not stored again.
    """
    if not items:
        raise InvalidInput("Send at least one photo.")
    if len(items) > MAX_FILES_PER_REQUEST:
        raise InvalidInput(f"Send at most {MAX_FILES_PER_REQUEST} photos at a time.")
    require_valid_consent(session, uploader.patient_id, ConsentKind.PHOTOGRAPHY)
    checked = [check_photo(item) for item in items]  # every file is checked before any is stored
    stored: list[str] = []
    results: list[Ingested] = []
    try:
        for photo in checked:
            results.append(
                _ingest_one(
                    session,
                    store,
                    uploader,
                    photo,
                    scan_session_id=scan_session_id,
                    skip_duplicates=skip_duplicates,
                    stored=stored,
                )
            )
    except BaseException:
        for key in stored:  # the rows roll back with the transaction; the objects go here
            store.delete(key)
        raise
    return results


def _ingest_one(
    session: Session,
    store: ObjectStore,
    uploader: Uploader,
    photo: Checked,
    *,
    scan_session_id: uuid.UUID | None,
    skip_duplicates: bool,
    stored: list[str],
) -> Ingested:
    image_id = uuid.uuid4()
    duplicate = repository.find_duplicate(session, uploader.patient_id, photo.sha256, image_id)
    if duplicate is not None and skip_duplicates:
        return Ingested(photo.name, duplicate.id, duplicate.id)
    key = make_key(
        uploader.clinic_id,
        uploader.patient_id,
        "photo",
        "original",
        _EXTENSIONS[photo.image_type],
        object_id=image_id,
    )
    info = store.put(key, photo.data, content_type=photo.image_type.media_type)
    stored.append(key)
    image = Image(
        id=image_id,
        clinic_id=uploader.clinic_id,
        patient_id=uploader.patient_id,
        scan_session_id=scan_session_id,
        file_type=FileType.PHOTO,
        source=uploader.source,
        status=ImageStatus.UPLOADED,
        original_key=key,
        original_sha256=info.sha256,
        original_size=info.size,
        mime_type=photo.image_type.media_type,
        uploaded_by_user_id=uploader.user_id,
    )
    session.add(image)
    accept_upload(session, uploader, image, duplicate)
    return Ingested(photo.name, image.id, duplicate.id if duplicate else None)
