"""The one way a file enters the imaging record, whatever brought it in.

    ingest(db, store, submission, [Incoming(name, data=... | key=...)], limits) -> [Filed]

Every source calls it: the signed photo upload's confirmation, the staff multipart upload, the scan
import API and pages, `ortholens import photos|scans`, the `ingest.file` job, the iTero connector
(and next the DICOM listener, DICOMweb and sync). The steps, in order:

1. prepare   for each file: its size and first bytes, the format from the content (formats.py),
             the kind the entry point takes, the format's size limit, then its reader (the one
             step that parses untrusted bytes: a module-level call that can run isolated).
             Nothing touches the database or the store, so a refusal changes nothing.
2. defer     a heavy file (a mesh) over `background_over` bytes is stored as it arrived and left
             to the `ingest.file` job, which runs these same steps in the worker.
3. file      the filer of the file's kind (photos: ingest/photos.py; intraoral scans: registered by
             `ortholens.intraoral.service`) checks consent, finds duplicates by SHA-256, matches
             the patient or queues the file as pending, writes rows, records the audit events and
             requests the format's processor job (sent after commit). If anything fails, every
             object stored by this call is deleted again; the rows roll back with the transaction.

A call's files are checked before any is filed. Photos are filed one image each; the scan files of
one call form one scan set (a scanner's export that came in several files, as iTero sends them).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.ingest.formats import (
    HEAD_BYTES,
    Format,
    IngestLimits,
    Reader,
    detect_format,
    unsupported,
)
from ortholens.kit.errors import InvalidInput, PayloadTooLarge
from ortholens.kit.jobs import request_job
from ortholens.kit.storage import ObjectStore
from ortholens.kit.storage.keys import validate_key
from ortholens.models import FileType, Image, ImageSource, PendingScan

INGEST_JOB = "ingest.file"
# The job's name before the pipeline; jobs queued under it by an earlier version still run.
LEGACY_SCAN_IMPORT_JOB = "intraoral.import"
INGEST_JOBS = (INGEST_JOB, LEGACY_SCAN_IMPORT_JOB)
KIND_NAMES = {FileType.PHOTO: "photo", FileType.SCAN_3D: "3D scan"}


@dataclass(frozen=True)
class Incoming:
    """One file: its bytes (in memory or a spooled upload), or the key of an object already stored.

    `name` is shown back in messages and reports and passed to readers for their messages; it never
    decides anything. `external_ref` is a connector's id for the file (iTero's file id).
    """

    name: str
    data: bytes | BinaryIO | None = None
    key: str | None = None
    external_ref: str | None = None


@dataclass(frozen=True)
class Submission:
    """Who files, for which patient (None: the file's own metadata names them), from where."""

    actor: audit.Actor
    clinic_id: uuid.UUID
    user_id: uuid.UUID | None
    source: ImageSource
    patient_id: uuid.UUID | None = None
    takes: frozenset[FileType] = frozenset({FileType.PHOTO})
    scan_session_id: uuid.UUID | None = None
    # Archive imports: a file the patient already has is reported, not stored again.
    skip_duplicates: bool = False
    # In a request: a heavy file above this many bytes is read by the `ingest.file` job instead.
    background_over: int | None = None


@dataclass(frozen=True)
class Prepared:
    """A file that passed every check, with what its reader made of it."""

    incoming: Incoming
    format: Format
    size: int
    sha256: str | None  # None for a stored object whose store did not record it (S3 POST)
    data: bytes | None  # None for a stored photo: only its head was read
    parsed: Any


@dataclass
class Filed:
    """What became of one photo or one scan set (or the job that will file it)."""

    name: str
    images: list[Image] = field(default_factory=list)
    pending: list[PendingScan] = field(default_factory=list)
    duplicate_of: uuid.UUID | None = None
    # a scan set's arches that the patient already has: arch source name -> the earlier image
    duplicates: dict[str, uuid.UUID] = field(default_factory=dict)
    scan_set_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    matched_by: str | None = None  # "given" or "scanner metadata"; None when pending
    job_id: uuid.UUID | None = None


# filer(db, store, submission, files of its kind, keys stored so far) -> what was filed
Filer = Callable[[Session, ObjectStore, Submission, list[Prepared], list[str]], list[Filed]]
# `DecoderPool.run` fits: it calls `reader(data, name, limits)` in an isolated worker process.
ParseRunner = Callable[..., Any]
Progress = Callable[[float, str | None], None]

_FILERS: dict[FileType, Filer] = {}


def register_filer(file_type: FileType, filer: Filer) -> None:
    """Say how files that become `file_type` images are filed (once, from the owning package)."""
    _FILERS[file_type] = filer


def parse_in_process(reader: Reader, data: bytes, name: str, limits: IngestLimits) -> Any:
    """Run a format's reader here (requests, the CLI); the ingest job may isolate it instead."""
    return reader(data, name, limits)


def _named(name: str, message: str) -> str:
    return f"{name}: {message}" if name else message


def _size_and_head(store: ObjectStore, item: Incoming) -> tuple[int, bytes, str | None]:
    if isinstance(item.data, bytes):
        return len(item.data), item.data, None
    if item.data is not None:
        file = item.data
        file.seek(0, 2)
        size = file.tell()
        file.seek(0)
        head = file.read(HEAD_BYTES)
        file.seek(0)
        return size, head, None
    if item.key is None:
        raise ValueError("an incoming file needs its bytes or the key of a stored object")
    info = store.head(item.key)
    if info is None:
        raise InvalidInput(
            _named(
                item.name, "Nothing was uploaded to this URL yet; upload the file, then confirm."
            )
        )
    head = next(iter(store.iter_chunks(item.key, chunk_size=HEAD_BYTES)), b"") if info.size else b""
    return info.size, head, info.sha256 or None


def check(
    store: ObjectStore, submission: Submission, item: Incoming, limits: IngestLimits
) -> tuple[Format, int, bytes, str | None]:
    """Size, format (from the content) and kind of one file; InvalidInput naming it if refused."""
    size, head, sha256 = _size_and_head(store, item)
    if size == 0:
        raise InvalidInput(_named(item.name, "The file is empty."))
    fmt = detect_format(head)
    if fmt is None:
        raise InvalidInput(_named(item.name, unsupported(submission.takes)))
    if fmt.file_type not in submission.takes:
        if FileType.PHOTO in submission.takes:
            # Mesh sniffing takes any other binary for an STL; "not a photo" is what is certain.
            raise InvalidInput(_named(item.name, unsupported(submission.takes)))
        wanted = " or ".join(sorted(KIND_NAMES.get(kind, kind.value) for kind in submission.takes))
        raise InvalidInput(_named(item.name, f"This file is a {fmt.label}, not a {wanted}."))
    if size > fmt.max_bytes(limits):
        mb = fmt.max_bytes(limits) // (1024 * 1024)
        raise PayloadTooLarge(_named(item.name, f"A {fmt.label} file may be at most {mb} MB."))
    return fmt, size, head, sha256


def prepare(
    store: ObjectStore,
    submission: Submission,
    items: Sequence[Incoming],
    limits: IngestLimits,
    *,
    parse: ParseRunner = parse_in_process,
) -> list[Prepared]:
    """Check every file, then read each with its format's reader; nothing is stored."""
    checked = [(item, check(store, submission, item, limits)) for item in items]
    prepared = []
    for item, (sniffed, size, head, stored_sha256) in checked:
        data = _whole(store, item) if sniffed.heavy or item.key is None else None
        # Decided again on every byte when they are at hand: a 3MF is a ZIP until its parts are seen.
        fmt = (detect_format(data) or sniffed) if data is not None else sniffed
        sha256 = hashlib.sha256(data).hexdigest() if data is not None else stored_sha256
        # Only a reader that parses the whole file needs isolating; a photo's is a check of its head.
        if fmt.heavy:
            parsed = parse(fmt.reader, data if data is not None else head, item.name, limits)
        else:
            parsed = parse_in_process(fmt.reader, head, item.name, limits)
        prepared.append(Prepared(item, fmt, size, sha256, data, parsed))
    return prepared


def _whole(store: ObjectStore, item: Incoming) -> bytes:
    if isinstance(item.data, bytes):
        return item.data
    if item.data is not None:
        item.data.seek(0)
        return item.data.read()
    assert item.key is not None
    return store.read(item.key)


def file(
    db: Session, store: ObjectStore, submission: Submission, prepared: Sequence[Prepared]
) -> list[Filed]:
    """Hand prepared files to the filer of their kind; on failure, delete what was stored."""
    stored: list[str] = []
    filed: list[Filed] = []
    try:
        for file_type in dict.fromkeys(item.format.file_type for item in prepared):
            filer = _FILERS.get(file_type)
            if filer is None:  # a format registered without its filer: a programming error
                raise RuntimeError(f"no filer registered for {file_type.value} files")
            group = [item for item in prepared if item.format.file_type is file_type]
            filed.extend(filer(db, store, submission, group, stored))
        db.flush()
    except BaseException:
        for key in stored:  # the rows roll back with the transaction; the objects go here
            store.delete(key)
        raise
    return filed


def ingest(
    db: Session,
    store: ObjectStore,
    submission: Submission,
    items: Sequence[Incoming],
    limits: IngestLimits,
    *,
    parse: ParseRunner = parse_in_process,
) -> list[Filed]:
    """File `items` into the record (see the module docstring); the one import path."""
    if not items:
        raise InvalidInput("Send at least one file.")
    if submission.background_over is not None and len(items) == 1:
        fmt, size, _, _ = check(store, submission, items[0], limits)
        if fmt.heavy and size > submission.background_over:
            return [
                _defer(db, store, submission, items[0], fmt=fmt, size=size, units=limits.mesh_units)
            ]
    return file(db, store, submission, prepare(store, submission, items, limits, parse=parse))


def incoming_key(clinic_id: uuid.UUID, object_id: uuid.UUID, fmt: Format) -> str:
    """Where a file waits, as it arrived, for the `ingest.file` job."""
    return validate_key(f"{clinic_id}/incoming/{object_id}/upload.{fmt.extension}")


def _defer(
    db: Session,
    store: ObjectStore,
    submission: Submission,
    item: Incoming,
    *,
    fmt: Format,
    size: int,
    units: str | None = None,
) -> Filed:
    """Store the file as it is and ask the `ingest.file` job to file it (in `units` if given)."""
    if item.data is None:
        raise ValueError("only a file that arrived with its bytes is deferred")
    key = incoming_key(submission.clinic_id, uuid.uuid4(), fmt)
    store.put(key, item.data, content_type="application/octet-stream")
    try:
        job = request_job(
            db,
            INGEST_JOB,
            {
                "upload_key": key,
                "name": item.name,
                "clinic_id": str(submission.clinic_id),
                "patient_id": str(submission.patient_id) if submission.patient_id else None,
                "user_id": str(submission.user_id) if submission.user_id else None,
                "source": submission.source.value,
                "takes": sorted(kind.value for kind in submission.takes),
                "mesh_units": units,
            },
            clinic_id=submission.clinic_id,
        )
        audit.record(
            db,
            submission.actor,
            "scan.import_queued",
            clinic_id=submission.clinic_id,
            target_type="job",
            target_id=job.id,
            details={"size": size},
        )
    except BaseException:
        store.delete(key)
        raise
    return Filed(item.name, patient_id=submission.patient_id, job_id=job.id)
