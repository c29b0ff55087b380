"""Which jaw an intraoral scan shows: upper arch, lower arch or bite registration (seed 001 rule).

The mesh's geometry is always judged, never its file name, and checked against what the scanner's
metadata says: when the metadata names the jaw it decides, unless the shape clearly says another
jaw (then both are shown and a person decides, the guess stays below `CONFIDENT`). Every verdict
is also held against the size of a dental arch in the file's units (`units.check_size`): a mesh
that is only arch-sized in metres, inches or micrometres is reported with the conversion, and one
that is no arch's size in any unit is not an arch. Scans arrive in any orientation, so every shape
cue is measured in the mesh's own principal frame and relative to its width.

Meshes made of separate tooth crowns (teeth-only segmentations, reconstructions, aligner setups)
are judged by their crowns (`teeth`): a row of crowns along a U is one arch, upper or lower by the
size of its incisors; two rows in occlusion are a bite. Full scans with gingiva are judged by
their surface:

- the occlusal plane is the plane of the two largest principal axes (an arch is a wide, flat U);
- a bite registration is thin and two-sided: over most of its footprint one surface faces each way
  along the occlusal normal, a few millimetres apart, and its thickness changes along the arch
  with the teeth's imprints, within bounds (a flat plate or an extruded horseshoe of even
  thickness is no bite, nor is a wing that tapers from a thick middle to thin tips);
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

from ortholens.processing.meshes.scanner_text import normalise_units
from ortholens.processing.meshes.teeth import (
    FULL_ROW,
    GRADED_RATIO,
    LOWER_FRONT_RATIO,
    UPPER_FRONT_RATIO,
    Dentition,
    find_dentition,
)
from ortholens.processing.meshes.types import ArchType, ScannerMetadata
from ortholens.processing.meshes.units import SizeCheck, check_size

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
# Highest confidence a guess keeps when its size is wrong or scanner and shape disagree: a hint
# shown to the person who decides, never filed on its own.
HINT = 0.3
# Share of the outline's middle covered above which a two-sided piece is compact (no horseshoe).
COMPACT_MIDDLE = 0.9
# Rings from the outline's edge to its middle in which the surface height is compared.
RIDGE_BANDS = 10
# Sectors around the footprint in which the thickness of a two-sided mesh is compared.
SECTORS = 48


@dataclass(frozen=True)
class ArchGuess:
    """The detected jaw (None when the geometry says nothing usable), how sure, and why.

    `reasons[0]` is the headline a person sees; `geometry` is what the shape alone said (also
    when the scanner decided), `conflict` that the scanner's metadata and the shape disagree, and
    `size` the size check (with unit suggestions when the mesh is only arch-sized in another unit).
    """

    arch: ArchType | None
    confidence: float  # 0..1; below CONFIDENT a person should confirm
    source: Literal["scanner", "geometry"]
    reasons: tuple[str, ...] = ()
    geometry: tuple[ArchType | None, float] | None = None
    conflict: bool = False
    size: SizeCheck | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict for API responses and the image's stored metadata."""
        shape = self.geometry
        return {
            "arch": self.arch.value if self.arch else None,
            "confidence": round(self.confidence, 3),
            "source": self.source,
            "reasons": list(self.reasons),
            "geometry": None
            if shape is None
            else {"arch": shape[0].value if shape[0] else None, "confidence": round(shape[1], 3)},
            "conflict": self.conflict,
            "size": self.size.to_json() if self.size else None,
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
    imprints: float  # spread of the two-sided thickness around the footprint / median thickness
    walls: float  # share of the two-sided footprint at least 0.7 of the median thickness
    ridge: float  # how far a ring of crowns stands out from the rim and the middle / width
    extents: tuple[float, float, float]  # principal extents in the file's units, widest first


def classify_arch(mesh: trimesh.Trimesh, scanner: ScannerMetadata | None = None) -> ArchGuess:
    """Upper, lower or bite for a scan in any orientation: the shape, held against its size in the
    file's units (`scanner.units`, else mm) and against the jaw the scanner's metadata names."""
    units = normalise_units(scanner.units) if scanner and scanner.units else None
    geometry = classify_geometry(mesh, units or "mm")
    if scanner is None or scanner.arch is None:
        return geometry
    return _cross_check(scanner.arch, geometry)


def classify_geometry(mesh: trimesh.Trimesh, units: str = "mm") -> ArchGuess:
    """What the shape and size alone say (`units`: a normalised unit of `MM_PER_UNIT`)."""
    features = measure_arch_features(mesh)
    if features is None:
        return ArchGuess(None, 0.0, "geometry", ("too few usable faces to judge the shape",))
    dentition = find_dentition(
        np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int64)
    )
    shape = _decide_teeth(dentition) if dentition is not None else _decide(features)
    return _held_to_size(shape, check_size(features.extents, units))


