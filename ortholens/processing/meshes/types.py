"""The shapes every mesh module agrees on: what a reader returns and the limits it enforces."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import trimesh


class MeshFormat(StrEnum):
    """The file format a scan arrived in (seed 001 `scanFormat`)."""

    STL = "STL"
    PLY = "PLY"
    OBJ = "OBJ"
    THREE_MF = "3MF"
    DCM = "DCM"  # 3Shape HIMSA packed scan (HPS), not DICOM


class ScannerType(StrEnum):
    """Seed 001 `scannerType`."""

    ITERO = "ITERO"
    THREESHAPE = "3SHAPE"
    MEDIT = "MEDIT"
    OTHER = "OTHER"


class ArchType(StrEnum):
    """What one mesh of a scan set is; stored as the image category `SCAN_<arch>`."""

    UPPER = "UPPER"
    LOWER = "LOWER"
    BITE = "BITE"

    @property
    def category(self) -> str:
        return f"SCAN_{self.value}"


@dataclass(frozen=True)
class MeshLimits:
    """Caps every reader enforces before it allocates what an attacker asks for."""

    max_file_bytes: int = 600 * 1024 * 1024
    max_triangles: int = 6_000_000
    max_vertices: int = 6_000_000
    max_zip_entries: int = 200
    max_zip_total_bytes: int = 2 * 1024 * 1024 * 1024
    max_zip_ratio: float = 200.0  # uncompressed / compressed, per entry
    max_zip_depth: int = 1  # a ZIP may hold ZIPs (3Shape zips .dcm files), one level deep
    max_xml_bytes: int = 64 * 1024 * 1024
    max_texture_pixels: int = 64_000_000


@dataclass
class ScannerMetadata:
    """What the scanner's own files said about a mesh. Every field is optional: STL says nothing."""

    scanner_type: ScannerType | None = None
    arch: ArchType | None = None  # the jaw the scanner named, if it did
    patient_name: str | None = None
    patient_ref: str | None = None  # the scanner's patient id / chart number
    patient_birth_date: date | None = None
    order_ref: str | None = None
    captured_at: datetime | None = None
    scan_quality: float | None = None  # 0..1 when the scanner reports one
    units: str | None = None  # "mm" unless a file says otherwise
    # other kept fields, JSON-safe; `export_fields` holds every field of a scanner's export XML
    extra: dict[str, Any] = field(default_factory=dict)


class ColourKind(StrEnum):
    """Where a mesh's colour lives: per vertex, per face (STL attribute colours, PLY face
    properties, 3MF triangle materials) or in a texture image."""

    VERTEX = "vertex"
    FACE = "face"
    TEXTURE = "texture"


@dataclass(frozen=True)
class Render:
    """An image that came with a scanner's export (its gallery JPGs, screenshots of the model):
    not a clinical photo and not a texture; kept beside the scan set as the export's renders."""

    name: str  # its path in the bundle or folder
    data: bytes
    media_type: str
    extension: str


@dataclass
class LoadedMesh:
    """One arch read from a file or a bundle entry."""

    source_name: str  # file name, or the entry path inside a ZIP
    format: MeshFormat
    mesh: trimesh.Trimesh  # vertex colours, when present, in mesh.visual (ColorVisuals)
    scanner: ScannerMetadata = field(default_factory=ScannerMetadata)
    texture_png: bytes | None = None  # OBJ texture image, re-encoded as PNG, when given
    has_colour: bool = False
    colour: ColourKind | None = None
    # The export's images, on the first mesh of a bundle only (they belong to the set, not an arch).
    renders: list[Render] = field(default_factory=list)
