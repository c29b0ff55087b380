"""The scan record (seed 001): storing arches, matching them to a patient, bite links, arch
corrections and metadata; the pending queue's assignment is in `pending.py`, all SQL in
`repository.py`. This module also plugs the scan formats and their filer into the ingest pipeline.

Rules:
- A scan set is what arrived together (one file, one bundle, one iTero scan); its arches share
  `scan_set_id`. A bite is linked to the upper and lower of its set, else to the patient's latest.
- With no patient given, the scanner's metadata must name exactly one patient of the clinic
  (`matching.py`: the name in either order, a birth date that agrees, a chart number that is a
  patient id); otherwise the set waits in the pending queue. A file name is never evidence.
- An arch whose original bytes the patient already has (SHA-256) is a duplicate, reported like a
  duplicate photo: marked (`info.duplicate_of`) and audited, or not stored again by an archive import.
- The images of a scanner's export that are no mesh's texture (gallery JPGs, screenshots) are kept
  as the set's renders, beside its first arch (`info.renders`), not as photos: they are pictures of
  the model the software drew, not clinical photographs, and need no photography consent.
- Objects are stored before rows are written; if the transaction fails, they are deleted again.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.ingest import Filed, Format, Prepared, Submission, register_filer, register_format
from ortholens.intraoral import matching, repository
from ortholens.intraoral.arches_in import ORIGINAL_TYPES, ArchIn, read_scan
from ortholens.intraoral.keys import arch_key, pending_key
from ortholens.kit.errors import InvalidInput, NotFound
from ortholens.kit.jobs import request_job
from ortholens.kit.storage import ObjectStore
from ortholens.models import (
    ActorType,
    FileType,
    Image,
    ImageSource,
    ImageStatus,
    Patient,
    PendingScan,
)
from ortholens.processing.meshes.sniff import Sniffed, is_zip, sniff
from ortholens.processing.meshes.types import ArchType, MeshFormat, Render

DERIVE_JOB = "intraoral.derive"
SCAN_TAKES = frozenset({FileType.SCAN_3D})
UPPER, LOWER, BITE = (arch.category for arch in (ArchType.UPPER, ArchType.LOWER, ArchType.BITE))
NOT_FOUND = "No intraoral scan with this id."


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

    def submission(self, patient_id: uuid.UUID | None, **options: Any) -> Submission:
        """This importer's scan files as the ingest pipeline files them, for `patient_id` (None:
        whom the scanner's metadata names)."""
        return Submission(
            actor=self.actor,
            clinic_id=self.clinic_id,
            user_id=self.user_id,
            source=self.source,
            patient_id=patient_id,
            takes=SCAN_TAKES,
            **options,
        )


@dataclass
class ImportOutcome:
    scan_set_id: uuid.UUID | None  # None when every arch was a skipped duplicate
    patient_id: uuid.UUID | None
    matched_by: str | None  # "given" or "scanner metadata"; None when the set is pending
    images: list[Image] = field(default_factory=list)
    pending: list[PendingScan] = field(default_factory=list)
    # arch source name -> the patient's earlier scan with the same bytes
    duplicates: dict[str, uuid.UUID] = field(default_factory=dict)

    @property
    def duplicate_of(self) -> uuid.UUID | None:
        return next(iter(self.duplicates.values()), None)


def match_patient(db: Session, clinic_id: uuid.UUID, arches: list[ArchIn]) -> Patient | None:
    """The one patient of the clinic the scanner's metadata names (rules: `matching.py`)."""
    return matching.match_patient(
        db, clinic_id, matching.Evidence.of(a.loaded.scanner for a in arches)
    )


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
    skip_duplicates: bool = False,
) -> ImportOutcome:
    """Record one scan set: as images of `patient` (or of the patient the metadata names), or in
    the pending queue. `bundle` is the uploaded ZIP, kept beside the first arch. An arch whose
    bytes the patient already has is reported in `duplicates`; with `skip_duplicates` it is not
    stored again (archive imports), else it is stored and marked."""
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
        outcome.duplicates = find_duplicates(db, patient.id, arches)
        keep = [
            (arch, ref)
            for arch, ref in zip(arches, refs, strict=True)
            if not (skip_duplicates and arch.loaded.source_name in outcome.duplicates)
        ]
        if not keep:  # every arch is already in the record: nothing new to store
            outcome.scan_set_id = None
            return outcome
        outcome.images = store_arches(
            db,
            store,
            importer,
            patient,
            [arch for arch, _ in keep],
            set_id=set_id,
            bundle=bundle,
            refs=[ref for _, ref in keep],
            stored=stored,
            duplicates=outcome.duplicates,
        )
        return outcome
    except BaseException:
        _delete_on_failure(store, stored)
        raise