def _held_to_size(shape: ArchGuess, size: SizeCheck) -> ArchGuess:
    """The shape's verdict, kept only when the mesh is the size of what the shape says it is."""
    verdict = (shape.arch, shape.confidence)
    fits = size.fits_bite if shape.arch is ArchType.BITE else size.fits_arch
    if shape.arch is None or fits:
        reasons = (*shape.reasons, size.message()) if shape.arch else shape.reasons
        return ArchGuess(shape.arch, shape.confidence, "geometry", reasons, verdict, size=size)
    looks = f"shaped like {_named(shape.arch)}"
    if not size.suggestions:
        headline = f"not a dental arch: {looks} but {size.message()}"
        reasons = (headline, *shape.reasons)
        return ArchGuess(None, min(shape.confidence, HINT), "geometry", reasons, verdict, size=size)
    headline = f"{looks}, but {size.message()}; convert the units before filing it"
    return ArchGuess(
        shape.arch,
        min(shape.confidence, HINT),
        "geometry",
        (headline, *shape.reasons),
        verdict,
        size=size,
    )


def _cross_check(named: ArchType, geometry: ArchGuess) -> ArchGuess:
    """The scanner's named jaw, unless the size is wrong or the shape clearly says another jaw."""
    says = f"the scanner's metadata names the {named.value.lower()} jaw"
    size = geometry.size
    if size is not None and not size.plausible:
        reasons = (f"{says}, but {size.message()}", *geometry.reasons)
        return ArchGuess(named, HINT, "scanner", reasons, geometry.geometry, size=size)
    shape_arch, shape_confidence = geometry.geometry or (None, 0.0)
    if shape_arch is not None and shape_arch is not named and geometry.confidence >= CONFIDENT:
        headline = (
            f"{says}, but the shape looks like {_named(shape_arch)} (confidence "
            f"{shape_confidence:.2f}): a person should decide"
        )
        return ArchGuess(
            named, HINT, "scanner", (headline, *geometry.reasons), geometry.geometry, True, size
        )
    if shape_arch is named:
        agreement = f"the shape agrees (confidence {shape_confidence:.2f})"
    else:
        agreement = "the shape alone is not conclusive"
    return ArchGuess(named, 1.0, "scanner", (says, agreement), geometry.geometry, size=size)


def _named(arch: ArchType) -> str:
    return {ArchType.UPPER: "an upper arch", ArchType.LOWER: "a lower arch"}.get(arch, "a bite")


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

    two_sided, thickness, imprints, walls = _two_sidedness(ij, shape, height, facing, width)
    occupied = np.bincount(flat, minlength=size).reshape(shape) > 0
    occupied = ndimage.binary_fill_holes(ndimage.binary_closing(occupied, iterations=1))
    hull = _hull_mask(occupied)
    if hull is None:
        coverage, middle, tongue, vault, ridge = 1.0, 1.0, 0.0, 0.0, 0.0
    else:
        coverage = float((occupied & hull).sum() / hull.sum())
        depth = ndimage.distance_transform_edt(hull)
        inner = depth >= 0.5 * depth.max()
        middle = float((occupied & inner).sum() / inner.sum())
        tongue = _largest_bay(hull & ~occupied) / float(hull.sum())
        vault = _vault_depth(flat, shape, height, hull) / width
        ridge = _crown_ridge(flat, shape, height, hull) / width
    return ArchFeatures(
        flatness=float(extents[2] / width),
        elongation=float(extents[1] / width),
        two_sided=two_sided,
        thickness=thickness,
        coverage=coverage,
        middle=middle,
        tongue_space=tongue,
        vault=vault,
        imprints=imprints,
        ridge=ridge,
        walls=walls,
        extents=(float(extents[0]), float(extents[1]), float(extents[2])),
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
    ij: NDArray[np.int64],
    shape: tuple[int, int],
    height: FloatArray,
    facing: FloatArray,
    width: float,
) -> tuple[float, float, float, float]:
    """Share of the facing area in footprint cells seen from both sides, their median gap, how
    much the gap changes around the footprint (a bite's tooth imprints; 0 for an even plate), and
    the share of two-sided cells at least 0.7 of the median gap thick (a wafer has walls; a
    rounded solid such as an ellipsoid thins out gradually towards its rim).

    A cell is two-sided when faces in it point both ways along the normal, in comparable amounts,
    with the two groups apart in height (so a sheet with muddled winding does not count).
    """
    flat = np.ravel_multi_index((ij[:, 0], ij[:, 1]), shape)
    size = shape[0] * shape[1]
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
    if total == 0 or not both.any():
        return 0.0, 0.0, 0.0, 0.0
    share = float((n_up[both] + n_down[both]).sum() / total)
    median_gap = float(np.median(gap[both]))
    walls = float(np.mean(gap[both] >= 0.7 * median_gap))
    return share, median_gap / width, _imprints(np.flatnonzero(both), shape, gap, median_gap), walls


