"""The one ingest function, from two sources each for photos and scans; duplicates; nothing left
behind by a refused or failed file; a large scan filed by the `ingest.file` job."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ortholens.audit.service import SYSTEM
from ortholens.ingest import INGEST_JOB, Incoming, IngestLimits, Submission, ingest
from ortholens.kit.db import transaction
from ortholens.kit.errors import InvalidInput
from ortholens.kit.jobs import Job, JobStatus
from ortholens.models import (
    AuditEvent,
    Clinic,
    FileType,
    Image,
    ImageSource,
    ImageStatus,
    Patient,
    PendingScan,
)
from ortholens.processing.meshes.types import ArchType
from ortholens.runtime import Runtime
from ortholens.upload.service import Uploader, request_upload
from tests.factories import create_consent, create_patient
from tests.fixtures.jobs import run_job
from tests.fixtures.photos import jpeg
from tests.intraoral import scan_files

PHOTOS = frozenset({FileType.PHOTO})
SCANS = frozenset({FileType.SCAN_3D})


@pytest.fixture
def patient(runtime: Runtime, clinic: Clinic) -> Patient:
    patient = create_patient(runtime, clinic)
    create_consent(runtime, patient)
    return patient


def submission(
    clinic: Clinic, patient: Patient | None, takes: frozenset[FileType], **options: Any
) -> Submission:
    return Submission(
        actor=SYSTEM,
        clinic_id=clinic.id,
        user_id=None,
        source=ImageSource.IMPORT,
        patient_id=patient.id if patient else None,
        takes=takes,
        **options,
    )


def file_now(runtime: Runtime, sub: Submission, *items: Incoming) -> list[dict[str, Any]]:
    """Ingest in one transaction; what was filed, read before the commit expires it."""
    with transaction(runtime.session_factory) as db:
        return [
            {
                "images": [image.id for image in filed.images],
                "categories": [image.category for image in filed.images],
                "pending": [row.id for row in filed.pending],
                "duplicate_of": filed.duplicate_of,
                "matched_by": filed.matched_by,
                "job_id": filed.job_id,
            }
            for filed in ingest(db, runtime.store, sub, list(items), IngestLimits())
        ]


def counts(runtime: Runtime) -> tuple[int, int, int]:
    """Images, pending scans and queued jobs."""
    with runtime.session_factory() as db:
        return (
            int(db.scalar(select(func.count()).select_from(Image)) or 0),
            int(db.scalar(select(func.count()).select_from(PendingScan)) or 0),
            int(db.scalar(select(func.count()).select_from(Job)) or 0),
        )


def keys(runtime: Runtime) -> list[str]:
    return sorted(runtime.store.iter_keys())


def jobs_for(runtime: Runtime, image_id: uuid.UUID) -> list[str]:
    with runtime.session_factory() as db:
        return [
            job.name for job in db.scalars(select(Job)) if job.args.get("image_id") == str(image_id)
        ]


def test_a_photo_is_filed_alike_from_bytes_and_from_a_signed_upload(
    runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    (sent,) = file_now(runtime, submission(clinic, patient, PHOTOS), Incoming("a.jpg", jpeg(1)))
    uploader = Uploader(clinic.id, patient.id, SYSTEM, ImageSource.PATIENT_APP)
    with transaction(runtime.session_factory) as db:
        ticket, _ = request_upload(
            db, runtime.store, uploader, scan_session_id=None, image_type=None
        )
        key, ticket_id = ticket.original_key, ticket.id
    runtime.store.put(key, jpeg(2), content_type="image/jpeg")
    (signed,) = file_now(runtime, uploader.submission(), Incoming("", key=key))

    assert signed["images"] == [ticket_id]  # the ticket is completed, not a second row
    first_id = sent["images"][0]
    assert jobs_for(runtime, first_id) == jobs_for(runtime, ticket_id) == ["image.process"]
    with runtime.session_factory() as db:
        first, second = (db.get(Image, first_id), db.get(Image, ticket_id))
        assert first is not None and second is not None
        for image in (first, second):
            assert (image.status, image.file_type, image.mime_type) == (
                ImageStatus.UPLOADED,
                FileType.PHOTO,
                "image/jpeg",
            )
            assert image.original_sha256 and image.original_size
        assert (first.source, second.source) == (ImageSource.IMPORT, ImageSource.PATIENT_APP)
        uploads = db.scalars(select(AuditEvent.action).where(AuditEvent.action == "image.upload"))
        assert len(list(uploads)) == 2


def test_a_duplicate_is_reported_and_not_stored_twice_when_asked(
    runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    (first,) = file_now(runtime, submission(clinic, patient, PHOTOS), Incoming("a.jpg", jpeg(4)))
    (again,) = file_now(runtime, submission(clinic, patient, PHOTOS), Incoming("b.jpg", jpeg(4)))
    assert again["duplicate_of"] == first["images"][0] and again["images"] != first["images"]
    before = (counts(runtime), keys(runtime))
    archive = submission(clinic, patient, PHOTOS, skip_duplicates=True)
    (skipped,) = file_now(runtime, archive, Incoming("c.jpg", jpeg(4)))
    assert skipped["duplicate_of"] == first["images"][0] == skipped["images"][0]
    assert (counts(runtime), keys(runtime)) == before


def test_a_refused_file_in_a_batch_leaves_no_rows_and_no_objects(
    runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    before = (counts(runtime), keys(runtime))
    with pytest.raises(InvalidInput, match=r"^notes\.jpg: "):
        file_now(
            runtime,
            submission(clinic, patient, PHOTOS),
            Incoming("good.jpg", jpeg(5)),
            Incoming("notes.jpg", b"not a photo at all"),
        )
    assert (counts(runtime), keys(runtime)) == before


def test_a_failure_after_storing_deletes_what_was_stored(
    runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    before = (counts(runtime), keys(runtime))
    # A check-in that does not exist: the row is refused by the database after the bytes are in.
    broken = submission(clinic, patient, PHOTOS, scan_session_id=uuid.uuid4())
    with pytest.raises(IntegrityError):
        file_now(runtime, broken, Incoming("a.jpg", jpeg(6)), Incoming("b.jpg", jpeg(7)))
    assert (counts(runtime), keys(runtime)) == before


def test_a_scan_is_filed_from_bytes_for_a_patient_or_for_whom_its_metadata_names(
    runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    (given,) = file_now(
        runtime,
        submission(clinic, patient, SCANS),
        Incoming("upper.stl", scan_files.stl(ArchType.UPPER)),
    )
    assert (given["categories"], given["matched_by"]) == (["SCAN_UPPER"], "given")
    assert jobs_for(runtime, given["images"][0]) == ["intraoral.derive"]
    ann = create_patient(runtime, clinic, first_name="Ann", last_name="Example")
    (named,) = file_now(
        runtime, submission(clinic, None, SCANS), Incoming("x.zip", scan_files.itero_bundle())
    )
    assert named["matched_by"] == "scanner metadata" and len(named["images"]) == 3
    with runtime.session_factory() as db:
        assert {db.get(Image, i).patient_id for i in named["images"]} == {ann.id}  # type: ignore[union-attr]


def test_a_scan_naming_nobody_waits_in_the_pending_queue(runtime: Runtime, clinic: Clinic) -> None:
    (waiting,) = file_now(
        runtime, submission(clinic, None, SCANS), Incoming("x.zip", scan_files.itero_bundle())
    )
    assert waiting["images"] == [] and len(waiting["pending"]) == 3
    assert all("/pending-scans/" in key for key in keys(runtime))


def test_a_large_scan_goes_to_the_job_and_is_filed_from_there(
    runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    large = submission(clinic, patient, SCANS, background_over=0)
    (queued,) = file_now(runtime, large, Incoming("set.zip", scan_files.itero_bundle()))
    assert queued["job_id"] is not None and queued["images"] == []
    assert counts(runtime)[0] == 0
    (upload,) = keys(runtime)
    assert upload.startswith(f"{clinic.id}/incoming/") and upload.endswith("/upload.zip")

    job = run_job(runtime, queued["job_id"])
    assert (job.name, job.status, job.progress) == (INGEST_JOB, JobStatus.SUCCEEDED, 1.0)
    assert job.result is not None and len(job.result["images"]) == 3
    assert job.result["matchedBy"] == "given"
    assert upload not in keys(runtime)  # the upload is removed once filed
    with runtime.session_factory() as db:
        images = list(db.scalars(select(Image)))
        assert {image.patient_id for image in images} == {patient.id}
        assert {image.source for image in images} == {ImageSource.IMPORT}
