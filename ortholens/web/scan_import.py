"""Bringing intraoral scans in from the staff pages: the import forms, following a background
import, the correction of a scan's arch, and the queue of scans that named no known patient.

The routes call the intraoral services directly (through `ortholens.intraoral.uploads`, as the
API does), so size rules, matching by the scanner's metadata, tenancy and audit are shared. Only
roles with the full imaging-capture grant may use them: front desk captures photos only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import Response

from ortholens.audit import service as audit
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.clinic.tenancy import find_in_clinic, target_clinic
from ortholens.http.deps import DecodersDep, SessionDep, SettingsDep, StoreDep
from ortholens.ingest import INGEST_JOBS, Filed
from ortholens.intraoral import pending as pending_queue
from ortholens.intraoral import repository as scan_records
from ortholens.intraoral import service as intraoral_service
from ortholens.intraoral.uploads import chosen_files, import_files
from ortholens.job import service as job_service
from ortholens.kit.errors import InvalidInput, NotFound, OrthoLensError
from ortholens.kit.jobs import JobStatus
from ortholens.models import FileType, Image, ImageSource, Patient, PendingScan
from ortholens.patient.service import find_patient
from ortholens.processing.meshes.types import ArchType
from ortholens.web.auth import PageCsrf, RequirePagePermission
from ortholens.web.routing import PageResponse, PageRoute, redirect
from ortholens.web.scans import ACCEPTED_FILES, SCAN_UNITS, render_scans_page
from ortholens.web.templating import render

router = APIRouter(include_in_schema=False, route_class=PageRoute, dependencies=[PageCsrf])

PENDING_PATH = "/scans/pending"
# Front desk may capture photos and documents only (DOMAIN.md), never 3D scans.
Capturer = Annotated[Authorized, RequirePagePermission(Permission.IMAGING_CAPTURE, full_scope=True)]

PENDING_NOTICES = {
    "pending": "The scanner's file names no patient of the clinic: the scans wait here for a "
    "person to assign them.",
    "discarded": "The pending scans were discarded.",
}


def _importer(
    auth: Authorized, clinic_id: uuid.UUID, source: ImageSource
) -> intraoral_service.Importer:
    return intraoral_service.Importer(
        auth.principal.actor, clinic_id, auth.principal.user_id, source
    )


def _after_import(result: Filed) -> str:
    """Where the browser goes once a file has been taken in (filed, or queued for the job)."""
    if result.job_id is not None:
        return f"/scans/jobs/{result.job_id}"
    if result.patient_id is None:
        return f"{PENDING_PATH}?notice=pending"
    return f"/patients/{result.patient_id}/scans?set={result.scan_set_id}&notice=imported"


@router.post("/patients/{patient_id}/scans/import")
def import_for_patient(
    *,
    request: Request,
    patient_id: uuid.UUID,
    file: list[UploadFile],
    db: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    decoders: DecodersDep,
    auth: Capturer,
    units: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Import a scan file, a scanner's ZIP or its export folder (several files: one bundle) for
    this patient (large files in the background)."""
    patient = find_patient(db, auth.principal, patient_id, action="scan.import")
    try:
        result = import_files(
            db,
            store,
            settings,
            _importer(auth, patient.clinic_id, ImageSource.UPLOAD),
            files=chosen_files(file),
            patient=patient,
            parse=decoders.run,
            units=units or None,
        )
    except OrthoLensError as refused:
        # Shown on the page the form was on; PageResponse rolls back anything half-recorded.
        page = render_scans_page(
            request,
            db=db,
            store=store,
            settings=settings,
            auth=auth,
            patient=patient,
            error=refused.detail,
            status_code=refused.status_code,
        )
        raise PageResponse(page) from None
    return redirect(request, _after_import(result))


