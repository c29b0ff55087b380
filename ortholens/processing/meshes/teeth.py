"""Teeth-only meshes: separate tooth crowns (segmentation output, reconstructed crowns, aligner
setups) with no gingiva or palate.

Such a mesh has no palate and no tongue space to tell the jaws apart, and each closed crown has a
top and a bottom, so the surface cues of `arches` would see a two-sided wafer (a bite). Here the
crowns themselves are the evidence:

- the crowns are the mesh's connected pieces of tooth size, and they must line up in one chain
  along a U (a horseshoe open at the back), a tooth-width apart, or it is not a dentition;
- two such rows stacked along the occlusal normal, a crown height apart, are both arches in
  occlusion (a bite); one row is a single arch;
- upper and lower differ in the incisors: maxillary central and lateral incisors are 8.5 and
  6.5 mm mesiodistal by 7.0 and 6.0 mm labio-lingual, mandibular ones 5.0 and 5.5 by 6.0 and
  6.5 mm, while first and second molars are about the same size in both jaws (10-11 by 10-11 mm;
  Wheeler's Dental Anatomy, Physiology and Occlusion, tables of average crown dimensions). So the
  footprint of the four front crowns is about 0.45 of the largest (a first molar) crown's in an
  upper arch and about 0.29 in a lower one (the largest, so that one missing molar does not
  matter).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError

FloatArray = NDArray[np.float64]

# A piece is a crown candidate when its widest horizontal extent is this share of the arch width
# (crowns are 5-12 mm on an arch 40-80 mm across, with slack for partial or fused crowns).
CROWN_WIDTH_SHARE = (0.04, 0.3)
# Fewer crowns than this is not enough of a dentition to judge (a bite may have fewer per row).
MIN_CROWNS = 6
# Pieces with fewer than this share of the vertices are debris, not crowns (a full dentition has
# 12-16 crowns of 3-10 % each; the threshold leaves room for 32 crowns of a bite at half that).
MIN_PIECE_SHARE = 0.005
# Crowns must hold this share of the surface (the rest: attachments, debris, a base).
MIN_CROWN_AREA_SHARE = 0.7
# Footprint ratio of the four front crowns to the largest: upper ~0.45, lower ~0.29.
UPPER_FRONT_RATIO = (0.35, 0.41)  # ramp: 0 at the first value, fully upper at the second
LOWER_FRONT_RATIO = (0.39, 0.33)  # ramp: 0 at the first value, fully lower at the second
# Above this ratio the front pieces are as large as the back ones: no dentition (ramp to 0).
GRADED_RATIO = (0.7, 0.6)
# Below this many crowns in a row the front/molar comparison is too thin to be sure.
FULL_ROW = 10


@dataclass(frozen=True)
class Crown:
    """One crown candidate in the mesh's principal frame (x across, y along depth, z normal)."""

    centre: tuple[float, float, float]
    footprint: float  # area of its outline seen along the occlusal normal
    height: float  # extent along the occlusal normal
    area: float  # surface area


@dataclass(frozen=True)
class Row:
    """Crowns of one arch, ordered along it, and how well they form a dental arch."""

    crowns: tuple[Crown, ...]
    horseshoe: float  # 0..1: one chain, a tooth-width apart, along a U open at one end
    front_ratio: float  # mean footprint of the four front crowns / the largest crown's


@dataclass(frozen=True)
class Dentition:
    """What the crowns of a teeth-only mesh say."""

    rows: tuple[Row, ...]  # one for a single arch, two (upper side first) for a bite
    crown_share: float  # share of the surface in crown-sized pieces
    width: float  # widest extent of all crowns, in the mesh's units
    separation: float  # gap between two rows' mean heights / mean crown height (0 for one row)


def find_dentition(vertices: FloatArray, faces: NDArray[np.int64]) -> Dentition | None:
    """The crowns of a mesh made of separate tooth pieces, or None when it is not made that way."""
    if len(faces) < 20:
        return None
    labels = _pieces(vertices, faces)
    count = int(labels.max()) + 1 if len(labels) else 0
    if count < MIN_CROWNS:
        return None
    # A crown holds a few per cent of the vertices; a full scan is one piece plus debris, so it
    # stops here before any per-piece work.
    sizes = np.bincount(labels, minlength=count)
    if int((sizes >= MIN_PIECE_SHARE * len(labels)).sum()) < MIN_CROWNS:
        return None
    centred = vertices - vertices.mean(axis=0)
    _, axes = np.linalg.eigh(np.cov(centred.T))
    local = centred @ axes[:, ::-1]
    corners = vertices[faces]
    areas = 0.5 * np.linalg.norm(
        np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1
    )
    face_piece = labels[faces[:, 0]]
    piece_area = np.bincount(face_piece, weights=areas, minlength=count)
    total_area = float(areas.sum())
    width = float(np.ptp(local[:, 0]))
    if total_area <= 0 or width <= 0:
        return None
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(count + 1))
    crowns: list[Crown] = []
    crown_area = 0.0
    for piece in np.flatnonzero(sizes >= max(8, MIN_PIECE_SHARE * len(labels))):
        points = local[order[bounds[piece] : bounds[piece + 1]]]
        spread = np.ptp(points, axis=0)
        extent = float(max(spread[0], spread[1]))
        if not CROWN_WIDTH_SHARE[0] * width <= extent <= CROWN_WIDTH_SHARE[1] * width:
            continue
        footprint = _outline_area(points[:, :2])
        if footprint <= 0:
            continue
        centre = points.mean(axis=0)
        crowns.append(
            Crown(
                centre=(float(centre[0]), float(centre[1]), float(centre[2])),
                footprint=footprint,
                height=float(spread[2]),
                area=float(piece_area[piece]),
            )
        )
        crown_area += float(piece_area[piece])
    share = crown_area / total_area
    if len(crowns) < MIN_CROWNS or share < MIN_CROWN_AREA_SHARE:
        return None
    rows, separation = _split_rows(crowns)
    return Dentition(
        rows=tuple(_row(row) for row in rows),
        crown_share=share,
        width=width,
        separation=separation,
    )


