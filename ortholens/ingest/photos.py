"""Filing photos: consent, duplicates by SHA-256, the scan session's count, the `image.upload`
audit event and the processor job.

A photo arrives either with its bytes (stored here under a new key) or already stored by a signed
upload, whose PENDING `Image` row (the ticket) is completed instead of writing a new one.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.consent.service import require_valid_consent
from ortholens.ingest import repository
from ortholens.ingest.pipeline import Filed, Prepared, Submission, register_filer
from ortholens.kit.db import utcnow
from ortholens.kit.errors import InvalidInput, NotFound
from ortholens.kit.jobs import request_job
from ortholens.kit.storage import ObjectStore
from ortholens.kit.storage.keys import make_key
from ortholens.models import ConsentKind, FileType, Image, ImageStatus

NO_UPLOAD = "No upload with this key."


def file_photos(
    db: Session,
    store: ObjectStore,
    submission: Submission,
    photos: list[Prepared],
    stored: list[str],
) -> list[Filed]:
    """File each photo as an image of the submission's patient."""
    patient_id = submission.patient_id
    if patient_id is None:
        raise InvalidInput("Say which patient the photos belong to.")
    require_valid_consent(db, patient_id, ConsentKind.PHOTOGRAPHY)
    return [
        _file_one(db, store, submission, photo, patient_id=patient_id, stored=stored)
        for photo in photos
    ]


def _file_one(
    db: Session,
    store: ObjectStore,
    submission: Submission,
    photo: Prepared,
    *,
    patient_id: uuid.UUID,
    stored: list[str],
) -> Filed:
    name = photo.incoming.name
    if photo.incoming.key is not None:
        image = _ticket(db, photo.incoming.key, patient_id)
        image.status = ImageStatus.UPLOADED
        image.original_size = photo.size
        image.original_sha256 = photo.sha256  # None for S3 POST uploads: the job records it
        image.mime_type = photo.format.media_type
        duplicate = (
            repository.find_duplicate(db, patient_id, photo.sha256, image.id)
            if photo.sha256
            else None
        )
    else:
        assert photo.data is not None and photo.sha256 is not None
        image_id = uuid.uuid4()
        duplicate = repository.find_duplicate(db, patient_id, photo.sha256, image_id)
        if duplicate is not None and submission.skip_duplicates:
            return Filed(name, images=[duplicate], duplicate_of=duplicate.id, patient_id=patient_id)
        key = make_key(
            submission.clinic_id,
            patient_id,
            "photo",
            "original",
            photo.format.extension,
            object_id=image_id,
        )
        info = store.put(key, photo.data, content_type=photo.format.media_type)
        stored.append(key)
        image = Image(
            id=image_id,
            clinic_id=submission.clinic_id,
            patient_id=patient_id,
            scan_session_id=submission.scan_session_id,
            file_type=FileType.PHOTO,
            source=submission.source,
            status=ImageStatus.UPLOADED,
            original_key=key,
            original_sha256=info.sha256,
            original_size=info.size,
            mime_type=photo.format.media_type,
            uploaded_by_user_id=submission.user_id,
        )
        db.add(image)
    _count_in_session(db, image)
    accept_photo(db, submission.actor, image, duplicate, job=photo.format.processor_job)
    return Filed(
        name,
        images=[image],
        duplicate_of=duplicate.id if duplicate else None,
        patient_id=patient_id,
    )


def _ticket(db: Session, key: str, patient_id: uuid.UUID) -> Image:
    image = repository.find_by_key(db, key)
    if image is None or image.patient_id != patient_id or image.status is not ImageStatus.PENDING:
        raise NotFound(NO_UPLOAD)
    return image


def _count_in_session(db: Session, image: Image) -> None:
    """A photo of a check-in counts once; a retake of the same view replaces the earlier one."""
    if image.scan_session_id is None:
        return
    replaced = (
        repository.live_view_in_session(db, image.scan_session_id, image.view_code, image.id)
        if image.view_code
        else None
    )
    if replaced is not None:
        replaced.deleted_at = utcnow()
    else:
        repository.increment_image_count(db, image.scan_session_id)


def accept_photo(
    db: Session, actor: audit.Actor, image: Image, duplicate: Image | None, *, job: str
) -> None:
    """An original is in: queue its processing and record the upload (with any duplicate)."""
    db.flush()
    request_job(db, job, {"image_id": str(image.id)}, clinic_id=image.clinic_id)
    audit.record(
        db,
        actor,
        "image.upload",
        clinic_id=image.clinic_id,
        target_type="image",
        target_id=image.id,
        details={
            "patient_id": str(image.patient_id),
            "duplicate_of": str(duplicate.id) if duplicate else None,
        },
    )


register_filer(FileType.PHOTO, file_photos)
