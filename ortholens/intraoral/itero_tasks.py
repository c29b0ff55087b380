"""The iTero sync job (seed 001).

intraoral.itero_sync   download the chosen iTero scans of a clinic and record each as a scan set:
                       for the given patient, for the one patient the scan's name matches, or in
                       the pending queue. Files the clinic already holds (by iTero file id) are
                       skipped, so running it again, or a retry, imports nothing twice.

The job never writes through `ctx.session`: each scan is recorded in its own transaction (a later
failure keeps the scans already imported), and refreshed tokens are committed the moment they
arrive. On SQLite the job's own session would hold the write lock and stall both.
"""

from __future__ import annotations

import tempfile
import uuid
from typing import Any

import structlog
from sqlalchemy.orm import Session

from ortholens.ingest import Incoming, IngestLimits, Prepared, Submission, prepare
from ortholens.ingest import file as file_prepared
from ortholens.ingest.pipeline import ParseRunner
from ortholens.intraoral import itero, service
from ortholens.kit.db import transaction
from ortholens.kit.errors import InvalidInput
from ortholens.kit.jobs import JobContext, job_handler
from ortholens.kit.resources import Resources
from ortholens.kit.storage import ObjectStore
from ortholens.models import ImageSource, Patient, PatientStatus
from ortholens.patient import repository as patients
from ortholens.processing.meshes.arches import classify_arch
from ortholens.processing.meshes.types import ArchType, ScannerType
from ortholens.scanners.itero import IteroAuthError, IteroClient, IteroFile, IteroScan

log = structlog.get_logger(__name__)

SYNC_JOB = "intraoral.itero_sync"
MESH_FORMATS = frozenset({"stl", "ply", "obj", "3mf", "dcm", "zip"})


def arch_files(scan: IteroScan) -> list[IteroFile]:
    """The files of a scan that are arches (not the order XML or reports)."""
    return [f for f in scan.files if f.jaw is not None or f.format.lower() in MESH_FORMATS]


def _download(client: IteroClient, scan: IteroScan, file: IteroFile, max_bytes: int) -> bytes:
    # Spooled to disk while it arrives, so a file that breaks the cap never sits in memory whole.
    with tempfile.TemporaryFile(prefix="itero-") as sink:
        client.stream_file(scan, file, sink, max_bytes=max_bytes)
        sink.seek(0)
        return sink.read()


def scan_arches(
    client: IteroClient,
    scan: IteroScan,
    files: list[IteroFile],
    submission: Submission,
    *,
    limits: IngestLimits,
    store: ObjectStore,
    parse: ParseRunner,
) -> list[Prepared]:
    """Download `files` of `scan` and read them through the ingest pipeline (`parse`: the
    isolated decoder pool); iTero's listing names the jaw and the patient."""
    incoming = [
        Incoming(
            f"{file.file_id}.{file.format.lower()}",
            data=_download(client, scan, file, limits.mesh.max_file_bytes),
            external_ref=file.file_id,
        )
        for file in files
    ]
    prepared = prepare(store, submission, incoming, limits, parse=parse)
    for file, item in zip(files, prepared, strict=True):
        for arch in item.parsed:
            scanner = arch.loaded.scanner
            scanner.scanner_type = ScannerType.ITERO
            scanner.patient_name = scan.patient_name or scanner.patient_name
            scanner.patient_ref = scan.patient_ref or scanner.patient_ref
            scanner.order_ref = scan.order_id
            scanner.captured_at = scanner.captured_at or scan.scanned_at
            scanner.extra = {**scanner.extra, "itero_scan_id": scan.scan_id}
            if file.jaw is not None:
                # The listing names the jaw; a shape that clearly says another one (or a size
                # that is no arch's) leaves it for a person (`classify_arch`).
                scanner.arch = ArchType(file.jaw.upper())
                arch.guess = classify_arch(arch.loaded.mesh, scanner)
    return prepared


def _patient(db: Session, clinic_id: uuid.UUID, patient_id: str | None) -> Patient | None:
    if patient_id is None:
        return None
    patient = patients.get(db, uuid.UUID(patient_id))
    if (
        patient is None
        or patient.clinic_id != clinic_id
        or patient.status is PatientStatus.ARCHIVED
    ):
        raise InvalidInput("The patient chosen for this iTero sync no longer exists.")
    assert isinstance(patient, Patient)
    return patient


