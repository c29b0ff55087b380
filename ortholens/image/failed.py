"""Photos that could not be processed (a decompression bomb, a damaged file, a decoder crash).

`image.process` marks such a photo FAILED with its reason and keeps its bytes, so staff can see
what went wrong. From there staff either
- **retry** it: back to UPLOADED and `image.process` queued again (worth it after a decoder crash
  or a timeout; a damaged file fails again with the same reason), or
- **dismiss** it: its stored objects are removed and the row stays as the record, soft-deleted,
  with who dismissed it, when, and the reason it failed (`info["dismissed"]`); audited as
  `image.dismiss`. A dismissed photo cannot be restored (its bytes are gone) and the storage
  check does not count its missing original.
A FAILED photo never counts as the photo of its view (protocol completeness, the review).
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth.policy import Scope
from ortholens.auth.principals import Authorized
from ortholens.image import repository
from ortholens.kit.db import defer_on_commit, utcnow
from ortholens.kit.errors import Conflict, Forbidden, NotFound
from ortholens.kit.jobs import request_job
from ortholens.kit.storage import ObjectStore
from ortholens.models import FileType, Image, ImageStatus

NOT_FOUND = "No image with this id."
PROCESS_JOB = "image.process"


def is_dismissed(image: Image) -> bool:
    """Whether staff dismissed this failed photo (its bytes are gone)."""
    return bool((image.info or {}).get("dismissed"))


def _failed_photo(db: Session, auth: Authorized, image_id: uuid.UUID, action: str) -> Image:
    image = repository.get(db, image_id)
    scope = auth.principal.clinic_scope
    if image is None or (scope is not None and image.clinic_id != scope):
        if image is not None:
            audit.record_denied(
                db, auth.principal.actor, action, target_type="image", target_id=image_id
            )
        raise NotFound(NOT_FOUND)
    if image.deleted_at is not None:
        raise NotFound(NOT_FOUND)
    if image.file_type is not FileType.PHOTO or image.status is not ImageStatus.FAILED:
        raise Conflict("Only a photo that failed processing can be dismissed or retried.")
    if auth.scope not in (Scope.FULL, Scope.PHOTOS_AND_DOCUMENTS):
        raise Forbidden("Your role may not handle failed photos.")
    return image


def _record(db: Session, auth: Authorized, action: str, image: Image) -> None:
    audit.record(
        db,
        auth.principal.actor,
        action,
        clinic_id=image.clinic_id,
        target_type="image",
        target_id=image.id,
        details={"patient_id": str(image.patient_id), "reason": image.failure_reason},
    )


def dismiss_failed_photo(
    db: Session, store: ObjectStore, auth: Authorized, image_id: uuid.UUID
) -> Image:
    """Remove a failed photo's bytes and take it out of the gallery, keeping the record."""
    image = _failed_photo(db, auth, image_id, "image.dismiss")
    now = utcnow()
    keys = [image.original_key, *image.variants.values()]
    image.info = {
        **(image.info or {}),
        "dismissed": {
            "at": now.isoformat(),
            "by": str(auth.principal.user_id),
            "reason": image.failure_reason,
        },
    }
    image.variants = {}
    image.deleted_at, image.deleted_by_id = now, auth.principal.user_id
    _record(db, auth, "image.dismiss", image)

    def remove_objects() -> None:
        for key in keys:
            store.delete(key)

    # Only once the record is committed: a rolled-back dismissal leaves the bytes in place.
    defer_on_commit(db, remove_objects)
    return image


def retry_failed_photo(db: Session, auth: Authorized, image_id: uuid.UUID) -> Image:
    """Process a failed photo again (queued on commit)."""
    image = _failed_photo(db, auth, image_id, "image.retry")
    _record(db, auth, "image.retry", image)
    image.status, image.failure_reason = ImageStatus.UPLOADED, None
    request_job(db, PROCESS_JOB, {"image_id": str(image.id)}, clinic_id=image.clinic_id)
    return image