def _pieces(vertices: FloatArray, faces: NDArray[np.int64]) -> NDArray[np.int64]:
    """Connected piece of every vertex (corners at the same position count as one vertex)."""
    if len(vertices) < 2 * len(faces):
        inverse = np.arange(len(vertices))  # already indexed (our readers merge STL corners)
    else:
        _, found = np.unique(vertices, axis=0, return_inverse=True)
        inverse = found.ravel()
    merged = inverse[faces]
    n = int(merged.max()) + 1
    graph = coo_matrix(
        (
            np.ones(2 * len(merged), dtype=np.int8),
            (np.r_[merged[:, 0], merged[:, 1]], np.r_[merged[:, 1], merged[:, 2]]),
        ),
        shape=(n, n),
    )
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels[inverse], dtype=np.int64)


def _outline_area(points: FloatArray) -> float:
    try:
        return float(ConvexHull(points).volume)  # a 2-D hull's "volume" is its area
    except QhullError:
        return 0.0


def _split_rows(crowns: list[Crown]) -> tuple[list[list[Crown]], float]:
    """One row, or two rows stacked along the normal when the heights fall into two groups."""
    heights = np.array([c.centre[2] for c in crowns])
    tall = float(np.median([c.height for c in crowns]))
    order = np.argsort(heights)
    gaps = np.diff(heights[order])
    if len(gaps) == 0 or tall <= 0:
        return [crowns], 0.0
    cut = int(np.argmax(gaps))
    below, above = order[: cut + 1], order[cut + 1 :]
    separation = float(heights[above].mean() - heights[below].mean()) / tall
    if min(len(below), len(above)) < 4 or separation < 0.5:
        return [crowns], 0.0
    return [[crowns[i] for i in above], [crowns[i] for i in below]], separation


def _row(crowns: list[Crown]) -> Row:
    """Order the crowns along their U and measure how much the row looks like one dentition."""
    xy = np.array([c.centre[:2] for c in crowns])
    centred = xy - xy.mean(axis=0)
    _, axes = np.linalg.eigh(np.cov(centred.T))
    local = centred @ axes[:, ::-1]  # across the arch first, then along its depth
    # The front is the depth end where crowns sit near the midline; the back is open and wide.
    spread = [
        float(np.abs(local[sign * local[:, 1] > 0, 0]).mean())
        if (sign * local[:, 1] > 0).any()
        else 0.0
        for sign in (1, -1)
    ]
    front_sign = 1.0 if spread[0] < spread[1] else -1.0
    front = front_sign * local[:, 1]
    centre = np.array([0.0, np.median(front)])
    angle = np.arctan2(local[:, 0] - centre[0], front - centre[1])  # 0 at the front
    ordered = [crowns[i] for i in np.argsort(angle)]
    ordered_xy = local[np.argsort(angle)]
    steps = np.linalg.norm(np.diff(ordered_xy, axis=0), axis=1)
    sizes = np.sqrt([c.footprint for c in ordered])
    typical = float(np.median(sizes))
    # One chain: no step between neighbours much longer than a tooth (a missing tooth allowed).
    chain = float(np.mean(steps <= 2.6 * typical)) if len(steps) else 0.0
    longest = float(steps.max() / typical) if len(steps) else 0.0
    # A U: the ends are behind the front, on both sides, and wider apart than the front crowns.
    front_four = np.argsort(np.abs(angle))[:4]
    back = np.argsort(-np.abs(angle))[:4]
    depth = float(front.max() - front.min())
    across = float(np.ptp(local[:, 0]))
    u_shape = float(
        (front[back].mean() < front[front_four].mean() - 0.3 * depth)
        and (local[back, 0].min() < 0 < local[back, 0].max())
        and 0.3 <= depth / max(across, 1e-9) <= 1.2
    )
    horseshoe = chain * u_shape * float(longest <= 4.0)
    largest = np.sort([c.footprint for c in crowns])[-1:]  # a first molar (one may be missing)
    front_ratio = float(np.mean([crowns[i].footprint for i in front_four]) / largest.mean())
    return Row(tuple(ordered), horseshoe, front_ratio)
