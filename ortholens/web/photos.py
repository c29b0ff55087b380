"""A patient's photos for staff: the gallery (thumbnails, filters, "load more") and one image's
detail with its quality verdict and soft delete.

3D scans are items of the same record and show in the gallery as 3D: titled by their arch, with
their rendered thumbnail (never the mesh file in an <img>), their mesh size instead of a photo
quality score, and a link to the 3D viewer for roles that may open it (imaging:3d_view).

Everything goes through the gallery service with the signed-in principal, so tenancy, the
byte-access scope of the role (billing sees metadata only) and the audit of views are its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ortholens.auth.policy import Permission, Scope, allowed, grant
from ortholens.auth.principals import Authorized
from ortholens.http.deps import SessionDep, SettingsDep, StoreDep
from ortholens.image import service as image_service
from ortholens.image.repository import GalleryFilter
from ortholens.kit.errors import NotFound
from ortholens.models import FileType, Image, ScanSession
from ortholens.patient import service as patient_service
from ortholens.protocol.builtin import VIEW_LABELS
from ortholens.review import repository as review_repository
from ortholens.web.auth import PageCsrf, RequirePagePermission
from ortholens.web.routing import PageRoute, QueryFilters, is_htmx, redirect
from ortholens.web.scans import ARCHES, ArchScan
from ortholens.web.templating import render

router = APIRouter(include_in_schema=False, route_class=PageRoute, dependencies=[PageCsrf])

Viewer = Annotated[Authorized, RequirePagePermission(Permission.IMAGING_VIEW)]
Deleter = Annotated[Authorized, RequirePagePermission(Permission.IMAGING_DELETE)]

PAGE_SIZE = 24
SESSION_CHOICES = 50

NOTICES = {
    "deleted": "The image was deleted. A clinic admin can restore it within 30 days.",
    "delete-requested": "Deletion requested: a clinic admin will confirm it.",
    "dismissed": "The failed photo was dismissed: its file is removed, the record kept.",
    "retrying": "The photo is being processed again.",
}


@dataclass(frozen=True)
class GalleryFilters(QueryFilters):
    type: str = ""
    view: str = ""
    session: str = ""


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def view_label(code: str | None) -> str:
    """`IV07` -> "Intraoral frontal"; unknown or unset codes as they are."""
    if not code:
        return "View not set"
    label = VIEW_LABELS.get(code)
    return label[:1].upper() + label[1:] if label else code


def is_scan(image: Image) -> bool:
    """A 3D item (an intraoral scan's arch), shown as 3D and opened in the viewer."""
    return image.file_type is FileType.SCAN_3D


def item_title(image: Image) -> str:
    """What a gallery card and the detail page are titled: a photo's view, a scan's arch
    (`Upper arch`, set by hand or detected from its shape; `3D scan` while no arch is known)."""
    if is_scan(image):
        category = image.category if image.category in ARCHES else None
        return "3D scan" if category is None else ARCHES[category][1]
    return view_label(image.view_code)


def viewer_url(image: Image) -> str:
    """The 3D viewer of the scan set the scan arrived in."""
    url = f"/patients/{image.patient_id}/scans"
    return f"{url}?set={image.scan_set_id}" if image.scan_set_id else url


def _sessions(db: SessionDep, patient_id: uuid.UUID) -> list[ScanSession]:
    """The patient's latest scan sessions, for the session filter (called after the gallery
    service has checked the patient is in the principal's clinic)."""
    return review_repository.recent_sessions_of(db, patient_id, SESSION_CHOICES)


def _delete_scope(auth: Authorized) -> str | None:
    """ "full" (delete), "request" (ask a clinic admin) or None (no delete button)."""
    scope = grant(auth.principal.role, Permission.IMAGING_DELETE)
    if scope is Scope.FULL:
        return "full"
    if scope is Scope.REQUEST_ONLY:
        return "request"
    return None


@router.get("/patients/{patient_id}/photos")
def gallery(
    *,
    request: Request,
    patient_id: uuid.UUID,
    db: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    auth: Viewer,
    type: Annotated[str, Query(max_length=20)] = "",
    view: Annotated[str, Query(max_length=10)] = "",
    session: Annotated[str, Query(max_length=40)] = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
    notice: str = "",
) -> Response:
    """A patient's photos, newest first: thumbnails, filters and "load more"."""
    patient = patient_service.get_patient(db, auth.principal, patient_id)
    filters = GalleryFilters(
        type if type in set(FileType) else "",
        view if view in VIEW_LABELS else "",
        session if _uuid_or_none(session) else "",
    )
    query = GalleryFilter(
        file_type=FileType(filters.type) if filters.type else None,
        view_code=filters.view or None,
        scan_session_id=_uuid_or_none(filters.session),
    )
    items, next_cursor = image_service.list_gallery(
        db,
        store,
        auth,
        patient.id,
        query,
        cursor=cursor or None,
        limit=PAGE_SIZE,
        url_seconds=settings.signed_url_seconds,
    )
    base = f"/patients/{patient.id}/photos"
    context: dict[str, Any] = {
        "patient": patient,
        "items": items,
        "filters": filters,
        "file_types": list(FileType),
        "views": VIEW_LABELS,
        "sessions": _sessions(db, patient.id),
        "view_label": view_label,
        "title": item_title,
        "is_scan": is_scan,
        "viewer_url": viewer_url,
        "can_view_3d": allowed(auth.principal.role, Permission.IMAGING_3D_VIEW),
        "more_url": f"{base}?{filters.query(cursor=next_cursor)}" if next_cursor else None,
        "metadata_only": auth.scope is Scope.METADATA_ONLY,
        "notice": NOTICES.get(notice),
    }
    if is_htmx(request) and cursor:
        return render(request, "photos/_cards.html", context)
    return render(request, "photos/gallery.html", context)


@router.get("/patients/{patient_id}/photos/{image_id}")
def image_detail(
    *,
    request: Request,
    patient_id: uuid.UUID,
    image_id: uuid.UUID,
    db: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    auth: Viewer,
) -> Response:
    """One image: preview, view, capture time, quality verdict, size, and soft delete."""
    patient = patient_service.get_patient(db, auth.principal, patient_id)
    item = image_service.get_image(
        db, store, auth, image_id, url_seconds=settings.signed_url_seconds
    )
    if item.image.patient_id != patient.id:
        raise NotFound(image_service.NOT_FOUND)
    session = (
        review_repository.get_session(db, item.image.scan_session_id)
        if item.image.scan_session_id
        else None
    )
    return render(
        request,
        "photos/detail.html",
        {
            "patient": patient,
            "item": item,
            "image": item.image,
            "session": session,
            "view_label": view_label,
            "title": item_title(item.image),
            "scan": ArchScan.of(item) if is_scan(item.image) else None,
            "viewer_url": viewer_url(item.image),
            "can_view_3d": allowed(auth.principal.role, Permission.IMAGING_3D_VIEW),
            "quality": item.image.quality or {},
            "delete_scope": _delete_scope(auth),
            "metadata_only": auth.scope is Scope.METADATA_ONLY,
            "can_handle_failed": allowed(auth.principal.role, Permission.IMAGING_CAPTURE),
        },
    )


@router.post("/patients/{patient_id}/photos/{image_id}/delete")
def delete_image(
    request: Request, patient_id: uuid.UUID, image_id: uuid.UUID, db: SessionDep, auth: Deleter
) -> Response:
    """Soft-delete an image (restorable for 30 days); a doctor's delete is a request."""
    patient = patient_service.get_patient(db, auth.principal, patient_id)
    image = image_service.delete_image(db, auth, image_id)
    if image.patient_id != patient.id:
        raise NotFound(image_service.NOT_FOUND)
    notice = "deleted" if image.deleted_at is not None else "delete-requested"
    return redirect(request, f"/patients/{patient.id}/photos?notice={notice}")