@router.post("/scans/import")
def import_for_clinic(
    *,
    request: Request,
    file: list[UploadFile],
    db: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    decoders: DecodersDep,
    auth: Capturer,
    units: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Import a scanner's export whose metadata names the patient; unmatched ones wait in the
    pending queue."""
    try:
        clinic = target_clinic(db, auth.principal, None)
        result = import_files(
            db,
            store,
            settings,
            _importer(auth, clinic, ImageSource.UPLOAD),
            files=chosen_files(file),
            patient=None,
            parse=decoders.run,
            units=units or None,
        )
    except OrthoLensError as refused:
        page = _pending_page(
            request,
            db,
            auth,
            error=refused.detail,
            status_code=refused.status_code,
            audited=False,
        )
        raise PageResponse(page) from None
    return redirect(request, _after_import(result))


@router.get("/scans/jobs/{job_id}")
def import_job(request: Request, job_id: uuid.UUID, db: SessionDep, auth: Capturer) -> Response:
    """Where a background import leads: the imported set, the pending queue, or back to its
    progress while it runs (the page's script polls the job and comes here when it is done)."""
    job = job_service.get_job(db, job_id, auth.principal.clinic_scope)
    if job.name not in INGEST_JOBS:
        raise NotFound("No job with this id.")
    patient_id = job.args.get("patient_id")
    result: dict[str, Any] = job.result or {}
    if job.status is JobStatus.SUCCEEDED and result.get("patientId"):
        target = f"/patients/{result['patientId']}/scans?set={result.get('scanSetId')}"
        return redirect(request, f"{target}&notice=imported")
    if job.status is JobStatus.SUCCEEDED:
        return redirect(request, f"{PENDING_PATH}?notice=pending")
    if patient_id:
        return redirect(request, f"/patients/{patient_id}/scans?job={job.id}")
    return redirect(request, f"{PENDING_PATH}?job={job.id}")


@router.post("/patients/{patient_id}/scans/{image_id}/arch")
def correct_arch(
    *,
    request: Request,
    patient_id: uuid.UUID,
    image_id: uuid.UUID,
    db: SessionDep,
    auth: Capturer,
    arch: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """A person says which arch a scan is (the bite links of its set follow)."""
    patient = find_patient(db, auth.principal, patient_id, action="image.set_arch")
    image = find_in_clinic(
        db,
        auth.principal,
        Image,
        image_id,
        action="image.set_arch",
        target_type="image",
        not_found=intraoral_service.NOT_FOUND,
    )
    if (
        image.patient_id != patient.id
        or image.file_type is not FileType.SCAN_3D
        or image.deleted_at is not None
    ):
        raise NotFound(intraoral_service.NOT_FOUND)
    if arch not in set(ArchType):
        raise InvalidInput("Choose the upper arch, the lower arch or the bite.")
    intraoral_service.set_arch(db, auth.principal.actor, image, ArchType(arch))
    return redirect(request, f"/patients/{patient.id}/scans?set={image.scan_set_id}&notice=arch")


# ---- The pending queue --------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingGroup:
    """The pending arches that arrived together, assigned or discarded as one."""

    scan_set_id: uuid.UUID
    clinic_id: uuid.UUID
    rows: tuple[PendingScan, ...]

    @property
    def first_id(self) -> uuid.UUID:
        """The row the assign and discard forms name (the service acts on its whole set)."""
        return self.rows[0].id

    @property
    def created_at(self) -> datetime:
        return min(row.created_at for row in self.rows)


def group_pending(rows: Sequence[PendingScan]) -> list[PendingGroup]:
    """Rows by scan set, in the order the queue lists them (oldest first)."""
    grouped: dict[uuid.UUID, list[PendingScan]] = {}
    for row in rows:
        grouped.setdefault(row.scan_set_id, []).append(row)
    return [
        PendingGroup(set_id, members[0].clinic_id, tuple(members))
        for set_id, members in grouped.items()
    ]


def _patients_by_clinic(db: SessionDep, clinics: set[uuid.UUID]) -> dict[uuid.UUID, list[Patient]]:
    """The active patients of each clinic that has pending scans, for the assign forms."""
    found: dict[uuid.UUID, list[Patient]] = {clinic: [] for clinic in clinics}
    for patient in scan_records.active_patients_of(db, clinics):
        found[patient.clinic_id].append(patient)
    return found


def arch_text(row: PendingScan) -> str:
    """`Upper arch (87 %)`, or `Not detected`."""
    labels = {"UPPER": "Upper arch", "LOWER": "Lower arch", "BITE": "Bite"}
    if not row.arch:
        return "Not detected"
    label = labels.get(row.arch, row.arch)
    if row.arch_confidence is None:
        return label
    return f"{label} ({round(row.arch_confidence * 100)} %)"


def _pending_page(
    request: Request,
    db: SessionDep,
    auth: Authorized,
    *,
    notice: str = "",
    job: uuid.UUID | None = None,
    error: str | None = None,
    status_code: int = 200,
    audited: bool = True,
) -> Response:
    rows = pending_queue.list_pending(db, auth.principal.clinic_scope)
    if audited:
        audit.record(db, auth.principal.actor, "pending_scan.list", details={"count": len(rows)})
    groups = group_pending(rows)
    return render(
        request,
        "scans/pending.html",
        {
            "groups": groups,
            "patients": _patients_by_clinic(db, {group.clinic_id for group in groups}),
            "arch_text": arch_text,
            "notice": PENDING_NOTICES.get(notice),
            "job": job,
            "error": error,
            # A super admin spans clinics; the clinic import needs a clinic of one's own.
            "can_import": auth.principal.clinic_scope is not None,
            "accepted_files": ACCEPTED_FILES,
            "scan_units": SCAN_UNITS,
        },
        status_code=status_code,
    )


@router.get(PENDING_PATH)
def pending_page(
    request: Request,
    db: SessionDep,
    auth: Capturer,
    notice: Annotated[str, Query(max_length=20)] = "",
    job: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """Scans whose metadata named no patient of the clinic, grouped by the set they came in."""
    try:
        job_id = uuid.UUID(job) if job else None
    except ValueError:
        job_id = None
    return _pending_page(request, db, auth, notice=notice, job=job_id)


@router.post(PENDING_PATH + "/{pending_id}/assign")
def assign_pending(
    *,
    request: Request,
    pending_id: uuid.UUID,
    db: SessionDep,
    store: StoreDep,
    auth: Capturer,
    patient_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Give a pending scan set to the chosen patient, then open their scans."""
    try:
        chosen = uuid.UUID(patient_id)
    except ValueError:
        raise InvalidInput("Choose the patient these scans belong to.") from None
    patient = find_patient(db, auth.principal, chosen, action="pending_scan.assign")
    images = pending_queue.assign_pending(
        db,
        store,
        _importer(auth, patient.clinic_id, ImageSource.IMPORT),
        pending_id,
        patient=patient,
        clinic_scope=auth.principal.clinic_scope,
    )
    set_id = images[0].scan_set_id if images else ""
    return redirect(request, f"/patients/{patient.id}/scans?set={set_id}&notice=assigned")


@router.post(PENDING_PATH + "/{pending_id}/discard")
def discard_pending(
    request: Request, pending_id: uuid.UUID, db: SessionDep, store: StoreDep, auth: Capturer
) -> Response:
    """Throw a pending scan set away (a test scan, another practice's patient)."""
    pending_queue.discard_pending(
        db,
        store,
        auth.principal.actor,
        pending_id,
        user_id=auth.principal.user_id,
        clinic_scope=auth.principal.clinic_scope,
    )
    return redirect(request, f"{PENDING_PATH}?notice=discarded")
