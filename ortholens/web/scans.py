"""A patient's intraoral 3D scans for staff: the scan sets with their thumbnails, and a three.js
viewer of one set (static/js/scan-viewer.js).

The page is rendered on the server: the scans come from the intraoral service and their short-lived
links from the gallery service (`gallery_item`), which also audits each view of scan bytes, so the
script only reads `data-*` attributes and needs no API call of its own. For staff who may capture
3D data the page also carries the import form and each arch's correction form (their routes are in
`ortholens.web.scan_import`), and the progress of a background import (static/js/scan-import.js).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ortholens.auth.policy import Permission, Scope, grant
from ortholens.auth.principals import Authorized
from ortholens.http.deps import SessionDep, SettingsDep, StoreDep
from ortholens.image.service import GalleryItem, gallery_item
from ortholens.intraoral import service as intraoral_service
from ortholens.models import ImageStatus, Patient
from ortholens.patient.service import find_patient
from ortholens.processing.meshes.units import OTHER_UNITS
from ortholens.web.auth import PageCsrf, RequirePagePermission
from ortholens.web.routing import PageRoute
from ortholens.web.templating import render

router = APIRouter(include_in_schema=False, route_class=PageRoute, dependencies=[PageCsrf])

Viewer3D = Annotated[Authorized, RequirePagePermission(Permission.IMAGING_3D_VIEW)]

# Category -> (the viewer's key for the arch, its label); the order is the toggles' order.
ARCHES: dict[str | None, tuple[str, str]] = {
    intraoral_service.UPPER: ("upper", "Upper arch"),
    intraoral_service.LOWER: ("lower", "Lower arch"),
    intraoral_service.BITE: ("bite", "Bite"),
    None: ("unassigned", "Arch not set"),
}
_ORDER = list(ARCHES)
# What the correction form offers: (form value, label).
ARCH_CHOICES = (("UPPER", "Upper"), ("LOWER", "Lower"), ("BITE", "Bite"))
# The scan files the import form accepts (the formats `read_arches` reads).
ACCEPTED_FILES = ".stl,.ply,.obj,.3mf,.dcm,.zip"
# The other units the import form offers (form value, label), for a scan whose size check said it
# makes sense in one of them; the files' own (millimetres) is the form's default.
SCAN_UNITS = tuple((unit, name.capitalize()) for unit, name in OTHER_UNITS.items() if unit != "mm")

NOTICES = {
    "imported": "The scans were imported. Their 3D view is prepared in the background.",
    "assigned": "The pending scans were given to this patient.",
    "arch": "The arch was changed.",
}


@dataclass(frozen=True)
class ArchScan:
    """One arch of a scan set as the page shows it."""

    id: uuid.UUID
    arch: str  # "upper" | "lower" | "bite" | "unassigned"
    label: str
    status: ImageStatus
    failure_reason: str | None
    vertex_count: int | None
    face_count: int | None
    thumbnail_url: str | None
    mesh_url: str | None  # the web mesh (binary PLY in mm); None until it has been prepared
    confidence: float | None = None  # the shape-based detection's confidence, 0..1
    set_by_user: bool = False

    @property
    def arch_value(self) -> str:
        """UPPER, LOWER, BITE or "" (the correction form's current choice)."""
        return "" if self.arch == "unassigned" else self.arch.upper()

    @property
    def origin(self) -> str:
        """Who said which arch this is: `Set by a person`, `Detected (87 %)` or `Not detected`."""
        if self.set_by_user:
            return "Set by a person"
        if self.confidence is None:
            return "Not detected"
        return f"Detected ({round(self.confidence * 100)} %)"

    @classmethod
    def of(cls, item: GalleryItem) -> ArchScan:
        image = item.image
        arch, label = ARCHES.get(image.category, ARCHES[None])
        detection = image.info.get("arch_detection") or {}
        confidence = detection.get("confidence")
        return cls(
            id=image.id,
            arch=arch,
            label=label,
            status=image.status,
            failure_reason=image.failure_reason,
            vertex_count=image.vertex_count,
            face_count=image.face_count,
            thumbnail_url=item.urls.get("thumbnail"),
            mesh_url=item.urls.get("web_mesh"),
            confidence=float(confidence) if isinstance(confidence, int | float) else None,
            set_by_user=bool(image.info.get("arch_set_by_user")),
        )


@dataclass(frozen=True)
class ScanSet:
    """The arches that arrived together (one file, bundle or scanner export)."""

    id: uuid.UUID
    created_at: datetime
    arches: tuple[ArchScan, ...]

    @property
    def viewable(self) -> bool:
        return any(arch.mesh_url for arch in self.arches)

    @property
    def preparing(self) -> tuple[uuid.UUID, ...]:
        """The arches whose 3D view is still being made (the page follows them until done)."""
        done = (ImageStatus.READY, ImageStatus.FAILED)
        return tuple(arch.id for arch in self.arches if arch.status not in done)

    @property
    def summary(self) -> str:
        """`Upper arch, lower arch and bite`, for the list and the viewer's heading."""
        labels = [arch.label.lower() for arch in self.arches]
        text = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        return text[:1].upper() + text[1:]


def _arch_order(item: GalleryItem) -> int:
    category = item.image.category
    return _ORDER.index(category if category in ARCHES else None)


def group_scan_sets(items: Iterable[GalleryItem]) -> list[ScanSet]:
    """Scan sets in the order of `items` (newest first), each set's arches upper, lower, bite."""
    grouped: dict[uuid.UUID, list[GalleryItem]] = {}
    for item in items:
        # A scan without a set id (none are written so, but the column allows it) is its own set.
        grouped.setdefault(item.image.scan_set_id or item.image.id, []).append(item)
    sets = []
    for set_id, members in grouped.items():
        members.sort(key=_arch_order)
        sets.append(
            ScanSet(
                id=set_id,
                created_at=min(item.image.created_at for item in members),
                arches=tuple(ArchScan.of(item) for item in members),
            )
        )
    return sets


def _selected(sets: list[ScanSet], wanted: str) -> ScanSet | None:
    """The set asked for by `?set=`, else the newest one that can be shown in 3D."""
    for scan_set in sets:
        if str(scan_set.id) == wanted:
            return scan_set
    return next((s for s in sets if s.viewable), sets[0] if sets else None)


def may_capture_3d(auth: Authorized) -> bool:
    """Whether the role may import scans and correct arches (front desk may not: photos only)."""
    return grant(auth.principal.role, Permission.IMAGING_CAPTURE) is Scope.FULL


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def render_scans_page(
    request: Request,
    *,
    db: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    auth: Authorized,
    patient: Patient,
    scan_set: str = "",
    notice: str = "",
    job: uuid.UUID | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The scans page of `patient`; `error` is a refused import, `job` a background import."""
    items = [
        gallery_item(db, store, auth, image, expires_in=settings.signed_url_seconds, original=False)
        for image in intraoral_service.scan_sets(db, patient.id)
    ]
    sets = group_scan_sets(items)
    selected = _selected(sets, scan_set)
    return render(
        request,
        "scans/viewer.html",
        {
            "patient": patient,
            "sets": sets,
            "selected": selected,
            "notice": NOTICES.get(notice),
            "imported": selected if notice == "imported" else None,
            "job": job,
            "error": error,
            "can_capture": may_capture_3d(auth),
            "arch_choices": ARCH_CHOICES,
            "accepted_files": ACCEPTED_FILES,
            "scan_units": SCAN_UNITS,
        },
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/scans")
def scans_page(
    *,
    request: Request,
    patient_id: uuid.UUID,
    db: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    auth: Viewer3D,
    scan_set: Annotated[str, Query(alias="set", max_length=40)] = "",
    notice: Annotated[str, Query(max_length=20)] = "",
    job: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """A patient's scan sets and a 3D viewer of one of them; `job` follows a background import."""
    patient = find_patient(db, auth.principal, patient_id, action="scan.list")
    return render_scans_page(
        request,
        db=db,
        store=store,
        settings=settings,
        auth=auth,
        patient=patient,
        scan_set=scan_set,
        notice=notice,
        job=_uuid_or_none(job),
    )