def _record(
    runtime: Resources,
    importer: service.Importer,
    patient_id: str | None,
    prepared: list[Prepared],
) -> dict[str, Any]:
    with transaction(runtime.session_factory) as db:
        patient = _patient(db, importer.clinic_id, patient_id)
        submission = importer.submission(patient.id if patient else None)
        (filed,) = file_prepared(db, runtime.store, submission, prepared)
        return {
            "scanSetId": str(filed.scan_set_id),
            "patientId": str(filed.patient_id) if filed.patient_id else None,
            "matchedBy": filed.matched_by,
            "images": [str(image.id) for image in filed.images],
            "pending": [str(row.id) for row in filed.pending],
        }


@job_handler(SYNC_JOB, max_attempts=3)
def sync_itero_scans(
    ctx: JobContext,
    *,
    clinic_id: str,
    scan_ids: list[str],
    patient_id: str | None,
    user_id: str | None,
) -> dict[str, Any]:
    """Import the iTero scans `scan_ids` of the clinic (see the module docstring)."""
    runtime: Resources = ctx.resources
    importer = service.Importer.in_job(clinic_id, user_id, ImageSource.ITERO)
    clinic = importer.clinic_id
    key = runtime.secrets.storage_encryption_key
    with ctx.snapshot() as read:
        integration = itero.require_integration(read, clinic)
        integration_id, sealed = integration.id, integration.credentials
        held = itero.imported_refs(read, clinic)
        _patient(read, clinic, patient_id)  # refuse early, before anything is downloaded
    # Outside the snapshot: on SQLite it holds the write lock that deactivating needs.
    deactivate = itero.deactivate_apart(runtime, integration_id)
    with itero.reconnect_on_auth_error(deactivate):
        tokens = itero.open_sealed_tokens(key, clinic, sealed)

    max_mb = runtime.settings.max_scan_upload_mb
    results: list[dict[str, Any]] = []
    wanted = list(dict.fromkeys(scan_ids))
    ctx.progress(0.02, "listing iTero scans")
    try:
        with (
            itero.reconnect_on_auth_error(deactivate),
            itero.client_apart(runtime, integration_id, clinic, tokens) as client,
        ):
            listed = {scan.scan_id: scan for scan in client.iter_scans()}
            for number, scan_id in enumerate(wanted):
                ctx.progress(
                    0.05 + 0.9 * number / len(wanted),
                    f"importing iTero scan {number + 1} of {len(wanted)}",
                )
                results.append(
                    _sync_one(
                        runtime,
                        client,
                        importer,
                        scan_id,
                        listed.get(scan_id),
                        held=held,
                        patient_id=patient_id,
                        max_mb=max_mb,
                    )
                )
    except IteroAuthError as exc:
        # Nothing a retry can fix: an admin has to reconnect. InvalidInput ends the job for good.
        raise InvalidInput(exc.detail) from None
    itero.mark_synced(runtime, integration_id)
    return {
        "scans": results,
        "images": sum(len(r.get("images", [])) for r in results),
        "pending": sum(len(r.get("pending", [])) for r in results),
    }


def _sync_one(
    runtime: Resources,
    client: IteroClient,
    importer: service.Importer,
    scan_id: str,
    scan: IteroScan | None,
    *,
    held: set[str],
    patient_id: str | None,
    max_mb: int,
) -> dict[str, Any]:
    if scan is None:
        return {"scanId": scan_id, "error": "iTero lists no scan with this id."}
    files = [f for f in arch_files(scan) if f.file_id not in held]
    skipped = len(arch_files(scan)) - len(files)
    if not files:
        return {"scanId": scan_id, "skipped": skipped, "images": [], "pending": []}
    try:
        prepared = scan_arches(
            client,
            scan,
            files,
            importer.submission(None),
            limits=IngestLimits.for_scans_up_to(max_mb),
            store=runtime.store,
            parse=runtime.decoders.run,
        )
    except InvalidInput as exc:  # too large (PayloadTooLarge) or a damaged mesh: skip this scan
        log.warning("itero.scan_refused", scan_id=scan_id, reason=type(exc).__name__)
        return {"scanId": scan_id, "error": exc.detail}
    recorded = _record(runtime, importer, patient_id, prepared)
    held.update(f.file_id for f in files)
    return {"scanId": scan_id, "skipped": skipped, **recorded}
