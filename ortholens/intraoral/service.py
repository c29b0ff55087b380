"""The scan record (seed 001): storing arches, matching them to a patient, the pending queue,
bite links, arch corrections and metadata.

Rules:
- A scan set is what arrived together (one file, one bundle, one iTero scan); its arches share
  `scan_set_id`. A bite is linked to the upper and lower of its set, else to the patient's latest.
- With no patient given, the scanner's patient name must match exactly one patient of the clinic
  (first and last name, case-insensitive); otherwise the set waits in the pending queue. A file name
  is never evidence.
- Objects are stored before rows are written; if the transaction fails, they are deleted again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.intraoral.arches_in import ArchIn
from ortholens.intraoral.keys import arch_key, pending_key
from ortholens.kit.db import defer_on_commit, utcnow
from ortholens.kit.errors import Conflict, InvalidInput, NotFound
from ortholens.kit.jobs import request_job
from ortholens.kit.storage import ObjectStore
from ortholens.models import (
    ActorType,
    FileType,
    Image,
    ImageSource,
    ImageStatus,
    Patient,
    PatientStatus,
    PendingScan,
    PendingScanStatus,
)
from ortholens.processing.meshes.types import ArchType

DERIVE_JOB = "intraoral.derive"
UPPER, LOWER, BITE = (arch.category for arch in (ArchType.UPPER, ArchType.LOWER, ArchType.BITE))
NOT_FOUND = "No intraoral scan with this id."
PENDING_NOT_FOUND = "No pending scan with this id."


@dataclass(frozen=True)
class Importer:
    """Who brings scans in, for which clinic, and how (API upload, CLI import, iTero sync)."""

    actor: audit.Actor
    clinic_id: uuid.UUID
    user_id: uuid.UUID | None
    source: ImageSource

    @classmethod
    def in_job(cls, clinic_id: str, user_id: str | None, source: ImageSource) -> Importer:
        """The importer a background job acts for: the user who asked, else the system."""
        clinic = uuid.UUID(clinic_id)
        user = uuid.UUID(user_id) if user_id else None
        actor_type = ActorType.USER if user else ActorType.SYSTEM
        return cls(audit.Actor(actor_type, user, clinic), clinic, user, source)


@dataclass
class ImportOutcome:
    scan_set_id: uuid.UUID
    patient_id: uuid.UUID | None
    matched_by: str | None  # "given" or "scanner metadata"; None when the set is pending
    images: list[Image] = field(default_factory=list)
    pending: list[PendingScan] = field(default_factory=list)


def _split_name(name: str) -> tuple[str, str] | None:
    """("first", "last") from "Last, First" or "First Last"; None for a single word."""
    if "," in name:
        last, _, first = name.partition(",")
    else:
        first, _, last = name.strip().rpartition(" ")
    first, last = first.strip().lower(), last.strip().lower()
    return (first, last) if first and last else None


def match_patient(db: Session, clinic_id: uuid.UUID, arches: list[ArchIn]) -> Patient | None:
    """The one patient of the clinic the scanner's metadata names, if exactly one matches."""
    names = {a.loaded.scanner.patient_name.strip() for a in arches if a.loaded.scanner.patient_name}
    if len(names) != 1:
        return None
    split = _split_name(names.pop())
    if split is None:
        return None
    first, last = split
    found = list(
        db.scalars(
            select(Patient)
            .where(
                Patient.clinic_id == clinic_id,
                Patient.status != PatientStatus.ARCHIVED,
                func.lower(Patient.first_name) == first,
                func.lower(Patient.last_name) == last,
            )
            .limit(2)
        )
    )
    return found[0] if len(found) == 1 else None


def _delete_on_failure(store: ObjectStore, keys: list[str]) -> None:
    for key in keys:
        store.delete(key)


