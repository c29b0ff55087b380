"""Seed 001 endpoints for files: import, metadata, arch correction, the pending queue, and a
patient's scans for the viewer."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Response, UploadFile

from ortholens.audit import service as audit
from ortholens.auth.deps import RequirePermission
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.clinic.tenancy import find_in_clinic, target_clinic
from ortholens.http.deps import DecodersDep, SessionDep, SettingsDep, StoreDep
from ortholens.image.service import gallery_item
from ortholens.intraoral import pending, service, uploads
from ortholens.intraoral.schemas import (
    ArchChange,
    AssignPending,
    ImportResult,
    PendingScanRead,
    RenderRead,
    ScanMetadata,
    ScanRead,
)
from ortholens.kit.errors import InvalidInput, NotFound
from ortholens.models import FileType, Image, ImageSource, PendingScan
from ortholens.patient.service import find_patient

router = APIRouter(tags=["intraoral scans"])
# Front desk may capture photos and documents only (DOMAIN.md), never 3D scans.
Capturer = Annotated[Authorized, RequirePermission(Permission.IMAGING_CAPTURE, full_scope=True)]
Viewer = Annotated[Authorized, RequirePermission(Permission.IMAGING_VIEW)]
Viewer3D = Annotated[Authorized, RequirePermission(Permission.IMAGING_3D_VIEW)]


def scan_read(image: Image, urls: dict[str, str] | None = None) -> ScanRead:
    detection = image.info.get("arch_detection") or {}
    return ScanRead(
        id=image.id,
        patient_id=image.patient_id,
        scan_set_id=image.scan_set_id,
        category=image.category,
        arch_confidence=detection.get("confidence"),
        arch_set_by_user=bool(image.info.get("arch_set_by_user")),
        status=image.status,
        failure_reason=image.failure_reason,
        source=image.source,
        scanner_type=image.scanner_type,
        scan_format=image.scan_format,
        scan_quality=image.scan_quality,
        vertex_count=image.vertex_count,
        face_count=image.face_count,
        bite_upper_id=image.bite_upper_id,
        bite_lower_id=image.bite_lower_id,
        captured_at=image.captured_at,
        created_at=image.created_at,
        duplicate_of=image.info.get("duplicate_of"),
        urls=urls or {},
    )


def pending_read(row: PendingScan) -> PendingScanRead:
    meta = row.scanner_metadata
    return PendingScanRead(
        id=row.id,
        scan_set_id=row.scan_set_id,
        status=row.status,
        source=row.source,
        source_name=row.source_name,
        scan_format=row.scan_format,
        scanner_type=row.scanner_type,
        arch=row.arch,
        arch_confidence=row.arch_confidence,
        patient_name=meta.get("patient_name"),
        patient_ref=meta.get("patient_ref"),
        created_at=row.created_at,
    )


def _importer(auth: Authorized, clinic_id: uuid.UUID, source: ImageSource) -> service.Importer:
    return service.Importer(auth.principal.actor, clinic_id, auth.principal.user_id, source)


@router.post("/api/imaging/3d/import", response_model=ImportResult, status_code=201)
def import_scan(
    *,
    file: list[UploadFile],
    auth: Capturer,
    db: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    decoders: DecodersDep,
    response: Response,
    patient_id: Annotated[uuid.UUID | None, Form(alias="patientId")] = None,
    clinic_id: Annotated[uuid.UUID | None, Form(alias="clinicId")] = None,
    units: Annotated[str | None, Form(max_length=16)] = None,
) -> ImportResult:
    """Import an STL, PLY, OBJ, 3MF, 3Shape .dcm file or a scanner's ZIP bundle; several `file`
    parts (a scanner's export folder, paths in their file names) are imported as one bundle.

    Without `patientId` the scanner's metadata must name exactly one patient of the clinic, else
    the arches wait in the pending queue. Files over the background size answer 202 with a job.
    A scan the patient already has (same SHA-256) is stored and reported in `duplicateOf`.
    `units` (mm, cm, m, um, in) reads the scans in that unit instead of the files' own, as the
    size check of an earlier import may suggest (`archDetection.size.suggestions`).
    """
    patient = (
        find_patient(db, auth.principal, patient_id, action="scan.import") if patient_id else None
    )
    clinic = patient.clinic_id if patient else target_clinic(db, auth.principal, clinic_id)
    result = uploads.import_files(
        db,
        store,
        settings,
        _importer(auth, clinic, ImageSource.UPLOAD),
        files=uploads.chosen_files(file),
        patient=patient,
        parse=decoders.run,
        units=units,
    )
    if result.job_id is not None:
        response.status_code = 202
        return ImportResult(
            scan_set_id=None,
            patient_id=patient.id if patient else None,
            matched_by=None,
            scans=[],
            pending=[],
            job_id=result.job_id,
        )
    return ImportResult(
        scan_set_id=result.scan_set_id,
        patient_id=result.patient_id,
        matched_by=result.matched_by,
        scans=[scan_read(image) for image in result.images],
        pending=[pending_read(row) for row in result.pending],
        duplicate_of=result.duplicate_of,
    )


def _scan(db: SessionDep, auth: Authorized, image_id: uuid.UUID, action: str) -> Image:
    image = find_in_clinic(
        db,
        auth.principal,
        Image,
        image_id,
        action=action,
        target_type="image",
        not_found=service.NOT_FOUND,
    )
    if image.file_type is not FileType.SCAN_3D or image.deleted_at is not None:
        raise (
            InvalidInput("This image is not an intraoral 3D scan.")
            if image.deleted_at is None
            else InvalidInput(service.NOT_FOUND)
        )
    return image


@router.get("/api/imaging/3d/{image_id}/metadata", response_model=ScanMetadata)
def scan_metadata(image_id: uuid.UUID, auth: Viewer3D, db: SessionDep) -> ScanMetadata:
    """Mesh statistics, the arch detection and the scanner's own metadata of one scan.

    A view of the scan (imaging:3d_view): the scanner's fields may name the patient. Roles
    without 3D view keep the gallery's item fields (`GET /api/images/{id}`)."""
    image = _scan(db, auth, image_id, "image.read")
    audit.record(
        db,
        auth.principal.actor,
        "image.read",
        clinic_id=image.clinic_id,
        target_type="image",
        target_id=image.id,
        details={"patient_id": str(image.patient_id)},
    )
    info = image.info
    return ScanMetadata(
        id=image.id,
        scan_format=image.scan_format,
        scanner_type=image.scanner_type,
        scan_quality=image.scan_quality,
        category=image.category,
        mesh=info.get("mesh", {}),
        arch_detection=info.get("arch_detection", {}),
        scanner=info.get("scanner", {}),
        web_mesh=info.get("web_mesh"),
        colour=info.get("colour"),
        file_notes=info.get("file_notes") or [],
        renders=[
            RenderRead(index=index, name=r["name"], media_type=r["media_type"], size=r["size"])
            for index, r in enumerate(info.get("renders") or [], start=1)
        ],
        duplicate_of=info.get("duplicate_of"),
    )


@router.get("/api/imaging/3d/{image_id}/renders/{index}", response_class=Response)
def scan_render(
    image_id: uuid.UUID, index: int, auth: Viewer3D, db: SessionDep, store: StoreDep
) -> Response:
    """One image that came with the scan's export (a gallery JPG, a screenshot of the model)."""
    image = _scan(db, auth, image_id, "image.view")
    renders = image.info.get("renders") or []
    if not 1 <= index <= len(renders):
        raise NotFound("This scan has no render with this number.")
    render = renders[index - 1]
    audit.record(
        db,
        auth.principal.actor,
        "image.view",
        clinic_id=image.clinic_id,
        target_type="image",
        target_id=image.id,
        details={"patient_id": str(image.patient_id), "render": index},
    )
    return Response(
        store.read(render["key"]),
        media_type=render["media_type"],
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.patch("/api/imaging/3d/{image_id}/arch", response_model=ScanRead)
def correct_arch(image_id: uuid.UUID, body: ArchChange, auth: Capturer, db: SessionDep) -> ScanRead:
    """Say which arch a scan is (corrects the detection; bite links follow)."""
    image = _scan(db, auth, image_id, "image.set_arch")
    return scan_read(service.set_arch(db, auth.principal.actor, image, body.arch))


@router.get("/api/patients/{patient_id}/scans", response_model=list[ScanRead])
def patient_scans(
    patient_id: uuid.UUID, auth: Viewer3D, db: SessionDep, store: StoreDep, settings: SettingsDep
) -> list[ScanRead]:
    """A patient's intraoral scans, newest set first, with links to the web mesh and thumbnail."""
    patient = find_patient(db, auth.principal, patient_id, action="scan.list")
    items = [
        gallery_item(db, store, auth, image, expires_in=settings.signed_url_seconds, original=False)
        for image in service.scan_sets(db, patient.id)
    ]
    return [scan_read(item.image, item.urls) for item in items]


@router.get("/api/imaging/3d/pending", response_model=list[PendingScanRead])
def pending_scans(auth: Capturer, db: SessionDep) -> list[PendingScanRead]:
    """Scans whose metadata named no known patient, waiting for a person to assign them."""
    rows = pending.list_pending(db, auth.principal.clinic_scope)
    audit.record(db, auth.principal.actor, "pending_scan.list", details={"count": len(rows)})
    return [pending_read(row) for row in rows]


@router.post("/api/imaging/3d/pending/{pending_id}/assign", response_model=list[ScanRead])
def assign_pending(
    pending_id: uuid.UUID, body: AssignPending, auth: Capturer, db: SessionDep, store: StoreDep
) -> list[ScanRead]:
    """Give the pending scan, and the arches that arrived with it, to a patient."""
    patient = find_patient(db, auth.principal, body.patient_id, action="pending_scan.assign")
    images = pending.assign_pending(
        db,
        store,
        _importer(auth, patient.clinic_id, ImageSource.IMPORT),
        pending_id,
        patient=patient,
        clinic_scope=auth.principal.clinic_scope,
    )
    return [scan_read(image) for image in images]


@router.post("/api/imaging/3d/pending/{pending_id}/discard", response_model=list[PendingScanRead])
def discard_pending(
    pending_id: uuid.UUID, auth: Capturer, db: SessionDep, store: StoreDep
) -> list[PendingScanRead]:
    """Throw a pending scan set away."""
    rows = pending.discard_pending(
        db,
        store,
        auth.principal.actor,
        pending_id,
        user_id=auth.principal.user_id,
        clinic_scope=auth.principal.clinic_scope,
    )
    return [pending_read(row) for row in rows]
