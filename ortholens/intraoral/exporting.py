"""Seed 000 "3D Mesh Export" as a job: the rules for asking for an export and for handing out its
download link. The work itself is `intraoral.export` (`export_tasks.py`), around the pure pipeline
`ortholens.processing.meshes.export`.

Rules:
- 1 to 10 intraoral scans of one patient, each once, none deleted, each READY or UPLOADED (the
  original is all the export needs, so the viewer's derived mesh need not be done).
- Another clinic's scan answers exactly like a random id (404, audited as denied), and nothing is
  queued for a refused request.
- The options are checked when asked (a bad option is a 422 now, not a failed job later).
- The job's row carries the clinic, so only that clinic sees it; its result is an object key, and the
  link to it is short-lived, signed, and audited every time it is handed out.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth.deps import Authorized
from ortholens.image.service import may_see_bytes
from ortholens.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from ortholens.kit.jobs import Job, JobStatus, request_job
from ortholens.kit.storage import ObjectStore
from ortholens.models import FileType, Image, ImageStatus
from ortholens.processing.meshes.export import ExportOptions
from ortholens.processing.meshes.types import MeshFormat

EXPORT_JOB = "intraoral.export"
MAX_SCANS = 10
EXPORTABLE = (ImageStatus.READY, ImageStatus.UPLOADED)
SCAN_NOT_FOUND = "No intraoral scan with this id."
EXPORT_NOT_FOUND = "No scan export with this id."
ARCHIVE_NAME = "intraoral-scans"


def options_to_args(options: ExportOptions) -> dict[str, Any]:
    """The user's choices as JSON job arguments (metadata is the job's to write, not the caller's)."""
    return {
        "format": options.format.value,
        "target_faces": options.target_faces,
        "up_axis": options.up_axis,
        "units": options.units,
        "zip": options.zip,
    }


def options_from_args(
    args: dict[str, Any], metadata: dict[str, str] | None = None
) -> ExportOptions:
    """ExportOptions from job arguments, validated again (a job may outlive a code change)."""
    try:
        fmt = MeshFormat(str(args["format"]))
    except (KeyError, ValueError):
        raise InvalidInput("Scans can be exported as STL, OBJ, PLY or 3MF.") from None
    target = args.get("target_faces")
    return ExportOptions(
        format=fmt,
        target_faces=int(target) if target is not None else None,
        up_axis=cast(Literal["Z", "Y"], args.get("up_axis", "Z")),
        units=cast(Literal["mm", "inch"], args.get("units", "mm")),
        zip=bool(args.get("zip", False)),
        metadata=metadata or {},
        archive_name=ARCHIVE_NAME,
    )


def _exportable_scans(db: Session, auth: Authorized, image_ids: Sequence[uuid.UUID]) -> list[Image]:
    if not image_ids:
        raise InvalidInput("Choose at least one scan to export.")
    if len(image_ids) > MAX_SCANS:
        raise InvalidInput(f"Export at most {MAX_SCANS} scans at a time.")
    if len(set(image_ids)) != len(image_ids):
        raise InvalidInput("Each scan can be exported only once per export.")
    scope = auth.principal.clinic_scope
    rows = {image.id: image for image in db.scalars(select(Image).where(Image.id.in_(image_ids)))}
    images: list[Image] = []
    for image_id in image_ids:
        image = rows.get(image_id)
        if image is not None and scope is not None and image.clinic_id != scope:
            audit.record_denied(
                db, auth.principal.actor, "scan.export", target_type="image", target_id=image_id
            )
            image = None
        if image is None or image.deleted_at is not None:
            raise NotFound(SCAN_NOT_FOUND)
        if image.file_type is not FileType.SCAN_3D:
            raise InvalidInput("Only intraoral 3D scans can be exported as meshes.")
        if not may_see_bytes(auth.scope, image.file_type):
            raise Forbidden("Your role may not export 3D scans.")
        if image.status not in EXPORTABLE:
            raise InvalidInput(
                "This scan cannot be exported yet: it is still being imported or failed to import."
            )
        images.append(image)
    if len({image.patient_id for image in images}) != 1:
        raise InvalidInput("Export the scans of one patient at a time.")
    if len({image.clinic_id for image in images}) != 1:  # only a super admin could get here
        raise InvalidInput("Export the scans of one clinic at a time.")
    return images


def request_export(
    db: Session, auth: Authorized, image_ids: Sequence[uuid.UUID], options: ExportOptions
) -> Job:
    """Check the scans and options and queue `intraoral.export`; sent when `db` commits."""
    images = _exportable_scans(db, auth, image_ids)
    clinic_id = images[0].clinic_id
    job = request_job(
        db,
        EXPORT_JOB,
        {
            "image_ids": [str(image.id) for image in images],
            "options": options_to_args(options),
            "user_id": str(auth.principal.user_id),
        },
        clinic_id=clinic_id,
    )
    audit.record(
        db,
        auth.principal.actor,
        "scan.export_request",
        clinic_id=clinic_id,
        target_type="job",
        target_id=job.id,
        details={
            "patient_id": str(images[0].patient_id),
            "image_ids": [str(image.id) for image in images],
            "format": options.format.value,
        },
    )
    return job


@dataclass(frozen=True)
class ExportView:
    """An export job as its requester sees it; `url` only once it succeeded."""

    job: Job
    filename: str | None
    size: int | None
    files: list[dict[str, Any]]
    url: str | None


def find_export(db: Session, auth: Authorized, job_id: uuid.UUID) -> Job:
    """The export job if it is one of the principal's clinic's, else NotFound (like a random id)."""
    job = db.get(Job, job_id)
    scope = auth.principal.clinic_scope
    if job is not None and job.name == EXPORT_JOB and (scope is None or job.clinic_id == scope):
        return job
    if job is not None and job.name == EXPORT_JOB:
        audit.record_denied(
            db, auth.principal.actor, "scan.export_download", target_type="job", target_id=job_id
        )
    raise NotFound(EXPORT_NOT_FOUND)


def export_status(
    db: Session, store: ObjectStore, auth: Authorized, job_id: uuid.UUID, *, url_seconds: int
) -> ExportView:
    """Progress of an export, and a signed link to its file once done (each link audited)."""
    job = find_export(db, auth, job_id)
    result = job.result or {}
    if job.status is not JobStatus.SUCCEEDED or "key" not in result:
        return ExportView(job, None, None, [], None)
    image_ids = [uuid.UUID(str(value)) for value in job.args.get("image_ids", [])]
    deleted = db.scalars(
        select(Image.id).where(Image.id.in_(image_ids), Image.deleted_at.is_not(None))
    ).first()
    if deleted is not None:
        # A deleted scan's geometry must not keep leaving through an old export.
        raise Conflict("A scan in this export has been deleted since; export again.")
    filename = str(result["filename"])
    url = store.presign_download(str(result["key"]), expires_in=url_seconds, filename=filename)
    audit.record(
        db,
        auth.principal.actor,
        "scan.export_download",
        clinic_id=job.clinic_id,
        target_type="job",
        target_id=job.id,
        details={"image_ids": [str(image_id) for image_id in image_ids]},
    )
    return ExportView(job, filename, int(result["size"]), list(result.get("files", [])), url)