def _imprints(
    cells: NDArray[np.intp], shape: tuple[int, int], gap: FloatArray, median: float
) -> float:
    """Spread of the median thickness per sector around the two-sided cells' centre, relative to
    the median thickness. Teeth press imprints of different depth along the arch; a plate, a ring
    or an extruded shape of even thickness has the same thickness in every sector."""
    if len(cells) < 20 or median <= 0:
        return 0.0
    rows, cols = np.unravel_index(cells, shape)
    angle = np.arctan2(cols - cols.mean(), rows - rows.mean())
    sector = np.minimum(((angle + np.pi) / (2 * np.pi) * SECTORS).astype(np.int64), SECTORS - 1)
    gaps = gap[cells]
    medians = [
        float(np.median(gaps[sector == k])) for k in range(SECTORS) if (sector == k).sum() >= 3
    ]
    return float(np.std(medians) / median) if len(medians) >= 4 else 0.0


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


def _crown_ridge(
    flat: NDArray[np.int64], shape: tuple[int, int], height: FloatArray, hull: NDArray[np.bool_]
) -> float:
    """How far a ring between the outline's edge and its middle stands out from both (either way
    along the normal): an upper scan rises from the buccal gingiva to the crowns and falls again
    into the palate; a bowl or a dome only rises (or falls) from its rim to its middle."""
    size = shape[0] * shape[1]
    counts = np.bincount(flat, minlength=size).reshape(shape)
    totals = np.bincount(flat, weights=height, minlength=size).reshape(shape)
    seen = counts > 0
    depth = ndimage.distance_transform_edt(hull)
    if not seen.any() or depth.max() <= 0:
        return 0.0
    band = np.minimum((depth / depth.max() * RIDGE_BANDS).astype(np.int64), RIDGE_BANDS - 1)
    mean_height = totals / np.maximum(counts, 1)
    profile = [
        float(np.median(mean_height[seen & (band == k)]))
        for k in range(RIDGE_BANDS)
        if (seen & (band == k)).sum() >= 3
    ]
    if len(profile) < 4:
        return 0.0
    heights = np.asarray(profile)
    inner = heights[1:-1]
    above = np.minimum(inner - heights[0], inner - heights[-1]).max()
    below = np.minimum(heights[0] - inner, heights[-1] - inner).max()
    return float(max(above, below, 0.0))


def _ramp(value: float, low: float, high: float) -> float:
    """0 at `low`, 1 at `high`, smooth between (either order)."""
    t = float(np.clip((value - low) / (high - low), 0.0, 1.0))
    return t * t * (3.0 - 2.0 * t)


