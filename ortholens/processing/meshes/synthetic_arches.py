"""Labelled synthetic intraoral scans (upper arch, lower arch, bite registration) in millimetres.

Tests and the accuracy measurement of `arches.classify_arch` need meshes whose true arch is known.
Each mesh is built in a "teeth up" frame (occlusal plane z = 0 at the gum line, incisors towards +y)
and then moved by a random rigid motion, so no label is carried by orientation, vertex count or face
order. Dimensions follow typical dentitions: intermolar width 45-65 mm, crown heights 6-10 mm,
bucco-lingual crown widths 6-11 mm, a palatal vault 8-16 mm deep, bite wafers 2.5-6 mm thick.

- UPPER: an open sheet over the crowns and the buccal gingiva whose lingual side runs into a palatal
  vault that closes the U (the buccal base and the back of the palate stay open, as scans do).
- LOWER: the same sheet over crowns and gingiva, the lingual gingiva dropping towards the floor of
  the mouth and ending in an open edge; the tongue space is empty.
- BITE: a thin two-sided wafer with cusp imprints on both faces, the full arch or one or two segments.

`make_teeth_arch` builds teeth-only meshes instead (separate closed crowns, no gingiva or palate, as
segmentation and aligner setup software export them): one row of crowns for an upper or lower arch,
both rows in occlusion for a bite. Crown sizes are Wheeler's average mesiodistal and labio-lingual
dimensions per tooth type, scaled along the arch so neighbours touch.

All surfaces are wound so face normals point out of the tissue, towards the scanner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from ortholens.processing.meshes.types import ArchType

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Per tooth from the midline outwards: central incisor, lateral, canine, 2 premolars, 3 molars.
_MESIODISTAL_UPPER = np.array([8.5, 6.6, 7.6, 7.0, 6.6, 10.2, 9.0, 8.5])  # mm
_MESIODISTAL_LOWER = np.array([5.3, 5.9, 6.9, 7.0, 7.1, 11.0, 10.5, 10.0])  # mm
_BUCCOLINGUAL = np.array([7.0, 6.2, 8.0, 9.0, 9.0, 11.0, 10.5, 10.0])  # mm
# Teeth-only crowns (Wheeler's averages): mesiodistal and labio-lingual per tooth type, mm.
_CROWN_MD = {"UPPER": np.array([8.5, 6.5, 7.5, 7.0, 6.5, 10.0, 9.0, 8.5]),
             "LOWER": np.array([5.0, 5.5, 7.0, 7.0, 7.0, 11.0, 10.5, 10.0])}  # fmt: skip
_CROWN_BL = {"UPPER": np.array([7.0, 6.0, 8.0, 9.0, 9.0, 11.0, 11.0, 10.0]),
             "LOWER": np.array([6.0, 6.5, 7.5, 7.5, 8.0, 10.5, 10.0, 9.5])}  # fmt: skip
_CROWN_HEIGHT = np.array([9.5, 8.5, 10.0, 8.0, 7.5, 7.0, 6.5, 6.0])  # mm above the gum line
_CUSPS_ALONG = np.array([1, 1, 1, 1, 1, 2, 2, 2])  # cusp rows along the arch per crown
_FISSURE = np.array([0.02, 0.02, 0.04, 0.14, 0.14, 0.16, 0.16, 0.16])  # fraction of crown height
_PROFILE_SAMPLES = 44  # across the arch (buccal base -> lingual end)
_PAPILLA_HEIGHT = 1.0  # mm: the gingiva between crowns


@dataclass(frozen=True)
class _ArchCurve:
    """A U-shaped dental arch centreline y = depth (1 - |x / a|^k), sampled by arc length.

    k > 2 gives the broad incisor curve and the nearly straight, slightly diverging molar segments
    of real arches (a parabola's front is too pointed for the lingual gingiva to fit inside it).
    """

    a: float
    depth: float
    k: float
    length: float
    x_of_length: tuple[FloatArray, FloatArray]  # (cumulative length, x) lookup

    def frame(self, s: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Points (n, 2) and inward unit normals (n, 2) at arc fractions s (0 left end, 1 right end)."""
        lengths, xs = self.x_of_length
        x = np.interp(s * self.length, lengths, xs)
        t = np.abs(x) / self.a
        y = self.depth * (1.0 - t**self.k)
        slope = -self.depth * self.k * t ** (self.k - 1) * np.sign(x) / self.a
        inward = np.column_stack([slope, -np.ones_like(x)])  # tangent (1, slope) turned clockwise
        inward /= np.linalg.norm(inward, axis=1, keepdims=True)
        return np.column_stack([x, y]), inward


@dataclass(frozen=True)
class _Dentition:
    """Teeth along one arch: per-side tooth types (indexes into the tables) and which are missing."""

    widths: FloatArray  # mesiodistal widths, mm, per tooth type
    left: tuple[int, ...]
    right: tuple[int, ...]
    missing: frozenset[tuple[int, int]]  # (side 0 left / 1 right, position from the midline)
    heights: FloatArray  # (2, 8) crown height jitter factors


def make_arch(kind: ArchType, seed: int, *, triangles: int = 40_000) -> trimesh.Trimesh:
    """A random, deterministic synthetic scan of `kind` in mm, about `triangles` faces (+-30%)."""
    rng = np.random.default_rng([seed, list(ArchType).index(kind)])
    budget = max(2_000, int(triangles * rng.uniform(0.75, 1.3)))
    curve = _random_curve(rng)
    if kind is ArchType.BITE:
        upper = _random_dentition(rng, _MESIODISTAL_UPPER, allow_missing=False)
        lower = _random_dentition(rng, _MESIODISTAL_LOWER, allow_missing=False)
        vertices, faces = _bite_wafer(rng, curve, upper, lower, budget)
    else:
        widths = _MESIODISTAL_UPPER if kind is ArchType.UPPER else _MESIODISTAL_LOWER
        dentition = _random_dentition(rng, widths, allow_missing=True)
        vertices, faces = _arch_surface(rng, curve, dentition, budget, upper=kind is ArchType.UPPER)
    vertices = vertices + rng.normal(0.0, rng.uniform(0.02, 0.08), vertices.shape)
    faces = _punch_holes(rng, vertices, faces)
    faces = faces[rng.permutation(len(faces))]
    rotation = Rotation.random(rng=rng).as_matrix()
    vertices = vertices @ rotation.T + rng.uniform(-150.0, 150.0, 3)
    return trimesh.Trimesh(vertices=vertices, faces=faces, process=True)


def _random_curve(rng: np.random.Generator) -> _ArchCurve:
    intermolar = rng.uniform(45.0, 65.0)  # mm, across the outer molar surfaces
    a = intermolar / 2.0 - 5.0
    depth = intermolar * rng.uniform(0.62, 0.8)  # incisors to the back of the last molars
    k = rng.uniform(2.4, 3.4)
    xs = np.linspace(-a, a, 4001)
    ys = depth * (1.0 - (np.abs(xs) / a) ** k)
    lengths = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(xs), np.diff(ys)))])
    return _ArchCurve(a, depth, k, float(lengths[-1]), (lengths, xs))


