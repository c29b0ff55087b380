"""Seed 000 "3D Mesh Export" as a job: the rules for asking for an export and for handing out its
download link. The work itself is `intraoral.export` (`export_tasks.py`), around the pure pipeline
`ortholens.processing.meshes.export`.

Rules:
- 1 to 10 intraoral scans of one patient, each once, none deleted, each READY or UPLOADED (the
  original is all the export needs, so the viewer's derived mesh need not be done).
- Another clinic's scan answers exactly like a random id (404, audited as denied), and nothing is
  queued for a refused request.
- The options are checked when asked (a bad option is a 422 now, not a failed job later).
- A scan deleted after the export was made stops its download (409, "export again").

What every generated file shares (the job's clinic scope, the key, the signed link, the audit of
each link and download, expiry) is `ortholens.export`'s; this module only says what is mesh-specific.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Literal, cast

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth.principals import Authorized
from ortholens.export import (
    DownloadPolicy,
    FileView,
    GeneratedKind,
    Requester,
    file_status,
    request_generation,
)
from ortholens.image import repository as images
from ortholens.image.service import may_see_bytes
from ortholens.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from ortholens.kit.jobs import Job
from ortholens.models import FileType, Image, ImageStatus
from ortholens.processing.meshes.export import ExportOptions
from ortholens.processing.meshes.types import MeshFormat

EXPORT_JOB = "intraoral.export"
MAX_SCANS = 10
EXPORTABLE = (ImageStatus.READY, ImageStatus.UPLOADED)
SCAN_NOT_FOUND = "No intraoral scan with this id."
EXPORT_NOT_FOUND = "No scan export with this id."
ARCHIVE_NAME = "intraoral-scans"


def _scans_still_there(db: Session, job: Job) -> None:
    """A deleted scan's geometry must not keep leaving through an old export."""
    for value in job.args.get("image_ids", []):
        image = images.get(db, uuid.UUID(str(value)))
        if image is None or image.deleted_at is not None:
            raise Conflict("A scan in this export has been deleted since; export again.")


SCAN_EXPORT = GeneratedKind(
    job=EXPORT_JOB,
    key_kind="scan-export",
    audit_prefix="scan.export",
    not_found=EXPORT_NOT_FOUND,
    still_available=_scans_still_there,
)


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
    found: list[Image] = []
    for image_id in image_ids:
        image = images.get(db, image_id)
        if image is not None and scope is not None and image.clinic_id != scope:
            audit.record_denied(
                db, auth.principal.actor, "scan.export", target_type="image", target_id=image_id
            )
            image = None
        if image is None or image.deleted_at is not None:
            raise NotFound(SCAN_NOT_FOUND)
        if image.file_type is not FileType.SCAN_3D:
            raise InvalidInput("Only intraoral 3D scans can be exported as meshes.")
        if not may_see_bytes(auth, image):
            raise Forbidden("Your role may not export 3D scans.")
        if image.status not in EXPORTABLE:
            raise InvalidInput(
                "This scan cannot be exported yet: it is still being imported or failed to import."
            )
        found.append(image)
    if len({image.patient_id for image in found}) != 1:
        raise InvalidInput("Export the scans of one patient at a time.")
    if len({image.clinic_id for image in found}) != 1:  # only a super admin could get here
        raise InvalidInput("Export the scans of one clinic at a time.")
    return found


def requester(auth: Authorized) -> Requester:
    """The signed-in staff member as the generated-file service sees them."""
    return Requester(auth.principal.clinic_scope, auth.principal.actor)


def request_export(
    db: Session, auth: Authorized, image_ids: Sequence[uuid.UUID], options: ExportOptions
) -> Job:
    """Check the scans and options and queue `intraoral.export`; sent when `db` commits."""
    scans = _exportable_scans(db, auth, image_ids)
    ids = [str(image.id) for image in scans]
    return request_generation(
        db,
        SCAN_EXPORT,
        requester(auth),
        clinic_id=scans[0].clinic_id,
        patient_id=scans[0].patient_id,
        args={"image_ids": ids, "options": options_to_args(options)},
        details={
            "patient_id": str(scans[0].patient_id),
            "image_ids": ids,
            "format": options.format.value,
        },
    )


def export_status(
    db: Session, auth: Authorized, job_id: uuid.UUID, policy: DownloadPolicy
) -> FileView:
    """Progress of an export, and a signed link to its file once done (each link audited)."""
    return file_status(db, SCAN_EXPORT, requester(auth), job_id, policy)
