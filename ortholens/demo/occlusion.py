"""The demo's upper arch, lower arch and bite in one frame, in occlusion, as a scanner exports a set.

`make_arch` gives every synthetic arch its own random pose (so tests cannot read the arch from the
orientation). A scanner, though, writes the arches of one set in a shared frame with the jaws
closed, and the viewer shows them as they come: three arches in three random poses sit far apart
(the demo's were about 170 mm apart). Here each arch is put back on its own axes and the three are
stacked: frame in mm, occlusal plane x-y, +z from the lower teeth towards the upper, incisors
towards +y; the lower arch teeth up below the bite wafer, the upper arch teeth down above it.
"""

from __future__ import annotations

import numpy as np
import trimesh
from numpy.typing import NDArray

OVERJET_MM = 2.0  # the upper incisors sit this far in front of the lower ones
INCISOR_BAND_MM = 5.0  # |x| below this is the midline, where the incisors are


def _turn(mesh: trimesh.Trimesh, axis: tuple[float, float, float]) -> None:
    """Half a turn around `axis` through the origin (a proper rotation: nothing is mirrored)."""
    unit = np.asarray(axis, dtype=np.float64)
    unit /= np.linalg.norm(unit)
    transform = np.eye(4)
    transform[:3, :3] = 2.0 * np.outer(unit, unit) - np.eye(3)  # rotation by pi about `unit`
    mesh.apply_transform(transform)


def on_own_axes(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """A copy of a synthetic arch, centred, with its width along x, its depth along y (incisors
    at +y) and its thin direction along z (the side its surface faces, the teeth, at +z).

    The axes are the principal directions of the area-weighted triangle centres (an open scan has
    no volume to take inertia from); the signs come from where the surface faces and from the
    midline, which holds the incisors at the front and at most the palate behind them.
    """
    arch = mesh.copy()
    centres: NDArray[np.float64] = arch.triangles_center
    weights: NDArray[np.float64] = arch.area_faces
    mean = np.average(centres, axis=0, weights=weights)
    spread = np.cov((centres - mean).T, aweights=weights)
    _, vectors = np.linalg.eigh(spread)  # ascending variance: thin, depth, width
    rotation = np.column_stack([vectors[:, 2], vectors[:, 1], vectors[:, 0]])
    if np.linalg.det(rotation) < 0:
        rotation[:, 0] = -rotation[:, 0]
    transform = np.eye(4)
    transform[:3, :3] = rotation.T
    transform[:3, 3] = -rotation.T @ mean
    arch.apply_transform(transform)
    facing = float(np.average(arch.face_normals[:, 2], weights=arch.area_faces))
    if facing < 0:
        _turn(arch, (0.0, 1.0, 0.0))
    midline = np.abs(arch.vertices[:, 0]) < INCISOR_BAND_MM
    if midline.any() and float(arch.vertices[midline, 1].mean()) < 0:
        _turn(arch, (0.0, 0.0, 1.0))
    return arch


def _place(
    mesh: trimesh.Trimesh, *, front_y: float, z_from: float | None = None, z_to: float | None = None
) -> None:
    """Centre in x, put the incisal front at `front_y`, and the bottom at `z_from` or the top at
    `z_to`."""
    low, high = mesh.bounds
    dz = (z_from - low[2]) if z_from is not None else (z_to - high[2]) if z_to is not None else 0.0
    mesh.apply_translation([-(low[0] + high[0]) / 2, front_y - high[1], dz])


def in_occlusion(
    upper: trimesh.Trimesh, lower: trimesh.Trimesh, bite: trimesh.Trimesh
) -> tuple[trimesh.Trimesh, trimesh.Trimesh, trimesh.Trimesh]:
    """Copies of the three arches stacked as a closed bite: lower crowns up to z = 0, the bite
    wafer on them, the upper crowns down on the wafer."""
    lower_c, bite_c, upper_c = on_own_axes(lower), on_own_axes(bite), on_own_axes(upper)
    _turn(upper_c, (0.0, 1.0, 0.0))  # teeth down; the incisors stay at +y
    # The upper turned around y now has its incisors at +y still but its width mirrored in x,
    # which a half turn keeps a proper rotation (left stays left of the patient).
    _place(lower_c, front_y=0.0, z_to=0.0)
    _place(bite_c, front_y=OVERJET_MM / 2, z_from=0.0)
    _place(upper_c, front_y=OVERJET_MM, z_from=float(bite_c.bounds[1][2]))
    return upper_c, lower_c, bite_c
