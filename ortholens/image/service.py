"""Gallery rules: who sees which bytes, signed links, soft delete and restore.

Viewing bytes is scoped by role (DOMAIN.md): billing sees metadata only, front desk sees photo
and document bytes but no X-ray, CBCT or 3D, and 3D scans and CBCT volumes need the
`imaging:3d_view` grant as well (read-only staff see photos and X-rays, not 3D). What an item is
decides, not only its file type: a radiograph uploaded through the photo routes (category
"radiograph" or view XRAY) is an X-ray to these rules. Every signed link handed out is a view of
image bytes and is audited, one event per image.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth.policy import Permission, Scope, grant
from ortholens.auth.principals import Authorized
from ortholens.image import repository
from ortholens.image.failed import is_dismissed
from ortholens.image.repository import GalleryFilter
from ortholens.kit.db import utcnow
from ortholens.kit.errors import Conflict, Forbidden, NotFound
from ortholens.kit.paging import decode_cursor, encode_cursor
from ortholens.kit.storage import ObjectStore
from ortholens.models import FileType, Image, Role
from ortholens.patient.service import find_patient

RECOVERY_WINDOW = timedelta(days=30)
NOT_FOUND = "No image with this id."
_RADIOGRAPHS = frozenset({FileType.XRAY, FileType.CBCT, FileType.SCAN_3D})
_THREE_D = frozenset({FileType.CBCT, FileType.SCAN_3D})
RADIOGRAPH_CATEGORY = "radiograph"
RADIOGRAPH_VIEW = "XRAY"


@dataclass(frozen=True)
class GalleryItem:
    image: Image
    urls: dict[str, str] = field(default_factory=dict)


def is_radiograph(image: Image) -> bool:
    """An X-ray, CBCT or 3D item, by file type or by what the photo routes were told or found."""
    return (
        image.file_type in _RADIOGRAPHS
        or image.category == RADIOGRAPH_CATEGORY
        or image.view_code == RADIOGRAPH_VIEW
    )


def may_see_bytes(auth: Authorized, image: Image) -> bool:
    """Whether the caller may load an image's bytes (not just its metadata): the scope of the
    grant they came with, and for 3D scans and CBCT the role's `imaging:3d_view` grant too."""
    if auth.scope is Scope.METADATA_ONLY:
        return False
    if auth.scope is Scope.PHOTOS_AND_METADATA and is_radiograph(image):
        return False
    if image.file_type in _THREE_D:
        return grant(auth.principal.role, Permission.IMAGING_3D_VIEW) is not None
    return True


def _record(
    db: Session,
    auth: Authorized,
    action: str,
    image: Image,
    details: dict[str, object] | None = None,
) -> None:
    audit.record(
        db,
        auth.principal.actor,
        action,
        clinic_id=image.clinic_id,
        target_type="image",
        target_id=image.id,
        details=details,
    )


def _signed_urls(
    store: ObjectStore, image: Image, *, expires_in: int, original: bool
) -> dict[str, str]:
    urls = {
        name: store.presign_download(key, expires_in=expires_in)
        for name, key in sorted(image.variants.items())
    }
    if original:
        urls["original"] = store.presign_download(image.original_key, expires_in=expires_in)
    return urls


def gallery_item(
    db: Session,
    store: ObjectStore,
    auth: Authorized,
    image: Image,
    *,
    expires_in: int,
    original: bool,
) -> GalleryItem:
    """An image with signed links to its bytes when the role may load them (each grant audited)."""
    if not may_see_bytes(auth, image) or image.deleted_at is not None:
        return GalleryItem(image)
    urls = _signed_urls(store, image, expires_in=expires_in, original=original)
    _record(
        db,
        auth,
        "image.view",
        image,
        {"patient_id": str(image.patient_id), "variants": sorted(urls)},
    )
    return GalleryItem(image, urls)


def list_gallery(
    db: Session,
    store: ObjectStore,
    auth: Authorized,
    patient_id: uuid.UUID,
    filters: GalleryFilter,
    *,
    cursor: str | None,
    limit: int,
    url_seconds: int,
) -> tuple[list[GalleryItem], str | None]:
    """A page of a patient's imaging record, newest first, with short-lived links to the variants."""
    patient = find_patient(db, auth.principal, patient_id, action="image.list")
    if filters.include_deleted and not is_admin(auth.principal.role):
        raise Forbidden("Only clinic admins see deleted images.")
    after = decode_cursor(cursor) if cursor else None
    images = repository.list_images(db, patient.id, filters, after=after, limit=limit + 1)
    more = len(images) > limit
    images = images[:limit]
    audit.record(
        db,
        auth.principal.actor,
        "image.list",
        clinic_id=patient.clinic_id,
        target_type="patient",
        target_id=patient.id,
        details={"count": len(images)},
    )
    items = [
        gallery_item(db, store, auth, image, expires_in=url_seconds, original=False)
        for image in images
    ]
    return items, encode_cursor(images[-1].created_at, images[-1].id) if more and images else None


def _scoped_image(db: Session, auth: Authorized, image_id: uuid.UUID, action: str) -> Image:
    image = repository.get(db, image_id)
    scope = auth.principal.clinic_scope
    if image is not None and (scope is None or image.clinic_id == scope):
        return image
    if image is not None:
        audit.record_denied(
            db, auth.principal.actor, action, target_type="image", target_id=image_id
        )
    raise NotFound(NOT_FOUND)


def get_image(
    db: Session, store: ObjectStore, auth: Authorized, image_id: uuid.UUID, *, url_seconds: int
) -> GalleryItem:
    """One image with its details and links (including the original, byte for byte)."""
    image = _scoped_image(db, auth, image_id, "image.view")
    if image.deleted_at is not None and not is_admin(auth.principal.role):
        raise NotFound(NOT_FOUND)
    item = gallery_item(db, store, auth, image, expires_in=url_seconds, original=True)
    if not item.urls:
        _record(db, auth, "image.read", image)
    return item


def delete_image(db: Session, auth: Authorized, image_id: uuid.UUID) -> Image:
    """Soft delete (recoverable for 30 days); for a doctor, a request a clinic admin approves."""
    image = _scoped_image(db, auth, image_id, "image.delete")
    if image.deleted_at is not None:
        return image
    now = utcnow()
    if auth.scope is Scope.REQUEST_ONLY:
        image.deletion_requested_at, image.deletion_requested_by_id = now, auth.principal.user_id
        _record(db, auth, "image.delete_request", image)
        return image
    image.deleted_at, image.deleted_by_id = now, auth.principal.user_id
    _record(db, auth, "image.delete", image)
    return image


def restore_image(db: Session, auth: Authorized, image_id: uuid.UUID) -> Image:
    """Bring back a soft-deleted image within the recovery window (or withdraw a delete request)."""
    image = _scoped_image(db, auth, image_id, "image.restore")
    if image.deleted_at is None and image.deletion_requested_at is None:
        raise Conflict("This image is not deleted.")
    if image.deleted_at is not None and utcnow() - image.deleted_at > RECOVERY_WINDOW:
        raise Conflict("The 30-day recovery window of this image has passed.")
    if image.deleted_at is not None and auth.scope is not Scope.FULL:
        raise Forbidden("Only a clinic admin can restore a deleted image.")
    if is_dismissed(image):
        raise Conflict("This failed photo was dismissed and its file removed; upload it again.")
    image.deleted_at = image.deleted_by_id = None
    image.deletion_requested_at = image.deletion_requested_by_id = None
    _record(db, auth, "image.restore", image)
    return image


def is_admin(role: Role) -> bool:
    return grant(role, Permission.IMAGING_DELETE) is Scope.FULL
