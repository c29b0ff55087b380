"""STL, binary and ASCII. Binary parsing is one `np.frombuffer` over the 50-byte records; the only
other passes are a finiteness check and the vertex merge that makes an indexed mesh."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import trimesh

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.checks import check_arrays, check_declared_counts
from ortholens.processing.meshes.indexing import merge_identical_vertices
from ortholens.processing.meshes.scanner_text import scanner_from_text
from ortholens.processing.meshes.sniff import binary_stl_trailing
from ortholens.processing.meshes.types import MeshLimits, ScannerMetadata

STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attribute", "<u2")])
_HEADER = 84


@dataclass
class StlTriangles:
    """A parsed binary STL before indexing: the header, a zero-copy (n, 3, 3) corner view, the
    per-record attribute words (some exporters keep a colour there) and the padding ignored."""

    header: bytes
    corners: npt.NDArray[np.float32]
    attributes: npt.NDArray[np.uint16]
    trailing_bytes: int = 0


def parse_binary_stl(data: bytes | memoryview, name: str, limits: MeshLimits) -> StlTriangles:
    """Header checks, then the record view. Refuses size mismatches, caps and NaN/Inf; accepts
    padding after the last record (see `binary_stl_trailing`) and says how much in `trailing_bytes`."""
    if len(data) < _HEADER:
        raise InvalidInput(f"'{name}' is too short to be an STL file.")
    count = int.from_bytes(data[80:84], "little")
    check_declared_counts(count, None, name, limits)
    expected = _HEADER + STL_RECORD.itemsize * count
    if len(data) < expected:
        missing = expected - len(data)
        raise InvalidInput(
            f"'{name}' is not a complete binary STL: its header declares {count:,} triangles "
            f"({expected:,} bytes) but the file has {len(data):,} bytes, {missing:,} too few. "
            "The file is truncated; copy or export it again."
        )
    trailing = binary_stl_trailing(data)
    if trailing is None:
        extra = len(data) - expected
        raise InvalidInput(
            f"'{name}' is not a consistent binary STL: its header declares {count:,} triangles "
            f"({expected:,} bytes) but the file has {extra:,} more bytes that are not padding. "
            "The triangle count in its header is wrong; export the scan again."
        )
    if count == 0:
        raise InvalidInput(f"'{name}' contains no triangles (its header declares none).")
    records = np.frombuffer(data, dtype=STL_RECORD, count=count, offset=_HEADER)
    corners = records["corners"]
    if not np.isfinite(corners).all():
        raise InvalidInput(f"'{name}' has NaN or infinite vertex coordinates.")
    return StlTriangles(bytes(data[:80]), corners, records["attribute"], trailing)


def attribute_colours(
    header: bytes, attributes: npt.NDArray[np.uint16]
) -> npt.NDArray[np.uint8] | None:
    """RGBA face colours from the attribute words, or None when they carry none.

    Two conventions exist (both 5 bits per channel): Materialise Magics writes `COLOR=` and a
    default RGBA in the header, and a face whose bit 15 is clear has its own colour, red in the
    low bits; VisCAM/SolidView set bit 15 on a face whose colour is valid, blue in the low bits.
    """
    words = attributes.astype(np.uint32)
    low, mid, high = words & 31, (words >> 5) & 31, (words >> 10) & 31
    valid = (words & 0x8000) != 0
    at = header.find(b"COLOR=")
    if at >= 0 and at + 10 <= len(header):
        default = np.frombuffer(header[at + 6 : at + 10], dtype=np.uint8)
        own = ~valid
        if not own.any():
            return None
        rgb = np.stack([low, mid, high], axis=1)
        colours = np.tile(default, (len(words), 1))
        colours[own, :3] = (rgb[own] * 255 // 31).astype(np.uint8)
        colours[own, 3] = 255
        return colours
    if not valid.any():
        return None
    rgb = np.stack([high, mid, low], axis=1)
    colours = np.full((len(words), 4), (102, 102, 102, 255), dtype=np.uint8)
    colours[valid, :3] = (rgb[valid] * 255 // 31).astype(np.uint8)
    return colours


def index_corners(
    corners: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """(vertices, faces) from (n, 3, 3) triangle corners; adding 0.0 copies to a contiguous array
    and folds -0.0 into +0.0 so the two merge."""
    points = np.add(corners.reshape(-1, 3), np.float32(0.0), dtype=np.float32)
    vertices, inverse = merge_identical_vertices(points)
    return vertices, inverse.reshape(-1, 3)


def _header_metadata(text: str) -> ScannerMetadata:
    meta = ScannerMetadata(units="mm")
    found = scanner_from_text(text)
    if found:
        meta.scanner_type, label = found
        meta.extra["scanner_name"] = label
    if text:
        meta.extra["stl_header"] = text
    return meta


def read_binary_stl(
    data: bytes | memoryview, name: str, limits: MeshLimits
) -> tuple[trimesh.Trimesh, ScannerMetadata]:
    parsed = parse_binary_stl(data, name, limits)
    vertices, faces = index_corners(parsed.corners)
    check_declared_counts(len(faces), len(vertices), name, limits)
    colours = attribute_colours(parsed.header, parsed.attributes)
    mesh = trimesh.Trimesh(vertices=vertices, faces=faces, face_colors=colours, process=False)
    header = parsed.header.split(b"\x00", 1)[0].decode("latin-1").strip()
    meta = _header_metadata(header)
    if parsed.trailing_bytes:
        meta.extra["file_notes"] = [
            f"{parsed.trailing_bytes:,} byte(s) after the last of the {len(faces):,} triangles "
            "the header declares were ignored (padding)."
        ]
    return mesh, meta


_VERTEX = re.compile(rb"vertex\s+(\S+)\s+(\S+)\s+(\S+)", re.I)
_SOLID_NAME = re.compile(rb"^\s*solid[ \t]*([^\r\n]*)", re.I)


def read_ascii_stl(
    data: bytes, name: str, limits: MeshLimits
) -> tuple[trimesh.Trimesh, ScannerMetadata]:
    facets = len(re.findall(rb"\bendfacet\b", data, re.I))
    check_declared_counts(facets, None, name, limits)  # counted before any coordinate is parsed
    values = _VERTEX.findall(data)
    if len(values) != 3 * facets:
        raise InvalidInput(
            f"'{name}' is not a complete ASCII STL: a facet does not have 3 vertices."
        )
    if facets == 0:
        raise InvalidInput(f"'{name}' contains no triangles: it has no facets.")
    try:
        points = np.array(values, dtype=np.bytes_).astype(np.float64).astype(np.float32)
    except ValueError as error:
        raise InvalidInput(f"'{name}' has a vertex coordinate that is not a number.") from error
    if not np.isfinite(points).all():
        raise InvalidInput(f"'{name}' has NaN or infinite vertex coordinates.")
    vertices, faces = index_corners(points.reshape(-1, 3, 3))
    check_declared_counts(len(faces), len(vertices), name, limits)
    check_arrays(vertices, faces, name)
    mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
    match = _SOLID_NAME.match(data)
    solid_name = match.group(1).decode("utf-8", "replace").strip() if match else ""
    return mesh, _header_metadata(solid_name)
