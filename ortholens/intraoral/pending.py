"""The pending queue (seed 001): scan sets whose metadata named no patient of the clinic wait
here until a person assigns them to a patient (their arches become images) or discards them.

A set is assigned or discarded whole. The waiting originals live under the clinic's
`pending-scans` folder and are deleted once the assignment or discard has committed.
"""

from __future__ import annotations

import uuid
from functools import partial

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.intraoral import repository
from ortholens.intraoral.keys import arch_key
from ortholens.intraoral.service import DERIVE_JOB, Importer, link_bites
from ortholens.kit.db import defer_on_commit, utcnow
from ortholens.kit.errors import Conflict, NotFound
from ortholens.kit.jobs import request_job
from ortholens.kit.storage import ObjectStore
from ortholens.models import (
    FileType,
    Image,
    ImageSource,
    ImageStatus,
    Patient,
    PendingScan,
    PendingScanStatus,
)

PENDING_NOT_FOUND = "No pending scan with this id."
# What a pending row keeps only to help a person choose the patient.
_EVIDENCE_ONLY = (
    "patient_name",
    "patient_ref",
    "patient_birth_date",
    "original_ext",
    "original_type",
)


def _move_renders(
    db: Session,
    store: ObjectStore,
    row: PendingScan,
    *,
    patient: Patient,
    image_id: uuid.UUID,
    stored: list[str],
) -> list[dict[str, object]]:
    """Copy the export's renders that waited with this row into the new image's folder; the
    waiting copies are deleted once the assignment has committed."""
    moved = []
    for index, render in enumerate(row.scanner_metadata.get("renders") or [], start=1):
        ext = str(render["key"]).rsplit(".", 1)[-1]
        key = arch_key(row.clinic_id, patient.id, image_id, f"render-{index}", ext)
        store.put(key, store.read(str(render["key"])), content_type=str(render["media_type"]))
        stored.append(key)
        defer_on_commit(db, partial(store.delete, str(render["key"])))
        moved.append({**render, "key": key})
    return moved


def list_pending(db: Session, clinic_id: uuid.UUID | None) -> list[PendingScan]:
    """Scans still waiting for a person, oldest first (of one clinic, or all for a super admin)."""
    return repository.waiting_pending(db, clinic_id)


def _pending_set(
    db: Session, clinic_scope: uuid.UUID | None, pending_id: uuid.UUID
) -> list[PendingScan]:
    row = db.get(PendingScan, pending_id)
    if row is None or (clinic_scope is not None and row.clinic_id != clinic_scope):
        raise NotFound(PENDING_NOT_FOUND)
    if row.status is not PendingScanStatus.PENDING:
        raise Conflict("This scan was already assigned or discarded.")
    return repository.waiting_in_set(db, row.scan_set_id)


def assign_pending(
    db: Session,
    store: ObjectStore,
    importer: Importer,
    pending_id: uuid.UUID,
    *,
    patient: Patient,
    clinic_scope: uuid.UUID | None,
) -> list[Image]:
    """Give a pending scan set (every arch that arrived with this one) to a patient."""
    rows = _pending_set(db, clinic_scope, pending_id)
    if patient.clinic_id != rows[0].clinic_id:
        raise NotFound("No patient with this id.")
    images: list[Image] = []
    stored: list[str] = []
    try:
        for row in rows:
            meta = dict(row.scanner_metadata)
            image_id = uuid.uuid4()
            key = arch_key(
                row.clinic_id,
                patient.id,
                image_id,
                "original",
                str(meta.get("original_ext", "bin")),
            )
            put = store.put(
                key, store.read(row.original_key), content_type=str(meta.get("original_type"))
            )
            stored.append(key)
            mesh = meta.get("mesh", {})
            info = {k: v for k, v in meta.items() if k not in _EVIDENCE_ONLY}
            info["renders"] = _move_renders(
                db, store, row, patient=patient, image_id=image_id, stored=stored
            )
            earlier = repository.scan_duplicate(db, patient.id, row.original_sha256)
            if earlier is not None:
                info["duplicate_of"] = str(earlier.id)
            image = Image(
                id=image_id,
                clinic_id=row.clinic_id,
                patient_id=patient.id,
                file_type=FileType.SCAN_3D,
                category=f"SCAN_{row.arch}" if row.arch else None,
                source=ImageSource(row.source),
                status=ImageStatus.UPLOADED,
                original_key=key,
                original_sha256=put.sha256,
                original_size=put.size,
                mime_type=str(meta.get("original_type")),
                vertex_count=mesh.get("vertex_count"),
                face_count=mesh.get("face_count"),
                info=info,
                scanner_type=row.scanner_type,
                scan_format=row.scan_format,
                scan_set_id=row.scan_set_id,
                external_ref=row.external_ref,
                uploaded_by_user_id=row.imported_by_id,
            )
            db.add(image)
            images.append(image)
            row.status, row.resolved_at, row.resolved_by_id = (
                PendingScanStatus.ASSIGNED,
                utcnow(),
                importer.user_id,
            )
            row.image_id = image_id
            defer_on_commit(db, partial(store.delete, row.original_key))
        db.flush()
    except BaseException:
        for key in stored:  # the rows roll back with the transaction; the copies go here
            store.delete(key)
        raise
    link_bites(db, images, patient.id)
    for image in images:
        request_job(db, DERIVE_JOB, {"image_id": str(image.id)}, clinic_id=image.clinic_id)
    for row in rows:
        audit.record(
            db,
            importer.actor,
            "pending_scan.assign",
            clinic_id=row.clinic_id,
            target_type="pending_scan",
            target_id=row.id,
            details={
                "patient_id": str(patient.id),
                "image_id": str(row.image_id),
                "duplicate_of": next(
                    (i.info.get("duplicate_of") for i in images if i.id == row.image_id), None
                ),
            },
        )
    return images


def discard_pending(
    db: Session,
    store: ObjectStore,
    actor: audit.Actor,
    pending_id: uuid.UUID,
    *,
    user_id: uuid.UUID | None,
    clinic_scope: uuid.UUID | None,
) -> list[PendingScan]:
    """Throw away a pending scan set (a test scan, another practice's patient)."""
    rows = _pending_set(db, clinic_scope, pending_id)
    for row in rows:
        row.status, row.resolved_at, row.resolved_by_id = (
            PendingScanStatus.DISCARDED,
            utcnow(),
            user_id,
        )
        defer_on_commit(db, partial(store.delete, row.original_key))
        audit.record(
            db,
            actor,
            "pending_scan.discard",
            clinic_id=row.clinic_id,
            target_type="pending_scan",
            target_id=row.id,
        )
    return rows
