"""Objects that are not dental arches, at sizes an arch could have (30-90 mm), for the refusal
tests and the measurement: solids, plates, rings, a bowl (one-sided, like a palate), an extruded
horseshoe of even thickness, gears, and equal pieces laid out along a U."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import trimesh


def _extruded(outline: np.ndarray, height: float) -> trimesh.Trimesh:
    """A closed prism over a star-shaped outline (fan triangulation from its centre)."""
    centre = outline.mean(axis=0)
    points = np.vstack([centre, outline])
    n = len(outline)
    faces = np.array([[0, 1 + i, 1 + (i + 1) % n] for i in range(n)])
    return trimesh.creation.extrude_triangulation(points, faces, height).subdivide().subdivide()


def _gear(teeth: int, radius: float, height: float) -> trimesh.Trimesh:
    angle = np.linspace(0.0, 2 * np.pi, teeth * 8, endpoint=False)
    r = radius * (1.0 + 0.12 * (np.sin(angle * teeth) > 0))
    return _extruded(np.column_stack([r * np.cos(angle), r * np.sin(angle)]), height)


def _horseshoe(width: float, band: float, height: float) -> trimesh.Trimesh:
    """An even-thickness U band (an extruded horseshoe), built from boxes along the curve."""
    parts = []
    for t in np.linspace(-1.0, 1.0, 25):
        x, y = width / 2 * np.sin(t * np.pi / 2 * 1.1), width * 0.7 * np.cos(t * np.pi / 2 * 1.1)
        part = trimesh.creation.box((band, band, height))
        part.apply_transform(trimesh.transformations.rotation_matrix(t * np.pi / 2, [0, 0, 1]))
        part.apply_translation((x, y, 0.0))
        parts.append(part)
    return trimesh.util.concatenate(parts)


def _pieces_on_a_u(size: float) -> trimesh.Trimesh:
    """Fourteen equal cubes along a U, like crowns, but as large at the front as at the back."""
    parts = []
    for t in np.linspace(-1.0, 1.0, 14):
        cube = trimesh.creation.box((size, size, size)).subdivide()
        cube.apply_translation((25 * np.sin(t * np.pi / 2), 40 * np.cos(t * np.pi / 2), 0.0))
        parts.append(cube)
    return trimesh.util.concatenate(parts)


def _bowl(radius: float) -> trimesh.Trimesh:
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=radius)
    keep = sphere.triangles_center[:, 2] < -radius * 0.3
    bowl = trimesh.Trimesh(sphere.vertices, sphere.faces[keep])
    bowl.apply_scale((1.0, 0.8, 0.5))
    return bowl


def _scaled(mesh: trimesh.Trimesh, scale: tuple[float, float, float]) -> trimesh.Trimesh:
    mesh.apply_scale(scale)
    return mesh


NON_DENTAL: dict[str, Callable[[], trimesh.Trimesh]] = {
    "box": lambda: trimesh.creation.box((60.0, 45.0, 15.0)).subdivide().subdivide().subdivide(),
    "plate": lambda: trimesh.creation.box((60.0, 45.0, 3.0)).subdivide().subdivide().subdivide(),
    "sphere": lambda: trimesh.creation.icosphere(subdivisions=4, radius=30.0),
    "ellipsoid": lambda: _scaled(trimesh.creation.icosphere(subdivisions=4), (30, 22, 6)),
    "disc": lambda: trimesh.creation.cylinder(radius=30.0, height=10.0, sections=96),
    "washer": lambda: trimesh.creation.annulus(20.0, 30.0, 8.0, sections=96).subdivide(),
    "torus": lambda: trimesh.creation.torus(28.0, 5.0, major_sections=96, minor_sections=24),
    "capsule": lambda: trimesh.creation.capsule(height=40.0, radius=12.0),
    "cone": lambda: trimesh.creation.cone(radius=30.0, height=25.0, sections=96),
    "bowl": lambda: _bowl(35.0),
    "gear": lambda: _gear(24, 30.0, 8.0),
    "horseshoe": lambda: _horseshoe(55.0, 9.0, 6.0),
    "cubes on a U": lambda: _pieces_on_a_u(7.0),
}
