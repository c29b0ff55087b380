"""From uploaded bytes to the arches of one scan set, before anything is stored.

Everything that can refuse the upload happens here (format, limits, damaged files), so a refusal
leaves nothing behind. Each arch keeps an original: the uploaded file itself, or for a bundle the
arch's own entry, byte for byte; only an arch that cannot stand alone (an OBJ that needs its MTL and
texture, a file inside a nested ZIP) is kept as a lossless binary PLY conversion, and says so.

Each arch's jaw is detected here (`classify_arch`): from its shape and its size in the file's
units, cross-checked with the jaw the scanner's metadata names. A mesh only arch-sized in another
unit, or whose metadata and shape disagree, is kept with its arch unset and the reason in
`arch_detection` (`size.suggestions` names the unit and the factor; reading the file again with
`units=` applies the conversion).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

import trimesh

from ortholens.ingest.formats import IngestLimits
from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.analysis import MeshMetrics, analyse_mesh
from ortholens.processing.meshes.arches import ArchGuess, classify_arch
from ortholens.processing.meshes.readers import read_mesh_file
from ortholens.processing.meshes.scanner_text import normalise_units
from ortholens.processing.meshes.sniff import is_zip
from ortholens.processing.meshes.types import LoadedMesh, MeshFormat, MeshLimits

# Below this confidence the arch is left for a person to set (seed 001: auto-detect, correctable).
CONFIDENT = 0.6
# Extension and media type of an arch's stored original, per mesh format.
ORIGINAL_TYPES = {
    MeshFormat.STL: ("stl", "model/stl"),
    MeshFormat.PLY: ("ply", "application/octet-stream"),
    MeshFormat.OBJ: ("obj", "model/obj"),
    MeshFormat.THREE_MF: ("3mf", "model/3mf"),
    MeshFormat.DCM: ("dcm", "application/octet-stream"),
}


@dataclass
class ArchIn:
    """One arch ready to become an `Image` (or a pending scan)."""

    loaded: LoadedMesh
    metrics: MeshMetrics
    guess: ArchGuess
    original: bytes
    original_ext: str
    original_type: str
    converted: bool  # True when `original` is a PLY conversion, not the scanner's bytes

    @property
    def arch(self) -> str | None:
        guess = self.guess
        if guess.arch is None or guess.confidence < CONFIDENT:
            return None
        return guess.arch.value

    def info(self) -> dict[str, Any]:
        """What the record keeps about the mesh: metrics, detection and the scanner's metadata."""
        scanner = self.loaded.scanner
        return {
            "mesh": self.metrics.to_json(),
            "arch_detection": self.guess.to_json(),
            "source_name": self.loaded.source_name,
            "original_converted": self.converted,
            "scanner": {
                "type": scanner.scanner_type.value if scanner.scanner_type else None,
                "arch": scanner.arch.value if scanner.arch else None,
                "order_ref": scanner.order_ref,
                "captured_at": scanner.captured_at.isoformat() if scanner.captured_at else None,
                "quality": scanner.scan_quality,
                "units": scanner.units,
                "extra": scanner.extra,
            },
        }


def _ply(mesh: trimesh.Trimesh) -> bytes:
    exported = mesh.export(file_type="ply", encoding="binary")
    return exported if isinstance(exported, bytes) else str(exported).encode()


def _entry(data: bytes, name: str) -> bytes | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            return bundle.read(name) if name in bundle.namelist() else None
    except (zipfile.BadZipFile, KeyError):
        return None


def _original(
    data: bytes, name: str, loaded: LoadedMesh, bundle: bool
) -> tuple[bytes, str, str, bool]:
    ext, content_type = ORIGINAL_TYPES[loaded.format]
    if not bundle:
        return data, ext, content_type, False
    entry = None if loaded.format is MeshFormat.OBJ else _entry(data, loaded.source_name)
    if entry is not None:
        return entry, ext, content_type, False
    return _ply(loaded.mesh), "ply", "application/octet-stream", True


def read_arches(
    data: bytes, name: str, limits: MeshLimits, *, units: str | None = None
) -> list[ArchIn]:
    """Parse, measure and classify every arch in an upload; raises InvalidInput on bad input.

    `units` overrides what the files say (the conversion a size check suggested: "m", "in", ...);
    the original stays byte for byte and every measurement is converted to millimetres."""
    unit = None if units is None else normalise_units(units)
    if units is not None and unit is None:
        raise InvalidInput(f"Unknown units '{units}'; use mm, cm, m, um or in.")
    loaded = read_mesh_file(data, name, limits)
    bundle = is_zip(data)
    arches = []
    for item in loaded:
        if unit is not None:
            item.scanner.extra = {**item.scanner.extra, "units_in_file": item.scanner.units}
            item.scanner.units = unit
        metrics = analyse_mesh(item.mesh, item.scanner.units or "mm", item.has_colour)
        original, ext, content_type, converted = _original(data, name, item, bundle)
        arches.append(
            ArchIn(
                loaded=item,
                metrics=metrics,
                guess=classify_arch(item.mesh, item.scanner),
                original=original,
                original_ext=ext,
                original_type=content_type,
                converted=converted,
            )
        )
    return arches


def read_scan(data: bytes, name: str, limits: IngestLimits) -> list[ArchIn]:
    """The ingest pipeline's reader of every intraoral scan format (module level: it may run in
    an isolated decoder process)."""
    return read_arches(data, name, limits.mesh, units=limits.mesh_units)
