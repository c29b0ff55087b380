"""Which intraoral view a photo of the mouth is, from the shape of its teeth mask.

Takes the classifier's small RGB working copy; see `ortholens.processing.views` for the image
conventions (which side is anterior in a buccal view, which way an occlusal arch opens) and
`ortholens.processing.photo_masks` for how the retractors are kept out of the teeth mask.

Occlusal views are a horseshoe: the middle of the teeth's bounding box is empty (palate or
tongue) while its sides are not, and the arch opens on the side where the middle column is empty.
Frontal and buccal views are a wide band of teeth with a full middle; in a buccal view perspective
and the dark posterior mouth make the anterior end of the band heavier, in a frontal view the two
halves balance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ortholens.processing.photo_masks import edge_band, mouth_masks, white_balanced

# Soft tissue and teeth (fractions of the image) that make a photo look like the inside of a mouth.
TISSUE_RAMP = (0.08, 0.25)
TEETH_RAMP = (0.015, 0.06)
TEETH_CEILING = (0.6, 0.45)  # more "teeth" than this is a light wall, not enamel
# Share of the image frame covered by teeth (after the rim is removed) that rules out a mouth: a
# light backdrop fills the frame, while in the mouth the frame is lips, cheeks and retractors.
FRAME_TEETH = (0.4, 0.2)
# Share of the band just outside the teeth that is soft tissue: teeth sit in gum and lips (real
# photos 0.41..0.75), while white things on an orange or skin-coloured scene mostly border other
# things (a portrait cropped above the eyes: 0.35).
GUM_AROUND_TEETH = (0.3, 0.45)
GUM_BAND_PX = 3
# Emptiness of the bounding box's middle (1 - centre density / ring density): (zero, full) points.
# Real occlusal photos measure about 1.0, frontal and buccal ones below 0.
HOLLOW_ARCH = (0.3, 0.7)
HOLLOW_BAND = (0.3, 0.0)
# Width / height of the teeth's bounding box: arches are at most about 1.7 (up to 1.9 with a wide
# arch in a 4:3 frame), bands at least about 2.5 (real 2.6..3.2, drawn 2.5..4.7).
ARCH_ASPECT = (2.3, 1.9)
BAND_ASPECT = (1.6, 2.2)
# Which way an occlusal arch opens: (top - bottom) / (top + bottom) of the middle column.
OPENING = (0.05, 0.35)
# Teeth-mass asymmetry (right - left) / total about the bounding box's middle: (zero, full) points
# of the frontal and buccal ramps. Real: frontal 0.04, buccal 0.11 and 0.14; drawn: frontal
# <= 0.05, buccal 0.12..0.2. A value in between is left for a person.
BALANCED_FRONTAL = (0.06, 0.03)
SHIFTED_BUCCAL = (0.04, 0.1)
# Share of the row's height that touches the left and the right image edge (the smaller of the
# two): (zero, full) points of "the whole row is in the picture".
ROW_CUT_BY_FRAME = (0.3, 0.1)
# Below this margin over the runner-up the view is ambiguous and its confidence is cut.
MARGIN_RAMP = (0.0, 0.25)


@dataclass(frozen=True)
class IntraoralReading:
    """How much the photo looks like a mouth, each intraoral view's score, and why if none fits.

    `evidence` counts only a mouth whose teeth form an arch or a row: gum-coloured scenes with
    bright spots (a fundus photo, a red cup) have the colours but not the arrangement.
    """

    evidence: float
    scores: dict[str, float] = field(default_factory=dict)
    reason: str | None = None


def ramp(value: float, zero: float, full: float) -> float:
    """0 at `zero`, 1 at `full`, linear in between (either direction)."""
    if full == zero:
        return 1.0 if value >= full else 0.0
    return min(1.0, max(0.0, (value - zero) / (full - zero)))


def read_intraoral(small: np.ndarray) -> IntraoralReading:
    """Mouth evidence and the five intraoral views' scores of an RGB working copy."""
    masks = mouth_masks(white_balanced(small))
    teeth = masks.teeth
    tissue_fraction = float(masks.tissue.mean())
    teeth_fraction = float(teeth.mean())
    frame_teeth = float(teeth[edge_band(teeth.shape)].mean())
    evidence = min(
        ramp(tissue_fraction, *TISSUE_RAMP),
        ramp(teeth_fraction, *TEETH_RAMP),
        ramp(teeth_fraction, *TEETH_CEILING),
        ramp(frame_teeth, *FRAME_TEETH),
        ramp(_gum_around_teeth(masks.teeth, masks.tissue), *GUM_AROUND_TEETH),
    )
    if evidence == 0.0:
        return IntraoralReading(0.0, {}, _why_not_a_mouth(tissue_fraction, teeth_fraction))

    ys, xs = np.nonzero(teeth)
    x0, x1 = np.percentile(xs, [1, 99])
    y0, y1 = np.percentile(ys, [1, 99])
    aspect = max(1.0, x1 - x0) / max(1.0, y1 - y0)
    box = teeth[int(y0) : int(y1) + 1, int(x0) : int(x1) + 1].astype(np.float32)
    grid = _density_grid(box)
    ring = (grid.sum() - grid[1, 1]) / 8.0
    hollow = 1.0 - grid[1, 1] / max(ring, 1e-6)
    top, bottom = grid[0, 1], grid[2, 1]
    opening = (top - bottom) / max(top + bottom, 1e-6)  # > 0: opens downwards (maxillary)
    arch = ramp(hollow, *HOLLOW_ARCH) * ramp(aspect, *ARCH_ASPECT)
    band = ramp(hollow, *HOLLOW_BAND) * ramp(aspect, *BAND_ASPECT)
    # Balance about the middle of the teeth's own bounding box, so an off-centre frontal view
    # stays balanced.
    middle = box.shape[1] // 2
    left_mass, right_mass = float(box[:, :middle].sum()), float(box[:, middle:].sum())
    asymmetry = (right_mass - left_mass) / max(left_mass + right_mass, 1.0)

    side = max(2, int(min(teeth.shape) * 0.02))
    rows = teeth[int(y0) : int(y1) + 1]
    cut_both_sides = min(
        float(rows[:, :side].any(axis=1).mean()), float(rows[:, -side:].any(axis=1).mean())
    )
    # A row running out of both sides of the picture may balance only because the frame cut it
    # (a tight crop of a buccal view): then balance proves nothing.
    whole_row = ramp(cut_both_sides, *ROW_CUT_BY_FRAME)
    scores = {
        "IV25": evidence * arch * ramp(opening, *OPENING),
        "IV27": evidence * arch * ramp(-opening, *OPENING),
        "IV07": evidence * band * whole_row * ramp(abs(asymmetry), *BALANCED_FRONTAL),
        "IV01": evidence * band * ramp(asymmetry, *SHIFTED_BUCCAL),
        "IV18": evidence * band * ramp(-asymmetry, *SHIFTED_BUCCAL),
    }
    ranked = sorted(scores.values(), reverse=True)
    margin = ranked[0] - ranked[1]
    best = max(scores, key=lambda code: scores[code])
    # Two views fitting nearly as well is not knowledge: only the winner's score is cut, so the
    # scores still show both candidates.
    scores[best] *= ramp(margin, *MARGIN_RAMP) * 0.5 + 0.5
    reason = None
    shaped = evidence * max(arch, band)
    if arch < 0.5 and band < 0.5:
        reason = (
            "looks like a mouth, but the teeth form neither an occlusal arch nor a frontal or "
            f"buccal row (hollow middle {hollow:.2f}, width/height {aspect:.1f})"
        )
    elif band >= 0.5 and max(scores["IV07"], scores["IV01"], scores["IV18"]) < 0.4 * evidence:
        reason = (
            "a row of teeth between frontal and buccal: the two halves are neither balanced nor "
            f"clearly one-sided (asymmetry {asymmetry:+.2f})"
        )
    elif margin < MARGIN_RAMP[1] / 2:
        reason = "two intraoral views fit nearly as well"
    return IntraoralReading(shaped, scores, reason)


