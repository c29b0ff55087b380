"""Scan export job.

intraoral.export   seed 000 "3D Mesh Export": read each arch's original, convert, encode, embed
                   metadata, zip, and store the download under the clinic's `exports` folder
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ortholens.audit import service as audit
from ortholens.intraoral.exporting import EXPORT_JOB, EXPORTABLE, options_from_args
from ortholens.intraoral.keys import export_key
from ortholens.intraoral.tasks import scan_limits
from ortholens.kit.db import utcnow
from ortholens.kit.errors import InvalidInput
from ortholens.kit.jobs import Job, JobContext, job_handler
from ortholens.kit.storage import ObjectStore
from ortholens.models import ActorType, FileType, Image
from ortholens.processing.meshes.export import ExportItem, ExportResult, export_mesh
from ortholens.processing.meshes.readers import read_mesh_file
from ortholens.processing.meshes.scanner_text import MM_PER_UNIT, normalise_units
from ortholens.processing.meshes.types import LoadedMesh

ARCH_NAMES = {"SCAN_UPPER": "upper", "SCAN_LOWER": "lower", "SCAN_BITE": "bite"}
# Progress: reading the originals, then the pipeline, then storing the file.
READ_SHARE, EXPORT_SHARE = 0.25, 0.65


@dataclass(frozen=True)
class _Scan:
    key: str
    category: str | None
    scanner_type: str | None


def _load_scans(ctx: JobContext, image_ids: list[str]) -> tuple[uuid.UUID, list[_Scan]]:
    """The job's clinic and its scans, re-checked: a scan may be deleted after the request."""
    with ctx.snapshot() as read:
        job = read.get(Job, ctx.job_id)
        clinic_id = job.clinic_id if job is not None else None
        scans = []
        for image_id in image_ids:
            image = read.get(Image, uuid.UUID(image_id))
            if (
                clinic_id is None
                or image is None
                or image.clinic_id != clinic_id
                or image.file_type is not FileType.SCAN_3D
                or image.deleted_at is not None
                or image.status not in EXPORTABLE
            ):
                raise InvalidInput("A scan of this export was deleted or is no longer available.")
            scans.append(_Scan(image.original_key, image.category, image.scanner_type))
    assert clinic_id is not None
    return clinic_id, scans


def item_names(categories: list[str | None]) -> list[str]:
    """File names by arch ("upper", "lower", "bite", else "scan-N"); repeats get "-2", "-3"."""
    base = [ARCH_NAMES.get(c or "", f"scan-{n}") for n, c in enumerate(categories, start=1)]
    total, seen = Counter(base), Counter[str]()
    names = []
    for name in base:
        seen[name] += 1
        names.append(name if total[name] == 1 or seen[name] == 1 else f"{name}-{seen[name]}")
    return names


def _in_mm(loaded: LoadedMesh) -> LoadedMesh:
    """The export pipeline takes millimetres; a file that declared other units is scaled."""
    unit = normalise_units(loaded.scanner.units or "mm") or "mm"
    if unit != "mm":
        loaded.mesh.apply_scale(MM_PER_UNIT[unit])  # type: ignore[no-untyped-call]
    return loaded


def store_download(store: ObjectStore, key: str, result: ExportResult) -> int:
    """Put the download under `key` (streamed from the temporary file when the pipeline spilled to
    disk, which is then deleted); returns its size in bytes."""
    try:
        if store.head(key) is not None:  # left by an earlier attempt of this same job
            store.delete(key)
        if result.data is not None:
            return store.put(key, result.data, content_type=result.content_type).size
        assert result.path is not None
        with result.path.open("rb") as source:
            return store.put(key, source, content_type=result.content_type).size
    finally:
        if result.path is not None:
            result.path.unlink(missing_ok=True)


@job_handler(EXPORT_JOB, max_attempts=2)
def export_scans(
    ctx: JobContext, *, image_ids: list[str], options: dict[str, Any], user_id: str | None
) -> dict[str, Any]:
    """Export a patient's scans as one file or ZIP; the result names the stored object."""
    runtime = ctx.resources
    store: ObjectStore = runtime.store
    clinic_id, scans = _load_scans(ctx, image_ids)
    exported_at = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    chosen = options_from_args(options)
    # No PHI: the file leaves the practice. Names, ids and dates of birth never go in.
    common = {
        "format": chosen.format.value,
        "exported_at": exported_at,
        "software": "OrthoLens",
    }
    limits = scan_limits(runtime.settings.max_scan_upload_mb)
    items = []
    for index, (scan, name) in enumerate(
        zip(scans, item_names([s.category for s in scans]), strict=True)
    ):
        ctx.progress(READ_SHARE * index / len(scans), f"Reading {name}")
        loaded = read_mesh_file(store.read(scan.key), scan.key.rsplit("/", 1)[1], limits)
        if len(loaded) != 1:
            raise InvalidInput("A scan's original holds more than one mesh; export it on its own.")
        arch = ARCH_NAMES.get(scan.category or "", "unknown")
        metadata = {"arch": arch, "scanner": scan.scanner_type or "unknown"}
        items.append(ExportItem(name, _in_mm(loaded[0]).mesh, metadata))

    def report(fraction: float, message: str) -> None:
        ctx.progress(READ_SHARE + EXPORT_SHARE * fraction, message)

    result = export_mesh(items, options_from_args(options, common), report)
    ctx.progress(READ_SHARE + EXPORT_SHARE, "Storing the download")
    key = export_key(clinic_id, ctx.job_id, result.filename)
    size = store_download(store, key, result)
    user = uuid.UUID(user_id) if user_id else None
    audit.record(
        ctx.session,
        audit.Actor(ActorType.USER, user, clinic_id) if user else audit.Actor(ActorType.SYSTEM),
        "scan.export_create",
        clinic_id=clinic_id,
        target_type="job",
        target_id=ctx.job_id,
        details={"image_ids": image_ids, "format": chosen.format.value, "size": size},
    )
    return {
        "key": key,
        "filename": result.filename,
        "size": size,
        "contentType": result.content_type,
        "files": [
            {"name": f.name, "faces": f.faces, "vertices": f.vertices, "size": f.size}
            for f in result.files
        ],
    }
