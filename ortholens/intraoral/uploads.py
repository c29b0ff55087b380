"""One uploaded scan file, from the API or a staff page, into the scan record.

Both callers share the size rules and the split between importing in the request and handing a
large file to the `intraoral.import` job, so a file is treated the same whichever way it came in.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.intraoral import service
from ortholens.intraoral.arches_in import read_arches
from ortholens.intraoral.keys import pending_key
from ortholens.intraoral.tasks import scan_limits
from ortholens.kit.errors import InvalidInput, PayloadTooLarge
from ortholens.kit.jobs import request_job
from ortholens.kit.storage import ObjectStore
from ortholens.models import Patient
from ortholens.settings import Settings

IMPORT_JOB = "intraoral.import"
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,16})$")
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class UploadOutcome:
    """Either the recorded set (`outcome`) or the background job that will record it."""

    outcome: service.ImportOutcome | None
    job_id: uuid.UUID | None


def upload_size(file: BinaryIO) -> int:
    """The size of a spooled upload, leaving it rewound."""
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    return size


def import_upload(
    db: Session,
    store: ObjectStore,
    settings: Settings,
    importer: service.Importer,
    *,
    file: BinaryIO,
    name: str,
    patient: Patient | None,
) -> UploadOutcome:
    """Import `file` (called `name`) for `patient`, or for whom the scanner's metadata names.

    Refuses an empty file (InvalidInput) or one over `max_scan_upload_mb` (PayloadTooLarge); a file
    over `scan_background_mb` is stored and left to the `intraoral.import` job.
    """
    size = upload_size(file)
    if size > settings.max_scan_upload_mb * 1024 * 1024:
        raise PayloadTooLarge(f"A scan file may be at most {settings.max_scan_upload_mb} MB.")
    if size == 0:
        raise InvalidInput("The file is empty.")
    name = name or "scan"
    if size > settings.scan_background_mb * 1024 * 1024:
        return UploadOutcome(
            None, _queue(db, store, importer, file=file, name=name, patient=patient, size=size)
        )
    data = file.read()
    arches = read_arches(data, name, scan_limits(settings.max_scan_upload_mb))
    outcome = service.import_scan_set(
        db,
        store,
        importer,
        arches,
        patient,
        bundle=data if data[:4] == _ZIP_MAGIC else None,
    )
    return UploadOutcome(outcome, None)


def _queue(
    db: Session,
    store: ObjectStore,
    importer: service.Importer,
    *,
    file: BinaryIO,
    name: str,
    patient: Patient | None,
    size: int,
) -> uuid.UUID:
    clinic = importer.clinic_id
    match = _EXTENSION.search(name)
    key = pending_key(clinic, uuid.uuid4(), "upload", match.group(1) if match else "bin")
    store.put(key, file, content_type="application/octet-stream")
    job = request_job(
        db,
        IMPORT_JOB,
        {
            "upload_key": key,
            "name": name,
            "clinic_id": str(clinic),
            "patient_id": str(patient.id) if patient else None,
            "user_id": str(importer.user_id) if importer.user_id else None,
            "source": importer.source.value,
        },
        clinic_id=clinic,
    )
    audit.record(
        db,
        importer.actor,
        "scan.import_queued",
        clinic_id=clinic,
        target_type="job",
        target_id=job.id,
        details={"size": size},
    )
    return job.id
