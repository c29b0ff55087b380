"""Scan export job.

intraoral.export   seed 000 "3D Mesh Export": read each arch's original, convert, encode, embed
                   metadata and zip; `ortholens.export` stores, audits and later expires the file
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ortholens.export import GeneratedFile, GenerationContext, generates
from ortholens.intraoral.exporting import EXPORTABLE, SCAN_EXPORT, options_from_args
from ortholens.intraoral.tasks import scan_limits
from ortholens.kit.db import utcnow
from ortholens.kit.errors import InvalidInput
from ortholens.kit.jobs import JobContext
from ortholens.kit.storage import ObjectStore
from ortholens.models import FileType, Image
from ortholens.processing.meshes.export import ExportItem, export_mesh
from ortholens.processing.meshes.readers import read_mesh_file
from ortholens.processing.meshes.scanner_text import MM_PER_UNIT, normalise_units
from ortholens.processing.meshes.types import LoadedMesh

ARCH_NAMES = {"SCAN_UPPER": "upper", "SCAN_LOWER": "lower", "SCAN_BITE": "bite"}
# Progress of the generator's own work: reading the originals, then the pipeline.
READ_SHARE, EXPORT_SHARE = 0.3, 0.7


@dataclass(frozen=True)
class _Scan:
    key: str
    category: str | None
    scanner_type: str | None


def _load_scans(ctx: JobContext, clinic_id: uuid.UUID, image_ids: list[str]) -> list[_Scan]:
    """The export's scans, re-checked: a scan may be deleted after the request."""
    with ctx.snapshot() as read:
        scans = []
        for image_id in image_ids:
            image = read.get(Image, uuid.UUID(image_id))
            if (
                image is None
                or image.clinic_id != clinic_id
                or image.file_type is not FileType.SCAN_3D
                or image.deleted_at is not None
                or image.status not in EXPORTABLE
            ):
                raise InvalidInput("A scan of this export was deleted or is no longer available.")
            scans.append(_Scan(image.original_key, image.category, image.scanner_type))
    return scans


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


@generates(SCAN_EXPORT)
def export_scans(
    ctx: GenerationContext, *, image_ids: list[str], options: dict[str, Any]
) -> GeneratedFile:
    """Export a patient's scans as one file or ZIP."""
    runtime = ctx.job.resources
    store: ObjectStore = runtime.store
    scans = _load_scans(ctx.job, ctx.clinic_id, image_ids)
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
    return GeneratedFile(
        filename=result.filename,
        content_type=result.content_type,
        data=result.data,
        path=result.path,
        details={
            "files": [
                {"name": f.name, "faces": f.faces, "vertices": f.vertices, "size": f.size}
                for f in result.files
            ]
        },
        audit_details={"image_ids": image_ids, "format": chosen.format.value},
    )