def file_scan_set(
    db: Session,
    store: ObjectStore,
    submission: Submission,
    files: list[Prepared],
    stored: list[str],
) -> list[Filed]:
    """The ingest pipeline's filer of scan files: the files of one call form one scan set."""
    arches: list[ArchIn] = []
    refs: list[str | None] = []
    for prepared in files:
        arches.extend(prepared.parsed)
        refs.extend([prepared.incoming.external_ref] * len(prepared.parsed))
    patient = None
    if submission.patient_id is not None:
        patient = db.get(Patient, submission.patient_id)
        if patient is None or patient.clinic_id != submission.clinic_id:
            raise NotFound("No patient with this id.")
    only = files[0].data if len(files) == 1 else None
    importer = Importer(
        submission.actor, submission.clinic_id, submission.user_id, submission.source
    )
    outcome = import_scan_set(
        db,
        store,
        importer,
        arches,
        patient,
        bundle=only if only is not None and is_zip(only) else None,
        external_refs=refs,
        skip_duplicates=submission.skip_duplicates,
    )
    return [
        Filed(
            ", ".join(prepared.incoming.name for prepared in files),
            images=outcome.images,
            pending=outcome.pending,
            duplicate_of=outcome.duplicate_of,
            duplicates=outcome.duplicates,
            scan_set_id=outcome.scan_set_id,
            patient_id=outcome.patient_id,
            matched_by=outcome.matched_by,
        )
    ]


def find_duplicates(
    db: Session, patient_id: uuid.UUID, arches: list[ArchIn]
) -> dict[str, uuid.UUID]:
    """Arches whose original bytes the patient already has (by SHA-256), like photo duplicates."""
    found: dict[str, uuid.UUID] = {}
    for arch in arches:
        sha256 = hashlib.sha256(arch.original).hexdigest()
        earlier = repository.scan_duplicate(db, patient_id, sha256)
        if earlier is not None:
            found[arch.loaded.source_name] = earlier.id
    return found


def _scan_format(name: str, label: str, kinds: set[Sniffed], original: tuple[str, str]) -> None:
    def matches(data: bytes) -> bool:
        return sniff(data) in kinds

    register_format(
        Format(
            name=name,
            label=label,
            file_type=FileType.SCAN_3D,
            matches=matches,
            reader=read_scan,
            extension=original[0],
            media_type=original[1],
            processor_job=DERIVE_JOB,
            max_bytes=lambda limits: limits.mesh.max_file_bytes,
            heavy=True,
        )
    )


