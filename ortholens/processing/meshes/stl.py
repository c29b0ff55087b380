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
from ortholens.processing.meshes.types import MeshLimits, ScannerMetadata

STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attribute", "<u2")])
_HEADER = 84


@dataclass
class StlTriangles:
    """A parsed binary STL before indexing: the header and a zero-copy (n, 3, 3) corner view."""

    header: bytes
    corners: npt.NDArray[np.float32]


def parse_binary_stl(data: bytes | memoryview, name: str, limits: MeshLimits) -> StlTriangles:
    """Header checks, then the record view. Refuses size mismatches, caps and NaN/Inf."""
    if len(data) < _HEADER:
        raise InvalidInput(f"'{name}' is too short to be an STL file.")
    count = int.from_bytes(data[80:84], "little")
    check_declared_counts(count, None, name, limits)
    expected = _HEADER + STL_RECORD.itemsize * count
    if len(data) != expected:
        raise InvalidInput(
            f"'{name}' is not a complete binary STL: its header declares {count:,} triangles "
            f"({expected:,} bytes) but the file has {len(data):,} bytes. The file may be truncated."
        )
    if count == 0:
        raise InvalidInput(f"'{name}' contains no triangles.")
    corners = np.frombuffer(data, dtype=STL_RECORD, count=count, offset=_HEADER)["corners"]
    if not np.isfinite(corners).all():
        raise InvalidInput(f"'{name}' has NaN or infinite vertex coordinates.")
    return StlTriangles(header=bytes(data[:80]), corners=corners)


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
    mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
    header = parsed.header.split(b"\x00", 1)[0].decode("latin-1").strip()
    return mesh, _header_metadata(header)


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
        raise InvalidInput(f"'{name}' contains no triangles.")
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
