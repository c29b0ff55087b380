"""Refusals every reader shares: size caps before allocation, then finite coordinates, in-range
faces and at least one triangle once the arrays exist. Messages are user-facing (422/413)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import trimesh

from ortholens.kit.errors import InvalidInput, PayloadTooLarge
from ortholens.processing.meshes.types import ColourKind, MeshLimits


def check_file_size(size: int, name: str, limits: MeshLimits) -> None:
    if size > limits.max_file_bytes:
        raise PayloadTooLarge(
            f"'{name}' is {size / 1e6:.0f} MB; scans up to "
            f"{limits.max_file_bytes / 1e6:.0f} MB can be imported."
        )


def check_declared_counts(
    triangles: int, vertices: int | None, name: str, limits: MeshLimits
) -> None:
    """Refuse what a header promises before anything of that size is allocated."""
    if triangles > limits.max_triangles:
        raise InvalidInput(
            f"'{name}' declares {triangles:,} triangles; at most {limits.max_triangles:,} are accepted. "
            "Decimate the scan in the scanner software and export it again."
        )
    if vertices is not None and vertices > limits.max_vertices:
        raise InvalidInput(
            f"'{name}' declares {vertices:,} vertices; at most {limits.max_vertices:,} are accepted."
        )


def check_arrays(
    vertices: npt.NDArray[np.floating], faces: npt.NDArray[np.integer], name: str
) -> None:
    """Refuse empty meshes, NaN/Inf coordinates and faces pointing outside the vertex list."""
    if faces.ndim != 2 or faces.shape[0] == 0:
        raise InvalidInput(f"'{name}' contains no triangles.")
    if faces.shape[1] != 3:
        raise InvalidInput(f"'{name}' has faces that are not triangles.")
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        raise InvalidInput(f"'{name}' has malformed vertex coordinates.")
    if not np.isfinite(vertices).all():
        raise InvalidInput(f"'{name}' has NaN or infinite vertex coordinates.")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise InvalidInput(f"'{name}' has faces that refer to vertices that do not exist.")


def check_mesh(mesh: trimesh.Trimesh, name: str, limits: MeshLimits) -> trimesh.Trimesh:
    """The final gate for meshes a library built for us: counts, then `check_arrays`."""
    faces = np.asarray(mesh.faces)
    vertices = np.asarray(mesh.vertices)
    check_declared_counts(len(faces), len(vertices), name, limits)
    check_arrays(vertices, faces, name)
    return mesh


def colour_kind(visual: object) -> ColourKind | None:
    """Where the colour a file defined lives, or None: trimesh reports its default grey for
    meshes without colour, and a texture without its image is no colour either."""
    kind = getattr(visual, "kind", None)
    if kind == "texture":
        material = getattr(visual, "material", None)
        image = getattr(material, "image", None) or getattr(material, "baseColorTexture", None)
        return ColourKind.TEXTURE if image is not None else None
    if kind == "vertex":
        colours = np.asarray(getattr(visual, "vertex_colors", np.empty((0, 4))))
        return ColourKind.VERTEX if _defined(colours) else None
    if kind == "face":
        colours = np.asarray(getattr(visual, "face_colors", np.empty((0, 4))))
        return ColourKind.FACE if _defined(colours) else None
    return None


def _defined(colours: npt.NDArray[np.generic]) -> bool:
    return len(colours) > 0 and bool((colours != colours[0]).any() or (colours[0, :3] != 102).any())


def has_defined_colours(visual: object) -> bool:
    """True only for vertex or face colours a file defined (see `colour_kind`)."""
    return colour_kind(visual) in (ColourKind.VERTEX, ColourKind.FACE)