def _random_dentition(
    rng: np.random.Generator, widths: FloatArray, *, allow_missing: bool
) -> _Dentition:
    total = int(rng.integers(12, 17))
    left_count = total // 2 + int(rng.integers(0, total % 2 + 1))
    right_count = total - left_count
    missing: set[tuple[int, int]] = set()
    if allow_missing and rng.random() < 0.3:
        for _ in range(int(rng.integers(1, 3))):
            side = int(rng.integers(0, 2))
            missing.add((side, int(rng.integers(1, (left_count, right_count)[side]))))
    return _Dentition(
        widths=widths * rng.uniform(0.9, 1.1, len(widths)),
        left=tuple(range(left_count)),
        right=tuple(range(right_count)),
        missing=frozenset(missing),
        heights=rng.uniform(0.85, 1.15, (2, len(widths))),
    )


def _teeth_along(
    curve: _ArchCurve, dentition: _Dentition, s: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per arc sample: crown height (mm), bucco-lingual width (mm), fissure depth and cusp factor."""
    side = (s >= 0.5).astype(np.int64)
    from_midline = np.abs(s - 0.5) * curve.length
    height = np.empty_like(s)
    width = np.empty_like(s)
    fissure = np.empty_like(s)
    cusp = np.empty_like(s)
    for side_index, teeth in enumerate((dentition.left, dentition.right)):
        on_side = side == side_index
        mesiodistal = dentition.widths[list(teeth)]
        # The teeth fill the half arch; the curve's length sets the scale.
        edges = np.concatenate([[0.0], np.cumsum(mesiodistal)])
        edges *= curve.length / 2.0 / edges[-1]
        d = from_midline[on_side]
        tooth = np.clip(np.searchsorted(edges, d, side="right") - 1, 0, len(teeth) - 1)
        tau = np.clip((d - edges[tooth]) / (edges[tooth + 1] - edges[tooth]), 0.0, 1.0)
        crown = _CROWN_HEIGHT[tooth] * dentition.heights[side_index, tooth]
        absent = np.array([(side_index, int(t)) in dentition.missing for t in tooth], dtype=bool)
        crown = np.where(absent, _PAPILLA_HEIGHT, crown)
        # Flat-topped crowns with embrasures dipping to the papilla between neighbours.
        height[on_side] = _PAPILLA_HEIGHT + (crown - _PAPILLA_HEIGHT) * np.sin(np.pi * tau) ** 0.3
        width[on_side] = _BUCCOLINGUAL[tooth]
        fissure[on_side] = np.where(absent, 0.0, _FISSURE[tooth])
        cusp[on_side] = 0.88 + 0.12 * np.sin(np.pi * _CUSPS_ALONG[tooth] * tau) ** 2
    kernel = np.ones(5) / 5.0
    width = np.convolve(np.pad(width, 2, mode="edge"), kernel, mode="valid")
    return height * cusp, width, fissure, cusp


def _grid_faces(rows: int, cols: int, *, wrap: bool = False) -> IntArray:
    """Two triangles per cell of a rows x cols vertex grid (columns wrap round when `wrap`)."""
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols if wrap else cols - 1), indexing="ij")
    a = r * cols + c
    b = r * cols + (c + 1) % cols
    d = (r + 1) * cols + c
    e = (r + 1) * cols + (c + 1) % cols
    return np.concatenate(
        [np.stack([a, b, e], -1).reshape(-1, 3), np.stack([a, e, d], -1).reshape(-1, 3)]
    ).astype(np.int64)


def _orient(vertices: FloatArray, faces: IntArray, mask: NDArray[np.bool_]) -> IntArray:
    """Flip the winding when the faces under `mask` do not, on average, face +z."""
    tri = vertices[faces[mask]]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    return faces if normals[:, 2].sum() > 0 else faces[:, ::-1].copy()


def _arch_surface(
    rng: np.random.Generator, curve: _ArchCurve, dentition: _Dentition, budget: int, *, upper: bool
) -> tuple[FloatArray, IntArray]:
    sheet_share = rng.uniform(0.55, 0.7) if upper else 1.0
    n_p = _PROFILE_SAMPLES
    n_s = max(40, int(budget * sheet_share / (2 * (n_p - 1))))
    s = np.linspace(0.0, 1.0, n_s)
    points, inward = curve.frame(s)
    height, width, fissure, _ = _teeth_along(curve, dentition, s)

    buccal_drop = rng.uniform(4.0, 9.0)
    lingual_drop = rng.uniform(2.0, 5.0) if upper else rng.uniform(6.0, 12.0)
    lingual_run = rng.uniform(2.0, 4.0) if upper else rng.uniform(2.0, 6.0)
    wobble = 1.0 + 0.15 * np.sin(2 * np.pi * (s * rng.uniform(1.0, 3.0) + rng.random()))
    half = width / 2.0
    h = height
    f = fissure * h
    # Knots across the profile, buccal base -> lingual end: (X towards the tongue, Z up), mm.
    knots_x = [
        -(half + rng.uniform(1.0, 3.0)),
        -(half + 0.6),
        -half,
        -0.42 * width,
        -0.2 * width,
        0.0 * width,
        0.2 * width,
        0.42 * width,
        half,
        half + 0.6,
        half + lingual_run * wobble,
    ]
    knots_z = [
        -buccal_drop * wobble,
        -1.0 + 0 * h,
        0.45 * h,
        0.9 * h,
        h - f,
        h - 1.6 * f,
        h - f,
        0.9 * h,
        0.45 * h,
        -1.0 + 0 * h,
        -lingual_drop * wobble,
    ]
    knot_p = np.array([0.0, 0.12, 0.22, 0.32, 0.42, 0.5, 0.58, 0.68, 0.78, 0.88, 1.0])
    p = np.linspace(0.0, 1.0, n_p)
    weights = np.stack([np.interp(p, knot_p, np.eye(len(knot_p))[k]) for k in range(len(knot_p))])
    across_x = np.column_stack([np.broadcast_to(k, s.shape) for k in knots_x]) @ weights
    across_z = np.column_stack([np.broadcast_to(k, s.shape) for k in knots_z]) @ weights
    xy = points[:, None, :] + inward[:, None, :] * across_x[:, :, None]
    sheet = np.concatenate([xy, across_z[:, :, None]], axis=2)
    faces = _grid_faces(n_s, n_p)
    crown_cells = np.zeros((n_s - 1, n_p - 1), dtype=bool)
    crown_cells[:, n_p // 2 - 3 : n_p // 2 + 3] = True
    faces = _orient(sheet.reshape(-1, 3), faces, np.tile(crown_cells.ravel(), 2))
    vertices = sheet.reshape(-1, 3)
    if not upper:
        return vertices, faces
    palate_v, palate_f = _palate(rng, curve, s, sheet[:, -1, :], budget - len(faces))
    return np.concatenate([vertices, palate_v]), np.concatenate([faces, palate_f + len(vertices)])


def _palate(
    rng: np.random.Generator, curve: _ArchCurve, s: FloatArray, rim: FloatArray, budget: int
) -> tuple[FloatArray, IntArray]:
    """The palatal vault: rows from the lingual rim of each side across to the midline."""
    reach = rng.uniform(0.85, 1.0)  # how far back the palate was scanned, fraction of a half arch
    vault = rng.uniform(8.0, 16.0)  # mm below the lingual gum line at the deepest point
    from_midline = np.abs(s - 0.5) * 2.0
    chosen = [np.flatnonzero((s < 0.5) & (from_midline <= reach))[::-1]]
    chosen.append(np.flatnonzero((s >= 0.5) & (from_midline <= reach)))
    rows_total = sum(len(c) for c in chosen)
    n_r = int(np.clip(budget / (2 * max(rows_total - 2, 1)), 8, 60))
    r = np.linspace(0.0, 1.0, n_r)
    all_v: list[FloatArray] = []
    all_f: list[IntArray] = []
    offset = 0
    for rows in chosen:
        start = rim[rows]
        depth = vault * np.clip(from_midline[rows] / 0.45, 0.15, 1.0) ** 0.7
        x = start[:, None, 0] * (1.0 - r)[None, :]
        y = np.broadcast_to(start[:, None, 1], x.shape)
        # Steep beside the teeth, flat at the raphe; rugae ridges across the anterior palate.
        rugae = 0.5 * np.sin(y / rng.uniform(3.5, 5.0)) * (from_midline[rows, None] < 0.35)
        z = start[:, None, 2] - depth[:, None] * (1.0 - (1.0 - r[None, :]) ** 2) + rugae * r
        grid = np.stack([x, y, z], axis=2)
        faces = _grid_faces(len(rows), n_r)
        mid = np.zeros((len(rows) - 1, n_r - 1), dtype=bool)
        mid[:, n_r // 2 :] = True
        # The palate faces the mouth: +z in this frame, like the crowns.
        faces = _orient(grid.reshape(-1, 3), faces, np.tile(mid.ravel(), 2))
        all_v.append(grid.reshape(-1, 3))
        all_f.append(faces + offset)
        offset += grid.shape[0] * grid.shape[1]
    return np.concatenate(all_v), np.concatenate(all_f)


def _bite_segments(rng: np.random.Generator) -> list[tuple[float, float]]:
    """Arc-fraction spans of a bite: the full arch, both buccal segments, one, or the front."""
    roll = rng.random()
    left = (rng.uniform(0.0, 0.04), rng.uniform(0.22, 0.32))
    right = (rng.uniform(0.68, 0.78), rng.uniform(0.96, 1.0))
    if roll < 0.35:
        return [(rng.uniform(0.0, 0.04), rng.uniform(0.96, 1.0))]
    if roll < 0.7:
        return [left, right]
    if roll < 0.9:
        return [left if rng.random() < 0.5 else right]
    return [(rng.uniform(0.28, 0.34), rng.uniform(0.66, 0.72))]


def _bite_wafer(
    rng: np.random.Generator,
    curve: _ArchCurve,
    upper: _Dentition,
    lower: _Dentition,
    budget: int,
) -> tuple[FloatArray, IntArray]:
    thickness = rng.uniform(2.5, 6.0)
    margin = rng.uniform(1.0, 3.0)
    depth_up = rng.uniform(0.6, 1.6)
    depth_low = rng.uniform(0.6, 1.6)
    segments = _bite_segments(rng)
    span = sum(b - a for a, b in segments)
    n_u = 48
    all_v: list[FloatArray] = []
    all_f: list[IntArray] = []
    offset = 0
    for start, end in segments:
        n_s = max(20, int(budget * (end - start) / span / (2 * n_u)))
        s = np.linspace(start, end, n_s)
        points, inward = curve.frame(s)
        up_h, up_w, _, _ = _teeth_along(curve, upper, s)
        low_h, low_w, _, _ = _teeth_along(curve, lower, s)
        half = np.maximum(up_w, low_w)[:, None] / 2.0 + margin
        u = np.linspace(0.0, 1.0, n_u, endpoint=False)[None, :]
        # The closed cross-section: top face, lingual wall, bottom face, buccal wall.
        top = u < 0.4
        lingual = (u >= 0.4) & (u < 0.5)
        bottom = (u >= 0.5) & (u < 0.9)
        q = np.where(top, -1 + 2 * u / 0.4, np.where(bottom, 1 - 2 * (u - 0.5) / 0.4, 0.0))
        imprint = np.clip(1.0 - (q * half / (0.5 * up_w[:, None])) ** 2, 0.0, 1.0)
        up_mark = depth_up * imprint * (up_h[:, None] / up_h.max())
        imprint = np.clip(1.0 - (q * half / (0.5 * low_w[:, None])) ** 2, 0.0, 1.0)
        low_mark = depth_low * imprint * (low_h[:, None] / low_h.max())
        z_top = np.maximum(thickness / 2 - up_mark, 0.4)
        z_bottom = np.minimum(-thickness / 2 + low_mark, -0.4)
        wall = np.where(lingual, (u - 0.4) / 0.1, (u - 0.9) / 0.1)
        wall_x = half + 0.6 * thickness / 2 * np.sin(np.pi * wall)
        x = np.where(top | bottom, q * half, np.where(lingual, wall_x, -wall_x))
        wall_z = thickness / 2 * np.cos(np.pi * wall) * np.where(lingual, 1.0, -1.0)
        z = np.where(top, z_top, np.where(bottom, z_bottom, wall_z))
        z = np.broadcast_to(z, x.shape)
        xy = points[:, None, :] + inward[:, None, :] * x[:, :, None]
        grid = np.concatenate([xy, z[:, :, None]], axis=2)
        faces = _grid_faces(n_s, n_u, wrap=True)
        top_cells = np.broadcast_to(top, (n_s - 1, n_u))
        faces = _orient(grid.reshape(-1, 3), faces, np.tile(top_cells.ravel(), 2))
        all_v.append(grid.reshape(-1, 3))
        all_f.append(faces + offset)
        offset += n_s * n_u
    return np.concatenate(all_v), np.concatenate(all_f)


def _punch_holes(rng: np.random.Generator, vertices: FloatArray, faces: IntArray) -> IntArray:
    """Drop 0-3 small patches of faces, like the unscanned spots of a real intraoral scan."""
    centroids = vertices[faces].mean(axis=1)
    keep = np.ones(len(faces), dtype=bool)
    for _ in range(int(rng.integers(0, 4))):
        centre = centroids[rng.integers(len(faces))]
        keep &= np.linalg.norm(centroids - centre, axis=1) > rng.uniform(0.8, 2.5)
    return faces[keep]


def make_teeth_arch(kind: ArchType, seed: int, *, triangles: int = 20_000) -> trimesh.Trimesh:
    """A random, deterministic teeth-only mesh of `kind` in mm: separate closed crowns."""
    rng = np.random.default_rng([seed, list(ArchType).index(kind), 7])
    curve = _random_curve(rng)
    per_side = int(rng.integers(6, 9))  # with or without second and third molars
    missing: set[tuple[int, int]] = set()
    if rng.random() < 0.3:  # an extracted premolar or a lost molar on one side
        missing.add((int(rng.integers(0, 2)), int(rng.integers(3, per_side))))
    rows = [ArchType.LOWER, ArchType.UPPER] if kind is ArchType.BITE else [kind]
    crowns_total = per_side * 2 * len(rows)
    subdivisions = 3 if triangles / crowns_total >= 1280 else 2
    all_v: list[FloatArray] = []
    all_f: list[IntArray] = []
    offset = 0
    lower_height = 0.0
    for row in rows:
        widths = _CROWN_MD[row.value] * rng.uniform(0.92, 1.08, 8)
        depths = _CROWN_BL[row.value] * rng.uniform(0.92, 1.08, 8)
        heights = _CROWN_HEIGHT * rng.uniform(0.85, 1.1, 8)
        # The upper arch is wider and overlaps the lower one buccally in occlusion.
        overjet = -1.5 if (kind is ArchType.BITE and row is ArchType.UPPER) else 0.0
        for side in (0, 1):
            edges = np.concatenate([[0.0], np.cumsum(widths[:per_side])])
            edges *= curve.length / 2.0 / edges[-1] * rng.uniform(0.92, 1.0)
            for tooth in range(per_side):
                if (side, tooth) in missing:
                    continue
                along = (edges[tooth] + edges[tooth + 1]) / 2.0 / curve.length
                s = np.array([0.5 - along if side == 0 else 0.5 + along])
                point, inward = curve.frame(s)
                scale = (edges[tooth + 1] - edges[tooth]) / widths[tooth]
                v, f = _crown(
                    rng, (widths[tooth] * scale, depths[tooth], heights[tooth]), tooth, subdivisions
                )
                if row is ArchType.UPPER and kind is ArchType.BITE:
                    # Cusps down, meeting the lower cusps a millimetre deep; winding follows.
                    v[:, 2] = lower_height - 1.0 + heights[tooth] - v[:, 2]
                    f = f[:, ::-1]
                tangent = np.array([-inward[0, 1], inward[0, 0]])
                xy = point[0] + inward[0] * overjet + v[:, :1] * tangent + v[:, 1:2] * inward[0]
                all_v.append(np.column_stack([xy, v[:, 2]]))
                all_f.append(f + offset)
                offset += len(v)
        lower_height = float(heights.mean())
    vertices = np.concatenate(all_v)
    vertices = vertices + rng.normal(0.0, 0.03, vertices.shape)
    rotation = Rotation.random(rng=rng).as_matrix()
    vertices = vertices @ rotation.T + rng.uniform(-150.0, 150.0, 3)
    faces = np.concatenate(all_f)
    return trimesh.Trimesh(vertices=vertices, faces=faces[rng.permutation(len(faces))])


def _crown(
    rng: np.random.Generator, size: tuple[float, float, float], tooth: int, subdivisions: int
) -> tuple[FloatArray, IntArray]:
    """A closed crown from the gum line (z = 0) up: a rounded block with cusps or an incisal edge;
    `size` is mesiodistal, labio-lingual and height in mm."""
    mesiodistal, labiolingual, height = size
    sphere = trimesh.creation.icosphere(subdivisions=subdivisions)
    unit = np.asarray(sphere.vertices, dtype=np.float64)
    x, y, z = unit[:, 0], unit[:, 1], unit[:, 2]
    # Squarer than an ellipsoid: crowns have flat-ish sides.
    x = np.sign(x) * np.abs(x) ** 0.7
    y = np.sign(y) * np.abs(y) ** 0.7
    top = np.clip(z, 0.0, None)
    if tooth < 2:  # incisors: the edge narrows labio-lingually
        y = y * (1.0 - 0.6 * top)
    else:  # cusps: a fissure across the middle, cusps along the crown
        cusps = 1 if tooth < 5 else 2
        z = z - top * (0.18 * np.exp(-((y / 0.35) ** 2)) + 0.08 * np.cos(np.pi * cusps * x) ** 2)
    z = z + rng.uniform(-0.03, 0.03)
    vertices = np.column_stack(
        [x * mesiodistal / 2.0, y * labiolingual / 2.0, (z + 1.0) * height / 2.0]
    )
    return vertices, np.asarray(sphere.faces, dtype=np.int64)
