"""PLY, ASCII and binary (either byte order), with per-vertex colour kept.

The header is read here first so the declared counts are refused before allocation and a binary
body shorter than the header promises is refused as truncated; trimesh then decodes the body."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import numpy as np
import trimesh

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.checks import check_declared_counts, check_mesh, colour_kind
from ortholens.processing.meshes.scanner_text import (
    arch_from_text,
    normalise_units,
    parse_datetime,
    scanner_from_text,
)
from ortholens.processing.meshes.types import ColourKind, MeshLimits, ScannerMetadata

_SIZES = {
    "char": 1, "uchar": 1, "int8": 1, "uint8": 1, "short": 2, "ushort": 2, "int16": 2, "uint16": 2,
    "int": 4, "uint": 4, "int32": 4, "uint32": 4, "float": 4, "float32": 4, "double": 8, "float64": 8,
}  # fmt: skip
_MAX_HEADER = 64 * 1024


@dataclass
class PlyElement:
    name: str
    count: int
    # (name, size in bytes) for scalars; lists are (name, -(count size), item size)
    properties: list[tuple[str, int, int]] = field(default_factory=list)


@dataclass
class PlyHeader:
    encoding: str  # "ascii", "binary_little_endian", "binary_big_endian"
    elements: list[PlyElement]
    comments: list[str]
    body_offset: int

    def count(self, name: str) -> int:
        return sum(e.count for e in self.elements if e.name == name)


def parse_header(data: bytes, name: str) -> PlyHeader:
    end = re.search(rb"end_header[ \t]*\r?\n", data[:_MAX_HEADER])
    if end is None:
        raise InvalidInput(f"'{name}' is not a complete PLY file: its header never ends.")
    lines = data[: end.start()].decode("latin-1").splitlines()
    encoding = ""
    elements: list[PlyElement] = []
    comments: list[str] = []
    for line in lines[1:]:
        words = line.split()
        if not words:
            continue
        keyword = words[0]
        try:
            if keyword == "format":
                encoding = words[1]
            elif keyword in ("comment", "obj_info"):
                comments.append(line.split(None, 1)[1] if len(words) > 1 else "")
            elif keyword == "element":
                elements.append(PlyElement(words[1], int(words[2])))
            elif keyword == "property" and elements:
                if words[1] == "list":
                    elements[-1].properties.append((words[4], -_SIZES[words[2]], _SIZES[words[3]]))
                else:
                    elements[-1].properties.append((words[2], _SIZES[words[1]], 0))
        except (IndexError, KeyError, ValueError) as error:
            raise InvalidInput(
                f"'{name}' has an unreadable PLY header line: {line[:60]!r}."
            ) from error
    if encoding not in ("ascii", "binary_little_endian", "binary_big_endian"):
        raise InvalidInput(f"'{name}' has an unknown PLY format {encoding!r}.")
    if any(e.count < 0 for e in elements):
        raise InvalidInput(f"'{name}' declares a negative element count.")
    return PlyHeader(encoding, elements, comments, end.end())


def _minimum_body_bytes(header: PlyHeader) -> int:
    """Fewest bytes a binary body can have: list properties count at least 3 items for faces
    (a face has >= 3 corners) and 0 otherwise."""
    total = 0
    for element in header.elements:
        per_item = 0
        for _, size, item_size in element.properties:
            if size > 0:
                per_item += size
            else:
                per_item += -size + (3 * item_size if element.name == "face" else 0)
        total += per_item * element.count
    return total


def _metadata(comments: list[str]) -> ScannerMetadata:
    meta = ScannerMetadata(units="mm")
    text = "\n".join(comments)
    found = scanner_from_text(text)
    if found:
        meta.scanner_type, meta.extra["scanner_name"] = found
    for comment in comments:
        texture = re.match(r"\s*texturefile\s+(.+?)\s*$", comment, re.I)
        if texture is not None:
            meta.extra["texture_file"] = texture.group(1)
            continue
        match = re.match(r"\s*([A-Za-z][\w ]*?)\s*[:=]\s*(.+?)\s*$", comment)
        if match is None:
            match = re.match(r"\s*(units?|jaw|arch)\s+(\S+)\s*$", comment, re.I)
        if match is None:
            continue
        key, value = match.group(1).lower().replace(" ", "_"), match.group(2)
        if key in ("jaw", "arch", "scan_type", "jaw_type", "arch_type"):
            meta.arch = arch_from_text(value) or meta.arch
        elif key in ("unit", "units"):
            meta.units = normalise_units(value) or meta.units
        elif key in ("patient", "patient_name"):
            meta.patient_name = value
        elif key in ("patient_id", "patient_ref", "chart", "chart_number"):
            meta.patient_ref = value
        elif key in ("order", "order_id", "case_id"):
            meta.order_ref = value
        elif key in ("date", "scan_date", "captured", "captured_at", "acquisition_date"):
            meta.captured_at = parse_datetime(value) or meta.captured_at
        elif key in ("scanner", "device", "software"):
            meta.extra["scanner_name"] = value
    return meta


def read_ply(
    data: bytes, name: str, limits: MeshLimits
) -> tuple[trimesh.Trimesh, ScannerMetadata, ColourKind | None]:
    """(mesh, scanner metadata, where its colour is: per vertex or per face)."""
    header = parse_header(data, name)
    faces, vertices = header.count("face"), header.count("vertex")
    check_declared_counts(faces, vertices, name, limits)
    if vertices == 0:
        raise InvalidInput(
            f"'{name}' contains no triangles: its header declares no vertices"
            + (" and no faces." if faces == 0 else f" but {faces:,} faces.")
        )
    if faces == 0:
        raise InvalidInput(
            f"'{name}' contains no triangles: its header declares {vertices:,} vertices and no "
            "faces (a point cloud cannot be imported as a scan)."
        )
    body = len(data) - header.body_offset
    if header.encoding == "ascii":
        lines = data.count(b"\n", header.body_offset) + (0 if data.endswith(b"\n") else 1)
        if lines < faces + vertices:
            raise InvalidInput(
                f"'{name}' is not a complete PLY file: it has fewer lines than declared."
            )
    elif body < _minimum_body_bytes(header):
        raise InvalidInput(
            f"'{name}' is not a complete PLY file: the header declares more data than its "
            f"{body:,} bytes hold. The file may be truncated."
        )
    try:
        loaded = trimesh.load(io.BytesIO(data), file_type="ply", process=False)
    except Exception as error:  # trimesh raises many types on malformed bodies
        raise InvalidInput(f"'{name}' could not be read as PLY: the file is malformed.") from error
    if not isinstance(loaded, trimesh.Trimesh):
        raise InvalidInput(f"'{name}' contains no triangles.")
    check_mesh(loaded, name, limits)
    vertex = next(e for e in header.elements if e.name == "vertex")
    meta = _metadata(header.comments)
    if {"red", "green", "blue"} <= {p[0] for p in vertex.properties}:
        _keep_vertex_colours(loaded, meta)
    return loaded, meta, colour_kind(loaded.visual)


def _keep_vertex_colours(mesh: trimesh.Trimesh, meta: ScannerMetadata) -> None:
    """A PLY with texture coordinates loads as a texture (whose image a lone file does not have)
    and trimesh then drops its vertex colours: put them back from the parsed vertex element."""
    if colour_kind(mesh.visual) is ColourKind.VERTEX:
        return
    raw = mesh.metadata.get("_ply_raw", {}).get("vertex", {}).get("data")
    if raw is None:
        return
    # a structured array for binary bodies, a dict of columns for ASCII ones
    names = set(raw.dtype.names or ()) if hasattr(raw, "dtype") else set(raw)
    channels = ["red", "green", "blue"] + (["alpha"] if "alpha" in names else [])
    colours = np.column_stack([np.asarray(raw[c]).reshape(-1) for c in channels])
    if len(colours) != len(mesh.vertices):
        return
    if colours.dtype.kind == "f":  # some writers store 0..1 floats
        colours = colours * 255 if colours.max(initial=0) <= 1.0 else colours
    if len(channels) == 3:
        colours = np.column_stack([colours, np.full(len(colours), 255)])
    texture = meta.extra.get("texture_file")
    mesh.visual = trimesh.visual.ColorVisuals(
        mesh, vertex_colors=np.clip(colours, 0, 255).astype(np.uint8)
    )
    if texture:
        meta.extra["file_notes"] = [
            f"The texture it names ({texture}) is not part of the file; its vertex colours are used."
        ]
