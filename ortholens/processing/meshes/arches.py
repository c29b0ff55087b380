"""Which jaw an intraoral scan shows: upper arch, lower arch or bite registration (seed 001 rule).

The scanner's own metadata decides when it names the jaw. Otherwise the mesh's geometry does, never
its file name. Scans arrive in any orientation and scale, so every cue is measured in the mesh's own
principal frame and relative to its width:

- the occlusal plane is the plane of the two largest principal axes (an arch is a wide, flat U);
- a bite registration is thin and two-sided: over most of its footprint one surface faces each way
  along the occlusal normal, a few millimetres apart;
- an upper arch is one-sided and its palate closes the U: seen along the occlusal normal the surface
  covers nearly all of its convex outline, and the middle (the palatal vault) lies well away from
  the rim of teeth;
- a lower arch is one-sided with the tongue space open: a large empty bay inside the outline.

The work is done on a fixed-size area-weighted sample of faces, so a 1M-triangle scan costs about as
much as a small one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import trimesh
from numpy.typing import NDArray
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from ortholens.processing.meshes.types import ArchType, ScannerMetadata

FloatArray = NDArray[np.float64]

# Faces looked at: a uniform pick, then an area-weighted draw from it (a stand-in for sampling the
# whole surface by area without computing every face's area).
CANDIDATE_FACES = 60_000
SAMPLED_FACES = 20_000
# Footprint grid resolution: cells across the widest extent.
GRID_CELLS = 40
# A face counts as facing along the occlusal normal when |cos| exceeds this.
FACING_COS = 0.5
# Below this confidence callers ask a person (the import queue shows the guess as unconfirmed).
CONFIDENT = 0.6
# Best score under which the geometry is called "not a dental arch" (arch None).
NO_GUESS_SCORE = 0.2


@dataclass(frozen=True)
class ArchGuess:
    """The detected jaw (None when the geometry says nothing usable), how sure, and why."""

    arch: ArchType | None
    confidence: float  # 0..1; below CONFIDENT a person should confirm
    source: Literal["scanner", "geometry"]
    reasons: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict for API responses and the image's stored metadata."""
        return {
            "arch": self.arch.value if self.arch else None,
            "confidence": round(self.confidence, 3),
            "source": self.source,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class ArchFeatures:
    """Scale-free shape measurements of a scan, in its principal frame (fractions of its width)."""

    flatness: float  # extent along the occlusal normal / widest extent
    elongation: float  # second extent / widest extent
    two_sided: float  # share of normal-facing area that has an opposite face a gap away
    thickness: float  # median gap between the two sides / widest extent
    coverage: float  # share of the footprint's convex outline covered by surface
    middle: float  # share of the outline's innermost half-depth covered by surface
    tongue_space: float  # largest empty bay inside the outline / outline area
    vault: float  # height of the footprint's middle relative to its rim / widest extent


def classify_arch(mesh: trimesh.Trimesh, scanner: ScannerMetadata | None = None) -> ArchGuess:
    """Upper, lower or bite for a scan in any orientation and units: scanner metadata, else shape."""
    if scanner is not None and scanner.arch is not None:
        return ArchGuess(
            arch=scanner.arch,
            confidence=1.0,
            source="scanner",
            reasons=(f"the scanner's metadata names the {scanner.arch.value.lower()} jaw",),
        )
    features = measure_arch_features(mesh)
    if features is None:
        return ArchGuess(None, 0.0, "geometry", ("too few usable faces to judge the shape",))
    return _decide(features)


def measure_arch_features(mesh: trimesh.Trimesh) -> ArchFeatures | None:
    """Shape measurements of `mesh` (None when it has too few non-degenerate faces)."""
    sample = _sample_faces(mesh)
    if sample is None:
        return None
    centres, normals = sample
    centred = centres - centres.mean(axis=0)
    _, axes = np.linalg.eigh(np.cov(centred.T))
    axes = axes[:, ::-1]  # widest first; the last is the occlusal normal (sign unknown)
    local = centred @ axes
    facing = normals @ axes[:, 2]
    extents = np.percentile(local, 99.5, axis=0) - np.percentile(local, 0.5, axis=0)
    width = float(extents[0])
    if width <= 0 or not np.isfinite(width):
        return None

    cell = width / GRID_CELLS
    ij = np.floor((local[:, :2] - local[:, :2].min(axis=0)) / cell).astype(np.int64)
    shape = (int(ij[:, 0].max()) + 1, int(ij[:, 1].max()) + 1)
    flat = np.ravel_multi_index((ij[:, 0], ij[:, 1]), shape)
    size = shape[0] * shape[1]
    height = local[:, 2]

    two_sided, thickness = _two_sidedness(flat, size, height, facing, width)
    occupied = np.bincount(flat, minlength=size).reshape(shape) > 0
    occupied = ndimage.binary_fill_holes(ndimage.binary_closing(occupied, iterations=1))
    hull = _hull_mask(occupied)
    if hull is None:
        coverage, middle, tongue, vault = 1.0, 1.0, 0.0, 0.0
    else:
        coverage = float((occupied & hull).sum() / hull.sum())
        depth = ndimage.distance_transform_edt(hull)
        inner = depth >= 0.5 * depth.max()
        middle = float((occupied & inner).sum() / inner.sum())
        tongue = _largest_bay(hull & ~occupied) / float(hull.sum())
        vault = _vault_depth(flat, shape, height, hull) / width
    return ArchFeatures(
        flatness=float(extents[2] / width),
        elongation=float(extents[1] / width),
        two_sided=two_sided,
        thickness=thickness,
        coverage=coverage,
        middle=middle,
        tongue_space=tongue,
        vault=vault,
    )


def _sample_faces(mesh: trimesh.Trimesh) -> tuple[FloatArray, FloatArray] | None:
    """Centres and unit normals of an area-weighted sample of faces; deterministic."""
    faces = np.asarray(mesh.faces)
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    if len(faces) < 20 or not np.isfinite(vertices).all():
        return None
    rng = np.random.default_rng(0)
    if len(faces) > CANDIDATE_FACES:
        faces = faces[rng.choice(len(faces), CANDIDATE_FACES, replace=False)]
    triangles = vertices[faces]
    cross = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    doubled_area = np.linalg.norm(cross, axis=1)
    usable = doubled_area > 0
    if usable.sum() < 20:
        return None
    weights = doubled_area[usable] / doubled_area[usable].sum()
    pick = rng.choice(np.flatnonzero(usable), SAMPLED_FACES, p=weights)
    # A uniform point inside each picked triangle (folded barycentric coordinates).
    u, v = rng.random((2, SAMPLED_FACES))
    fold = u + v > 1.0
    u[fold], v[fold] = 1.0 - u[fold], 1.0 - v[fold]
    corner = triangles[pick]
    points = corner[:, 0] + u[:, None] * (corner[:, 1] - corner[:, 0])
    points += v[:, None] * (corner[:, 2] - corner[:, 0])
    return points, cross[pick] / doubled_area[pick, None]


def _two_sidedness(
    flat: NDArray[np.int64], size: int, height: FloatArray, facing: FloatArray, width: float
) -> tuple[float, float]:
    """Share of the facing area in footprint cells seen from both sides, and their median gap.

    A cell is two-sided when faces in it point both ways along the normal, in comparable amounts,
    with the two groups apart in height (so a sheet with muddled winding does not count).
    """
    up = facing > FACING_COS
    down = facing < -FACING_COS
    n_up = np.bincount(flat[up], minlength=size)
    n_down = np.bincount(flat[down], minlength=size)
    z_up = np.bincount(flat[up], weights=height[up], minlength=size) / np.maximum(n_up, 1)
    z_down = np.bincount(flat[down], weights=height[down], minlength=size) / np.maximum(n_down, 1)
    gap = np.abs(z_up - z_down)
    both = (
        (np.minimum(n_up, n_down) >= 2)
        & (np.minimum(n_up, n_down) >= 0.2 * np.maximum(n_up, n_down))
        & (gap > 0.015 * width)
    )
    total = int(n_up.sum() + n_down.sum())
    if total == 0:
        return 0.0, 0.0
    share = float((n_up[both] + n_down[both]).sum() / total)
    thickness = float(np.median(gap[both]) / width) if both.any() else 0.0
    return share, thickness


def _hull_mask(occupied: NDArray[np.bool_]) -> NDArray[np.bool_] | None:
    """Grid cells inside the convex outline of the occupied cells (None when degenerate)."""
    cells = np.argwhere(occupied).astype(np.float64)
    if len(cells) < 3:
        return None
    try:
        hull = ConvexHull(cells)
    except QhullError:
        return None
    grid = np.indices(occupied.shape).reshape(2, -1).T.astype(np.float64)
    equations: FloatArray = np.asarray(hull.equations, dtype=np.float64)
    # Half a cell of slack so the cells the outline passes through count as inside.
    inside = np.all(grid @ equations[:, :2].T + equations[:, 2] <= 0.5, axis=1)
    return np.asarray(inside, dtype=np.bool_).reshape(occupied.shape)


def _largest_bay(empty: NDArray[np.bool_]) -> float:
    """Cells in the largest connected empty region inside the outline."""
    labels, count = ndimage.label(empty)
    if count == 0:
        return 0.0
    return float(np.bincount(labels.ravel())[1:].max())


def _vault_depth(
    flat: NDArray[np.int64], shape: tuple[int, int], height: FloatArray, hull: NDArray[np.bool_]
) -> float:
    """How far the surface in the middle of the outline lies from the surface along its rim."""
    size = shape[0] * shape[1]
    counts = np.bincount(flat, minlength=size).reshape(shape)
    totals = np.bincount(flat, weights=height, minlength=size).reshape(shape)
    mean_height = totals / np.maximum(counts, 1)
    depth = ndimage.distance_transform_edt(hull)
    seen = counts > 0
    rim = seen & (depth <= 0.25 * depth.max())
    middle = seen & (depth >= 0.6 * depth.max())
    if rim.sum() < 3 or middle.sum() < 3:
        return 0.0
    return float(abs(np.median(mean_height[middle]) - np.median(mean_height[rim])))


def _ramp(value: float, low: float, high: float) -> float:
    """0 at `low`, 1 at `high`, smooth between (either order)."""
    t = float(np.clip((value - low) / (high - low), 0.0, 1.0))
    return t * t * (3.0 - 2.0 * t)


def _decide(f: ArchFeatures) -> ArchGuess:
    single = 1.0 - _ramp(f.two_sided, 0.25, 0.45)
    flat_u = _ramp(f.flatness, 0.08, 0.16) * _ramp(f.flatness, 0.75, 0.6)
    u_shaped = flat_u * _ramp(f.elongation, 0.35, 0.5)
    scores = {
        ArchType.BITE: _ramp(f.two_sided, 0.35, 0.55)
        * _ramp(f.thickness, 0.45, 0.3)
        * _ramp(f.flatness, 0.5, 0.35),
        ArchType.UPPER: single
        * u_shaped
        * _ramp(f.middle, 0.8, 0.92)
        * _ramp(f.coverage, 0.75, 0.85)
        * _ramp(f.vault, 0.05, 0.1),
        ArchType.LOWER: single
        * u_shaped
        * _ramp(f.middle, 0.9, 0.78)
        * _ramp(f.tongue_space, 0.08, 0.15),
    }
    ranked = sorted(scores, key=lambda arch: scores[arch], reverse=True)
    best, runner_up = ranked[0], ranked[1]
    confidence = scores[best] * (1.0 - 0.5 * scores[runner_up])
    reasons = (
        f"two-sided over {f.two_sided:.0%} of its flat area, {f.thickness:.0%} of the width apart",
        f"height {f.flatness:.0%} and depth {f.elongation:.0%} of the width",
        f"covers {f.coverage:.0%} of its outline and {f.middle:.0%} of the outline's middle",
        f"the largest open bay inside the outline is {f.tongue_space:.0%} of it",
        f"middle lies {f.vault:.0%} of the width from the rim",
    )
    if scores[best] < NO_GUESS_SCORE:
        return ArchGuess(
            None, round(confidence, 3), "geometry", ("not shaped like a dental arch", *reasons)
        )
    return ArchGuess(best, round(confidence, 3), "geometry", reasons)
