"""The gallery: a patient's imaging record, one image, soft delete and restore."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from ortholens.auth.deps import RequirePermission
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.http.deps import SessionDep, SettingsDep, StoreDep
from ortholens.image import failed, service
from ortholens.image.repository import GalleryFilter
from ortholens.image.schemas import ImagePage, ImageRead
from ortholens.kit.paging import CURSOR_PATTERN
from ortholens.models import FileType

router = APIRouter(tags=["images"])
Viewer = Annotated[Authorized, RequirePermission(Permission.IMAGING_VIEW)]
Deleter = Annotated[Authorized, RequirePermission(Permission.IMAGING_DELETE)]
Capturer = Annotated[Authorized, RequirePermission(Permission.IMAGING_CAPTURE)]


def image_read(item: service.GalleryItem) -> ImageRead:
    """The API form of a gallery item: the image with its signed links."""
    read = ImageRead.model_validate(item.image)
    return read.model_copy(update={"urls": item.urls})


@router.get("/api/patients/{patient_id}/images", response_model=ImagePage)
def list_images(
    *,
    patient_id: uuid.UUID,
    auth: Viewer,
    db: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    file_type: Annotated[FileType | None, Query(alias="fileType")] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    view: Annotated[str | None, Query(max_length=10, description="ADA-1100 view code")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    session_id: Annotated[uuid.UUID | None, Query(alias="sessionId")] = None,
    tag: Annotated[str | None, Query(max_length=60)] = None,
    deleted: Annotated[
        bool, Query(description="Include soft-deleted images (clinic admins).")
    ] = False,
    cursor: Annotated[str | None, Query(max_length=200, pattern=CURSOR_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 30,
) -> ImagePage:
    """A patient's images, newest first, filtered, with short-lived links to each variant."""
    filters = GalleryFilter(
        file_type=file_type,
        category=category,
        view_code=view,
        since=since,
        until=until,
        scan_session_id=session_id,
        tag=tag,
        include_deleted=deleted,
    )
    items, next_cursor = service.list_gallery(
        db,
        store,
        auth,
        patient_id,
        filters,
        cursor=cursor,
        limit=limit,
        url_seconds=settings.signed_url_seconds,
    )
    return ImagePage(items=[image_read(i) for i in items], next_cursor=next_cursor)


@router.get("/api/images/{image_id}", response_model=ImageRead)
def get_image(
    image_id: uuid.UUID, auth: Viewer, db: SessionDep, store: StoreDep, settings: SettingsDep
) -> ImageRead:
    """One image: details, quality verdict and links (the original too)."""
    return image_read(
        service.get_image(db, store, auth, image_id, url_seconds=settings.signed_url_seconds)
    )


@router.delete("/api/images/{image_id}", response_model=ImageRead)
def delete_image(image_id: uuid.UUID, auth: Deleter, db: SessionDep) -> ImageRead:
    """Soft-delete an image (restorable for 30 days); a doctor's delete awaits a clinic admin."""
    return image_read(service.GalleryItem(service.delete_image(db, auth, image_id)))


@router.post("/api/images/{image_id}/restore", response_model=ImageRead)
def restore_image(image_id: uuid.UUID, auth: Deleter, db: SessionDep) -> ImageRead:
    """Restore a soft-deleted image within its recovery window."""
    return image_read(service.GalleryItem(service.restore_image(db, auth, image_id)))


@router.post("/api/images/{image_id}/dismiss", response_model=ImageRead)
def dismiss_failed_photo(
    image_id: uuid.UUID, auth: Capturer, db: SessionDep, store: StoreDep
) -> ImageRead:
    """Dismiss a photo that failed processing: its file is removed, the record and its reason kept."""
    return image_read(service.GalleryItem(failed.dismiss_failed_photo(db, store, auth, image_id)))


@router.post("/api/images/{image_id}/retry", response_model=ImageRead)
def retry_failed_photo(image_id: uuid.UUID, auth: Capturer, db: SessionDep) -> ImageRead:
    """Process a photo that failed processing again."""
    return image_read(service.GalleryItem(failed.retry_failed_photo(db, auth, image_id)))