def _decide_teeth(d: Dentition) -> ArchGuess:
    """The verdict of a teeth-only mesh from its crowns (see `teeth`)."""
    counts = " and ".join(str(len(row.crowns)) for row in d.rows)
    reasons: tuple[str, ...]
    if len(d.rows) == 2:
        lined_up = min(row.horseshoe for row in d.rows)
        score = lined_up * _ramp(d.separation, 0.5, 0.8)
        reasons = (
            f"teeth only: {counts} crowns in two rows, {d.separation:.1f} crown heights apart "
            "(both arches in occlusion)",
        )
        if score < NO_GUESS_SCORE:
            reasons = ("not lined up like two rows of teeth", *reasons)
            return ArchGuess(None, round(score, 3), "geometry", reasons)
        return ArchGuess(ArchType.BITE, round(score, 3), "geometry", reasons)
    row = d.rows[0]
    # Front crowns as large as the back ones are no dentition (molars are the largest teeth).
    graded = _ramp(row.front_ratio, *GRADED_RATIO)
    upper = row.horseshoe * graded * _ramp(row.front_ratio, *UPPER_FRONT_RATIO)
    lower = row.horseshoe * _ramp(row.front_ratio, *LOWER_FRONT_RATIO)
    best, runner_up = (ArchType.UPPER, lower) if upper >= lower else (ArchType.LOWER, upper)
    score = max(upper, lower)
    confidence = score * (1.0 - 0.5 * runner_up)
    reasons = (
        f"teeth only: {len(row.crowns)} crowns in one row along a U"
        if row.horseshoe >= 0.5
        else f"{len(row.crowns)} separate pieces of tooth size, not lined up along an arch",
        f"the four front crowns are {row.front_ratio:.2f} of the largest crowns' footprint "
        "(about 0.45 for upper incisors, 0.29 for lower ones)",
    )
    if row.horseshoe * graded < 0.5 or score < NO_GUESS_SCORE:
        reasons = ("not shaped like a dental arch", *reasons)
        return ArchGuess(None, round(confidence, 3), "geometry", reasons)
    if len(row.crowns) < FULL_ROW:
        # Without the molars the incisors have nothing to be compared with.
        confidence = min(confidence, 0.5)
        reasons = (*reasons, f"only {len(row.crowns)} crowns: too few to be sure of the jaw")
    return ArchGuess(best, round(confidence, 3), "geometry", reasons)


def _decide(f: ArchFeatures) -> ArchGuess:
    """The verdict of a surface scan (one sheet with gingiva, or a bite wafer) from its features."""
    single = 1.0 - _ramp(f.two_sided, 0.25, 0.45)
    # Crowns stand out as a ring between the gingiva at the edge and the palate or tongue side.
    crowned = _ramp(f.ridge, 0.02, 0.05)
    flat_u = _ramp(f.flatness, 0.08, 0.16) * _ramp(f.flatness, 0.75, 0.6)
    u_shaped = flat_u * _ramp(f.elongation, 0.35, 0.5)
    scores = {
        ArchType.BITE: _ramp(f.two_sided, 0.35, 0.55)
        * _ramp(f.thickness, 0.45, 0.3)
        * _ramp(f.flatness, 0.5, 0.35)
        * _ramp(f.imprints, 0.01, 0.025)
        * _ramp(f.imprints, 0.35, 0.28),
        ArchType.UPPER: single
        * u_shaped
        * _ramp(f.middle, 0.8, 0.92)
        * _ramp(f.coverage, 0.75, 0.85)
        * _ramp(f.vault, 0.05, 0.1)
        * crowned,
        ArchType.LOWER: single
        * u_shaped
        * crowned
        * _ramp(f.middle, 0.9, 0.78)
        * _ramp(f.tongue_space, 0.08, 0.15),
    }
    ranked = sorted(scores, key=lambda arch: scores[arch], reverse=True)
    best, runner_up = ranked[0], ranked[1]
    confidence = scores[best] * (1.0 - 0.5 * scores[runner_up])
    reasons: tuple[str, ...] = (
        f"two-sided over {f.two_sided:.0%} of its flat area, {f.thickness:.0%} of the width apart, "
        f"thickness varying {f.imprints:.0%} around the arch",
        f"height {f.flatness:.0%} and depth {f.elongation:.0%} of the width",
        f"covers {f.coverage:.0%} of its outline and {f.middle:.0%} of the outline's middle",
        f"the largest open bay inside the outline is {f.tongue_space:.0%} of it",
        f"middle lies {f.vault:.0%} of the width from the rim",
        f"a ring of crowns stands {f.ridge:.0%} of the width out of the rim and the middle",
    )
    if scores[best] < NO_GUESS_SCORE:
        return ArchGuess(
            None, round(confidence, 3), "geometry", ("not shaped like a dental arch", *reasons)
        )
    if best is ArchType.BITE and f.middle >= COMPACT_MIDDLE:
        # Not a horseshoe nor two segments: a one-segment bite looks much like a pebble or an
        # ellipsoid of the same size, so only a person can tell.
        compact = "one compact two-sided piece: perhaps a bite segment, a person should confirm"
        reasons = (compact, *reasons)
        confidence = min(confidence, 0.5)
    return ArchGuess(best, round(confidence, 3), "geometry", reasons)
