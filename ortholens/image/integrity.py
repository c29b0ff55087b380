"""Compare the object store with the imaging record (paperless-ngx's sanity checker, for us).

Finds objects no row refers to, rows whose objects are gone, and originals whose bytes no longer
match their SHA-256. Repairs only what is safe: orphaned objects are deleted, missing variants are
rebuilt by re-processing. A missing or altered original is reported, never "fixed".

An orphan is an object outside the folder of every known image (`{clinic}/{patient}/{kind}/{id}/`)
that nothing else refers to either: a pending scan, the upload of an unfinished background import,
or the file of an export job. Objects inside a known image's folder are left alone even when no row
names them yet: a worker may have stored variants it has not committed, and a re-run of its job
reuses them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.export.kinds import generating_jobs
from ortholens.image import repository
from ortholens.image.failed import is_dismissed
from ortholens.ingest.pipeline import INGEST_JOBS
from ortholens.job import repository as job_repository
from ortholens.kit.jobs import request_job
from ortholens.kit.jobs.record import JobStatus
from ortholens.kit.storage import ObjectMissing, ObjectStore
from ortholens.models import FileType, Image, ImageStatus

# The job that rebuilds an image's variants, per kind of image.
_REPROCESS = {FileType.PHOTO: "image.process", FileType.SCAN_3D: "intraoral.derive"}


@dataclass
class IntegrityReport:
    images_checked: int = 0
    orphan_objects: list[str] = field(default_factory=list)
    missing_originals: list[str] = field(default_factory=list)  # image ids
    missing_variants: list[str] = field(default_factory=list)  # image ids
    checksum_mismatches: list[str] = field(default_factory=list)  # image ids
    repaired: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.orphan_objects
            or self.missing_originals
            or self.missing_variants
            or self.checksum_mismatches
        )


def _sha256(store: ObjectStore, key: str) -> str:
    digest = hashlib.sha256()
    for chunk in store.iter_chunks(key):
        digest.update(chunk)
    return digest.hexdigest()


def _check_image(
    session: Session,
    store: ObjectStore,
    image: Image,
    report: IntegrityReport,
    *,
    verify_checksums: bool,
    repair: bool,
) -> None:
    if image.status is ImageStatus.PENDING or is_dismissed(image):
        return  # an upload ticket (its object may not have arrived yet), or bytes removed on purpose
    image_id = str(image.id)
    try:
        if store.head(image.original_key) is None:
            raise ObjectMissing(image.original_key)
        if (
            verify_checksums
            and image.original_sha256
            and _sha256(store, image.original_key) != image.original_sha256
        ):
            report.checksum_mismatches.append(image_id)
    except ObjectMissing:
        report.missing_originals.append(image_id)
    if any(store.head(str(key)) is None for key in image.variants.values()):
        report.missing_variants.append(image_id)
        if repair and image_id not in report.missing_originals:
            image.status, image.variants = ImageStatus.UPLOADED, {}
            request_job(
                session,
                _REPROCESS.get(image.file_type, "image.process"),
                {"image_id": image_id},
                clinic_id=image.clinic_id,
            )
            report.repaired.append(f"re-processing image {image_id}")


def _other_references(session: Session) -> set[str]:
    """Keys referred to by something other than an image row."""
    keys = repository.waiting_pending_scan_keys(session)
    # An ingest job holds a large upload until it is filed; a generating job holds its file.
    for job in job_repository.jobs_named(session, (*INGEST_JOBS, *generating_jobs())):
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING) and job.args.get("upload_key"):
            keys.add(str(job.args["upload_key"]))
        if job.status is JobStatus.SUCCEEDED and job.result and job.result.get("key"):
            keys.add(str(job.result["key"]))
    return keys


def check_storage(
    session: Session,
    store: ObjectStore,
    *,
    verify_checksums: bool = True,
    repair: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> IntegrityReport:
    """Cross-check every image row against the store; with `repair`, fix what is safe to fix."""
    report = IntegrityReport()
    images = repository.all_images(session)
    referenced: set[str] = set()
    for done, image in enumerate(images, 1):
        report.images_checked += 1
        referenced.add(image.original_key)
        referenced.update(str(key) for key in image.variants.values())
        _check_image(
            session, store, image, report, verify_checksums=verify_checksums, repair=repair
        )
        if progress:
            progress(done, len(images))
    folders = {key.rsplit("/", 1)[0] for key in referenced}
    referenced.update(_other_references(session))
    report.orphan_objects = [
        key
        for key in store.iter_keys()
        if key not in referenced and key.rsplit("/", 1)[0] not in folders
    ]
    if repair:
        for key in report.orphan_objects:
            store.delete(key)
            report.repaired.append(f"deleted orphan object {key}")
    audit.record(
        session,
        audit.SYSTEM,
        "storage.check",
        details={
            "images": report.images_checked,
            "orphans": len(report.orphan_objects),
            "missing_originals": len(report.missing_originals),
            "missing_variants": len(report.missing_variants),
            "checksum_mismatches": len(report.checksum_mismatches),
            "repaired": len(report.repaired),
        },
    )
    return report
