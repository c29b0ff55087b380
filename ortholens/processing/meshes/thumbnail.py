"""A shaded gallery picture of a scan, rendered headless on the CPU.

    render_thumbnail(mesh, size=300) -> bytes        (WebP, size x size, THUMBNAIL_MEDIA_TYPE)

The mesh is first decimated to a few thousand faces (at thumbnail size a face is then a few pixels
wide), so the cost is bounded by the decimation of the input, not by drawing. The view is
orthographic and derived from the scan itself: it looks along the smallest principal axis of the
surface (for an arch, the occlusal axis), from the side most of the surface faces, tilted by
`VIEW_TILT_DEG` so the cusps show relief, with the arch's long axis horizontal. Each face is
Lambert-shaded from a head light (two-sided, because scans are open surfaces seen partly from
behind) in its vertex colour or a neutral tooth colour, and faces are drawn back to front by Pillow
(painter's algorithm) at `SUPERSAMPLE` times the size, then reduced, which anti-aliases the edges.
"""

from __future__ import annotations

import io
import math

import numpy as np
import trimesh
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.decimate import decimate, vertex_colours

__all__ = [
    "BACKGROUND",
    "THUMBNAIL_FACES",
    "THUMBNAIL_MEDIA_TYPE",
    "THUMBNAIL_SIZE",
    "render_thumbnail",
    "view_rotation",
]

THUMBNAIL_SIZE = 300  # px, square, like photo thumbnails
THUMBNAIL_FACES = 6_000
THUMBNAIL_MEDIA_TYPE = "image/webp"
THUMBNAIL_QUALITY = 82
SUPERSAMPLE = 2
MARGIN = 0.06  # of the side, on each edge
VIEW_TILT_DEG = 25.0
BACKGROUND = (236, 239, 243)
NEUTRAL_COLOUR = np.array([232.0, 224.0, 206.0])  # ivory, for scans without colour
AMBIENT = 0.28
LIGHT = np.array([-0.35, 0.45, 1.0]) / np.linalg.norm([-0.35, 0.45, 1.0])  # view frame, +z = viewer


def _area_weighted_frame(mesh: trimesh.Trimesh) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Centre and principal axes (rows, largest variance first) of the surface, by face area, so
    that dense and sparse regions of a scan count by the surface they cover, not by vertex count."""
    areas = np.asarray(mesh.area_faces, dtype=np.float64)
    centroids = np.asarray(mesh.triangles_center, dtype=np.float64)
    weights = areas / areas.sum() if areas.sum() > 0 else np.full(len(areas), 1 / len(areas))
    centre = weights @ centroids
    offsets = centroids - centre
    covariance = (offsets * weights[:, None]).T @ offsets
    _, vectors = np.linalg.eigh(covariance)  # ascending eigenvalues
    return centre, vectors[:, ::-1].T


def view_rotation(mesh: trimesh.Trimesh) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The view (centre, 3x3 rotation with rows screen-right, screen-up, towards-viewer) in which
    the thumbnail is drawn; a proper rotation (determinant +1)."""
    centre, (long_axis, _, short_axis) = _area_weighted_frame(mesh)
    normals = np.asarray(mesh.face_normals, dtype=np.float64)
    areas = np.asarray(mesh.area_faces, dtype=np.float64)
    # Look at the side most of the surface faces: the occlusal side of an arch scan.
    if areas @ (normals @ short_axis) < 0:
        short_axis = -short_axis
    # Eigenvector signs are arbitrary; fix the long axis by skew so the same scan renders the same.
    along = (np.asarray(mesh.triangles_center) - centre) @ long_axis
    if areas @ along**3 < 0:
        long_axis = -long_axis
    up = np.cross(short_axis, long_axis)
    rotation = np.stack([long_axis, up, short_axis])
    tilt = math.radians(VIEW_TILT_DEG)
    tilt_about_x = np.array(
        [[1, 0, 0], [0, math.cos(tilt), -math.sin(tilt)], [0, math.sin(tilt), math.cos(tilt)]]
    )
    return centre, tilt_about_x @ rotation


def render_thumbnail(mesh: trimesh.Trimesh, size: int = THUMBNAIL_SIZE) -> bytes:
    """A size x size WebP of the scan, shaded, seen along its occlusal axis with a slight tilt."""
    if not 16 <= size <= 2048:
        raise InvalidInput("The thumbnail size must be between 16 and 2048 pixels.")
    if len(mesh.faces) == 0:
        raise InvalidInput("The mesh has no faces to draw.")
    small = decimate(mesh, THUMBNAIL_FACES)
    centre, rotation = view_rotation(small)
    vertices = (np.asarray(small.vertices, dtype=np.float64) - centre) @ rotation.T
    faces = np.asarray(small.faces)
    triangles = vertices[faces]  # (F, 3, 3) in the view frame

    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    lengths = np.linalg.norm(normals, axis=1)
    normals /= np.where(lengths > 0, lengths, 1.0)[:, None]
    shade = AMBIENT + (1 - AMBIENT) * np.abs(normals @ LIGHT)
    colours = vertex_colours(small)
    base = (
        colours[faces, :3].astype(np.float64).mean(axis=1)
        if colours is not None
        else np.broadcast_to(NEUTRAL_COLOUR, (len(faces), 3))
    )
    fills = np.clip(base * shade[:, None], 0, 255).astype(np.uint8)

    canvas = size * SUPERSAMPLE
    xy = vertices[:, :2]
    low, high = xy.min(axis=0), xy.max(axis=0)
    extent = float((high - low).max()) or 1.0
    scale = canvas * (1 - 2 * MARGIN) / extent
    offset = canvas / 2 - (low + high) / 2 * scale * np.array([1.0, -1.0])
    pixels = xy * scale * np.array([1.0, -1.0]) + offset  # image y grows downwards

    image = Image.new("RGB", (canvas, canvas), BACKGROUND)
    draw = ImageDraw.Draw(image)
    order = np.argsort(triangles[:, :, 2].mean(axis=1))  # farthest first
    polygons = pixels[faces[order]].tolist()
    for polygon, fill in zip(polygons, fills[order].tolist(), strict=True):
        colour = (fill[0], fill[1], fill[2])
        # The outline closes the hairline cracks Pillow leaves between adjacent filled triangles.
        draw.polygon([(x, y) for x, y in polygon], fill=colour, outline=colour)
    thumbnail = image.reduce(SUPERSAMPLE)
    out = io.BytesIO()
    thumbnail.save(out, "WEBP", quality=THUMBNAIL_QUALITY, method=4)
    return out.getvalue()