_scan_format(
    "stl", "3D scan (STL)", {Sniffed.STL_BINARY, Sniffed.STL_ASCII}, ORIGINAL_TYPES[MeshFormat.STL]
)
_scan_format("ply", "3D scan (PLY)", {Sniffed.PLY}, ORIGINAL_TYPES[MeshFormat.PLY])
_scan_format("obj", "3D scan (OBJ)", {Sniffed.OBJ}, ORIGINAL_TYPES[MeshFormat.OBJ])
_scan_format("3mf", "3D scan (3MF)", {Sniffed.THREE_MF}, ORIGINAL_TYPES[MeshFormat.THREE_MF])
_scan_format("3shape-dcm", "3D scan (3Shape .dcm)", {Sniffed.HPS}, ORIGINAL_TYPES[MeshFormat.DCM])
_scan_format("scan-bundle", "scanner's ZIP export", {Sniffed.ZIP}, ("zip", "application/zip"))
register_filer(FileType.SCAN_3D, file_scan_set)


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
    duplicates: dict[str, uuid.UUID] | None = None,
) -> list[Image]:
    """Store each arch's original, write its `Image` row and queue its web mesh and thumbnail."""
    images: list[Image] = []
    bundle_key = None
    first_id = uuid.uuid4()
    renders = store_renders(
        store,
        [r for arch in arches for r in arch.loaded.renders],
        lambda index, ext: arch_key(
            importer.clinic_id, patient.id, first_id, f"render-{index}", ext
        ),
        stored,
    )
    for arch, ref in zip(arches, refs, strict=True):
        image_id = first_id if not images else uuid.uuid4()
        key = arch_key(importer.clinic_id, patient.id, image_id, "original", arch.original_ext)
        put = store.put(key, arch.original, content_type=arch.original_type)
        stored.append(key)
        if bundle is not None and bundle_key is None:
            # Kept once, in the first arch's folder: the scanner's export as it arrived.
            bundle_key = arch_key(importer.clinic_id, patient.id, image_id, "bundle", "zip")
            store.put(bundle_key, bundle, content_type="application/zip")
            stored.append(bundle_key)
        info = record_info(arch, renders)
        if bundle_key:
            info["bundle_key"] = bundle_key
        duplicate = (duplicates or {}).get(arch.loaded.source_name)
        if duplicate is not None:
            info["duplicate_of"] = str(duplicate)
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
                "duplicate_of": image.info.get("duplicate_of"),
            },
        )
    return images


KeyFor = Callable[[int, str], str]


def store_renders(
    store: ObjectStore, renders: list[Render], key_for: KeyFor, stored: list[str]
) -> list[dict[str, Any]]:
    """Keep the export's images beside the set (in its first arch's folder); what the record
    says about each."""
    kept = []
    for index, render in enumerate(renders, start=1):
        key = key_for(index, render.extension)
        put = store.put(key, render.data, content_type=render.media_type)
        stored.append(key)
        kept.append(
            {
                "name": render.name,
                "key": key,
                "media_type": render.media_type,
                "size": put.size,
                "sha256": put.sha256,
            }
        )
    return kept


def record_info(arch: ArchIn, renders: list[dict[str, Any]]) -> dict[str, Any]:
    """The image's `info`: the arch's own (metrics, detection, scanner) plus where its colour
    is, what its file made us note, and the set's renders."""
    info = arch.info()
    extra = dict(info["scanner"].get("extra") or {})
    info["file_notes"] = list(extra.pop("file_notes", []))
    info["scanner"] = {**info["scanner"], "extra": extra}
    info["colour"] = arch.loaded.colour.value if arch.loaded.colour else None
    info["renders"] = renders
    return info


def link_bites(db: Session, scan_set: list[Image], patient_id: uuid.UUID) -> None:
    """Link every bite of the set to the set's upper and lower, else to the patient's latest."""
    members = {image.id for image in scan_set}
    for bite in (image for image in scan_set if image.category == BITE):
        for category, attribute in ((UPPER, "bite_upper_id"), (LOWER, "bite_lower_id")):
            partner = next((i for i in scan_set if i.category == category), None)
            partner = partner or repository.latest_scan(db, patient_id, category, members)
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
    renders = store_renders(
        store,
        arch.loaded.renders,
        lambda index, ext: pending_key(importer.clinic_id, row_id, f"render-{index}", ext),
        stored,
    )
    scanner = arch.loaded.scanner
    born = scanner.patient_birth_date
    evidence: dict[str, Any] = {
        **record_info(arch, renders),
        "patient_name": scanner.patient_name,
        "patient_ref": scanner.patient_ref,
        "patient_birth_date": born.isoformat() if born else None,
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


def set_arch(db: Session, actor: audit.Actor, image: Image, arch: ArchType) -> Image:
    """A person's correction of the detected arch; bite links of the set follow."""
    if image.file_type is not FileType.SCAN_3D:
        raise InvalidInput("Only intraoral 3D scans have an arch.")
    previous = image.category
    image.category = arch.category
    info = dict(image.info)
    info["arch_set_by_user"] = True
    image.info = info
    scan_set = repository.live_scan_set(db, image.scan_set_id) if image.scan_set_id else [image]
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
    return repository.patient_scans(db, patient_id)