def import_scan_set(
    db: Session,
    store: ObjectStore,
    importer: Importer,
    arches: list[ArchIn],
    patient: Patient | None,
    *,
    bundle: bytes | None = None,
    external_refs: list[str | None] | None = None,
) -> ImportOutcome:
    """Record one scan set: as images of `patient` (or of the patient the metadata names), or in
    the pending queue. `bundle` is the uploaded ZIP, kept beside the first arch."""
    if not arches:
        raise InvalidInput("The file holds no mesh.")
    set_id = uuid.uuid4()
    refs = external_refs or [None] * len(arches)
    matched_by = "given" if patient is not None else None
    if patient is None:
        patient = match_patient(db, importer.clinic_id, arches)
        matched_by = "scanner metadata" if patient is not None else None
    stored: list[str] = []
    try:
        if patient is None:
            outcome = ImportOutcome(set_id, None, None)
            outcome.pending = [
                _pending(db, store, importer, arch, set_id=set_id, ref=ref, stored=stored)
                for arch, ref in zip(arches, refs, strict=True)
            ]
            return outcome
        outcome = ImportOutcome(set_id, patient.id, matched_by)
        outcome.images = store_arches(
            db,
            store,
            importer,
            patient,
            arches,
            set_id=set_id,
            bundle=bundle,
            refs=refs,
            stored=stored,
        )
        return outcome
    except BaseException:
        _delete_on_failure(store, stored)
        raise


def _aware(at: datetime | None) -> datetime | None:
    """Scanner exports often write local times without a zone; we store them as if UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def store_arches(
    db: Session,
    store: ObjectStore,
    importer: Importer,
    patient: Patient,
    arches: list[ArchIn],
    *,
    set_id: uuid.UUID,
    bundle: bytes | None,
    refs: list[str | None],
    stored: list[str],
) -> list[Image]:
    """Store each arch's original, write its `Image` row and queue its web mesh and thumbnail."""
    images: list[Image] = []
    bundle_key = None
    for arch, ref in zip(arches, refs, strict=True):
        image_id = uuid.uuid4()
        key = arch_key(importer.clinic_id, patient.id, image_id, "original", arch.original_ext)
        put = store.put(key, arch.original, content_type=arch.original_type)
        stored.append(key)
        if bundle is not None and bundle_key is None:
            # Kept once, in the first arch's folder: the scanner's export as it arrived.
            bundle_key = arch_key(importer.clinic_id, patient.id, image_id, "bundle", "zip")
            store.put(bundle_key, bundle, content_type="application/zip")
            stored.append(bundle_key)
        info = arch.info()
        if bundle_key:
            info["bundle_key"] = bundle_key
        scanner = arch.loaded.scanner
        image = Image(
            id=image_id,
            clinic_id=importer.clinic_id,
            patient_id=patient.id,
            file_type=FileType.SCAN_3D,
            category=f"SCAN_{arch.arch}" if arch.arch else None,
            source=importer.source,
            status=ImageStatus.UPLOADED,
            original_key=key,
            original_sha256=put.sha256,
            original_size=put.size,
            mime_type=arch.original_type,
            vertex_count=arch.metrics.vertex_count,
            face_count=arch.metrics.face_count,
            captured_at=_aware(scanner.captured_at),
            info=info,
            scanner_type=scanner.scanner_type.value if scanner.scanner_type else None,
            scan_format=arch.loaded.format.value,
            scan_quality=scanner.scan_quality,
            scan_set_id=set_id,
            external_ref=ref,
            uploaded_by_user_id=importer.user_id,
        )
        db.add(image)
        images.append(image)
    db.flush()
    link_bites(db, images, patient.id)
    for image in images:
        request_job(db, DERIVE_JOB, {"image_id": str(image.id)}, clinic_id=image.clinic_id)
        audit.record(
            db,
            importer.actor,
            "image.create",
            clinic_id=image.clinic_id,
            target_type="image",
            target_id=image.id,
            details={
                "patient_id": str(patient.id),
                "file_type": "SCAN_3D",
                "category": image.category,
            },
        )
    return images


def _latest(
    db: Session, patient_id: uuid.UUID, category: str, exclude: set[uuid.UUID]
) -> Image | None:
    """The patient's newest scan of `category` outside the set being linked."""
    return db.scalars(
        select(Image)
        .where(
            Image.patient_id == patient_id,
            Image.file_type == FileType.SCAN_3D,
            Image.category == category,
            Image.deleted_at.is_(None),
            Image.id.not_in(exclude),
        )
        .order_by(Image.created_at.desc())
        .limit(1)
    ).first()


def link_bites(db: Session, scan_set: list[Image], patient_id: uuid.UUID) -> None:
    """Link every bite of the set to the set's upper and lower, else to the patient's latest."""
    members = {image.id for image in scan_set}
    for bite in (image for image in scan_set if image.category == BITE):
        for category, attribute in ((UPPER, "bite_upper_id"), (LOWER, "bite_lower_id")):
            partner = next((i for i in scan_set if i.category == category), None)
            partner = partner or _latest(db, patient_id, category, members)
            setattr(bite, attribute, partner.id if partner else None)
    for image in scan_set:
        if image.category != BITE:
            image.bite_upper_id = image.bite_lower_id = None