def _gum_around_teeth(teeth: np.ndarray, tissue: np.ndarray) -> float:
    """Share of the pixels within `GUM_BAND_PX` outside the teeth mask that are soft tissue."""
    size = 2 * GUM_BAND_PX + 1
    grown = cv2.dilate(teeth.astype(np.uint8), np.ones((size, size), np.uint8)) > 0
    band = grown & ~teeth
    if not band.any():
        return 0.0
    return float(tissue[band].mean())


def _density_grid(box: np.ndarray) -> np.ndarray:
    """3 x 3 grid of mean teeth density inside the bounding box."""
    rows = np.array_split(np.arange(box.shape[0]), 3)
    cols = np.array_split(np.arange(box.shape[1]), 3)
    return np.array(
        [[box[np.ix_(r, c)].mean() if r.size and c.size else 0.0 for c in cols] for r in rows]
    )


def _why_not_a_mouth(tissue_fraction: float, teeth_fraction: float) -> str:
    if tissue_fraction < TISSUE_RAMP[0]:
        return "too little gum or lip colour for a photo of the mouth"
    if teeth_fraction < TEETH_RAMP[0]:
        return "no teeth found apart from the retractors and the edge of the picture"
    return "bright regions fill the edge of the picture, as a backdrop does, not teeth"
