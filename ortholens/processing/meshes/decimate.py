"""Mesh decimation and the web-viewing mesh derived from a scan.

    decimate(mesh, target_faces) -> trimesh.Trimesh      (quadric edge collapse, colours carried)
    web_mesh(mesh, max_faces=150_000) -> WebMesh          (binary PLY bytes for the three.js viewer)

Decimation is `fast_simplification` (Fast Quadric Mesh Simplification): it returns new vertex
positions (each the quadric-optimal point of a collapsed cluster), not a subset of the input, so
per-vertex colours are carried by nearest original vertex (scipy cKDTree). Coordinates keep the
input's frame and units (millimetres, scanner frame).

Web format: binary little-endian PLY, not GLB. glTF fixes metres and +Y up, so a GLB of a scan would
either misstate its units or force a conversion the viewer has to undo before it measures distances
in mm; PLY carries the scanner's mm coordinates as they are, and three.js `PLYLoader` reads binary
PLY with per-vertex `red/green/blue` into a `color` attribute. Normals are left out (the viewer calls
`computeVertexNormals()`), which keeps the file at 16 bytes per vertex (xyz float32 + RGBA; 12
without colour) and 13 per face: about 3.2 MB for 150,000 faces, before HTTP compression.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import fast_simplification
import numpy as np
import trimesh
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from ortholens.kit.errors import InvalidInput

__all__ = [
    "MIN_TARGET_FACES",
    "WEB_MESH_CONTENT_TYPE",
    "WEB_MESH_MAX_FACES",
    "WebMesh",
    "decimate",
    "vertex_colours",
    "web_mesh",
]

MIN_TARGET_FACES = 4  # a tetrahedron; fewer is no longer a surface
WEB_MESH_MAX_FACES = 150_000
# PLY has no registered media type; browsers and three.js only need the bytes.
WEB_MESH_CONTENT_TYPE = "application/octet-stream"
WEB_MESH_EXTENSION = "ply"

# fast_simplification keeps the mesh being simplified in module-global C++ state (`load` then
# `simplify` then `return_points`), so two threads decimating at once would mix their meshes.
_SIMPLIFY_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class WebMesh:
    """The viewer's copy of a scan: binary PLY bytes and what they hold."""

    data: bytes
    faces: int
    vertices: int
    has_colour: bool
    content_type: str = WEB_MESH_CONTENT_TYPE
    extension: str = WEB_MESH_EXTENSION


def vertex_colours(mesh: trimesh.Trimesh) -> NDArray[np.uint8] | None:
    """RGBA uint8 per vertex when the mesh carries colour (vertex, face or texture), else None."""
    visual = mesh.visual
    if visual is None or not visual.defined:
        return None
    if isinstance(visual, trimesh.visual.TextureVisuals):
        # Sample the texture at each vertex's UV: the web mesh and PLY/STL exports have no UVs.
        visual = visual.to_color()  # type: ignore[no-untyped-call]
    if not isinstance(visual, trimesh.visual.ColorVisuals) or visual.kind not in ("vertex", "face"):
        return None
    # For face colours trimesh averages the faces around each vertex.
    colours = np.asarray(visual.vertex_colors, dtype=np.uint8)
    if colours.shape != (len(mesh.vertices), 4):
        return None
    return colours


def _indexed(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """The mesh with shared vertices. A triangle soup (3 vertices per face, as raw STL is) cannot be
    decimated: no edge is shared, so no collapse keeps the surface closed."""
    if len(mesh.vertices) <= len(mesh.faces):  # indexed surfaces have V ~ F/2, soups V = 3F
        return mesh
    merged = mesh.copy()
    merged.merge_vertices(merge_tex=True, merge_norm=True)
    return merged


def decimate(
    mesh: trimesh.Trimesh, target_faces: int, *, aggressiveness: float = 7.0
) -> trimesh.Trimesh:
    """Reduce the mesh to about `target_faces` triangles (same frame and units); colours kept.

    Returns `mesh` itself, not a copy, when it already has at most `target_faces` faces.
    `aggressiveness` is fast_simplification's `agg`: higher is faster and coarser.
    """
    if target_faces < MIN_TARGET_FACES:
        raise InvalidInput(f"The target face count must be at least {MIN_TARGET_FACES}.")
    if len(mesh.faces) <= target_faces:
        return mesh
    source = _indexed(mesh)
    colours = vertex_colours(source)
    if len(source.faces) <= target_faces:
        return source
    with _SIMPLIFY_LOCK:
        points, faces = fast_simplification.simplify(
            np.asarray(source.vertices, dtype=np.float64),
            np.asarray(source.faces, dtype=np.int32),
            target_count=target_faces,
            agg=aggressiveness,
        )
    result = trimesh.Trimesh(vertices=points, faces=faces, process=False)
    if colours is not None and len(points):
        _, nearest = cKDTree(source.vertices).query(points, k=1)
        result.visual = trimesh.visual.ColorVisuals(result, vertex_colors=colours[nearest])
    result.metadata.update(mesh.metadata)
    return result


def web_mesh(mesh: trimesh.Trimesh, max_faces: int = WEB_MESH_MAX_FACES) -> WebMesh:
    """The viewer mesh: decimated to at most `max_faces`, binary PLY in mm, colours when present."""
    reduced = decimate(mesh, max_faces)
    colours = vertex_colours(reduced)
    plain = trimesh.Trimesh(vertices=reduced.vertices, faces=reduced.faces, process=False)
    if colours is not None:
        plain.visual = trimesh.visual.ColorVisuals(plain, vertex_colors=colours)
    data = trimesh.exchange.ply.export_ply(
        plain, encoding="binary", vertex_normal=False, include_attributes=False
    )
    return WebMesh(
        data=bytes(data),
        faces=len(plain.faces),
        vertices=len(plain.vertices),
        has_colour=colours is not None,
    )