def _pending(
    db: Session,
    store: ObjectStore,
    importer: Importer,
    arch: ArchIn,
    *,
    set_id: uuid.UUID,
    ref: str | None,
    stored: list[str],
) -> PendingScan:
    row_id = uuid.uuid4()
    key = pending_key(importer.clinic_id, row_id, "original", arch.original_ext)
    put = store.put(key, arch.original, content_type=arch.original_type)
    stored.append(key)
    scanner = arch.loaded.scanner
    evidence: dict[str, Any] = {
        **arch.info(),
        "patient_name": scanner.patient_name,
        "patient_ref": scanner.patient_ref,
        "original_type": arch.original_type,
        "original_ext": arch.original_ext,
    }
    row = PendingScan(
        id=row_id,
        clinic_id=importer.clinic_id,
        scan_set_id=set_id,
        source=importer.source.value,
        source_name=arch.loaded.source_name[:300],
        original_key=key,
        original_sha256=put.sha256,
        original_size=put.size,
        scan_format=arch.loaded.format.value,
        scanner_type=scanner.scanner_type.value if scanner.scanner_type else None,
        arch=arch.arch,
        arch_confidence=arch.guess.confidence,
        scanner_metadata=evidence,
        external_ref=ref,
        imported_by_id=importer.user_id,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        importer.actor,
        "pending_scan.create",
        clinic_id=importer.clinic_id,
        target_type="pending_scan",
        target_id=row.id,
    )
    return row


def list_pending(db: Session, clinic_id: uuid.UUID | None) -> list[PendingScan]:
    query = (
        select(PendingScan)
        .where(PendingScan.status == PendingScanStatus.PENDING)
        .order_by(PendingScan.created_at, PendingScan.scan_set_id, PendingScan.id)
    )
    if clinic_id is not None:
        query = query.where(PendingScan.clinic_id == clinic_id)
    return list(db.scalars(query))


def _pending_set(
    db: Session, clinic_scope: uuid.UUID | None, pending_id: uuid.UUID
) -> list[PendingScan]:
    row = db.get(PendingScan, pending_id)
    if row is None or (clinic_scope is not None and row.clinic_id != clinic_scope):
        raise NotFound(PENDING_NOT_FOUND)
    if row.status is not PendingScanStatus.PENDING:
        raise Conflict("This scan was already assigned or discarded.")
    return list(
        db.scalars(
            select(PendingScan).where(
                PendingScan.scan_set_id == row.scan_set_id,
                PendingScan.status == PendingScanStatus.PENDING,
            )
        )
    )


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
            info = {
                k: v
                for k, v in meta.items()
                if k not in ("patient_name", "patient_ref", "original_ext", "original_type")
            }
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
        _delete_on_failure(store, stored)
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
            details={"patient_id": str(patient.id), "image_id": str(row.image_id)},
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


def set_arch(db: Session, actor: audit.Actor, image: Image, arch: ArchType) -> Image:
    """A person's correction of the detected arch; bite links of the set follow."""
    if image.file_type is not FileType.SCAN_3D:
        raise InvalidInput("Only intraoral 3D scans have an arch.")
    previous = image.category
    image.category = arch.category
    info = dict(image.info)
    info["arch_set_by_user"] = True
    image.info = info
    scan_set = (
        list(
            db.scalars(
                select(Image).where(
                    Image.scan_set_id == image.scan_set_id, Image.deleted_at.is_(None)
                )
            )
        )
        if image.scan_set_id
        else [image]
    )
    link_bites(db, scan_set, image.patient_id)
    audit.record(
        db,
        actor,
        "image.set_arch",
        clinic_id=image.clinic_id,
        target_type="image",
        target_id=image.id,
        details={"category": image.category, "previous": previous},
    )
    return image


def scan_sets(db: Session, patient_id: uuid.UUID) -> list[Image]:
    """The patient's scans, newest set first (the viewer groups them by `scan_set_id`)."""
    return list(
        db.scalars(
            select(Image)
            .where(
                Image.patient_id == patient_id,
                Image.file_type == FileType.SCAN_3D,
                Image.deleted_at.is_(None),
            )
            .order_by(Image.created_at.desc(), Image.category)
        )
    )
