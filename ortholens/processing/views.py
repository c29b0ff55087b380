"""View classification for clinical photos and radiographs (seed 003 "Auto-categorization").

`classify_view` suggests an ADA-1100 view code from the pixels alone (never a file name). It runs
on a working copy downscaled to `WORK_LONG_EDGE_PX`, so pass the 1600 px preview. Methods, in order:

1. Radiograph: a near-grey image (95th percentile of CIELAB chroma small) whose luma histogram looks
   like a film: a dark air background, bright bone/teeth and a wide spread of greys.
2. Extraoral: OpenCV's shipped Haar cascades (no downloads). A frontal face -> frontal; the smile
   cascade inside the lower face, or white teeth in the mouth region, tells smile (EV19) from rest
   (EV15). No frontal face, but the profile cascade on the image or on its mirror -> profile. The
   45-degree views (EV08 / EV12) are in the enum but never suggested: the profile cascade also fires
   on frontal faces turned a few degrees, so "frontal + profile hit" did not separate them.
3. Intraoral: no face, and the image is dominated by pink/red soft tissue with white/ivory teeth in
   HSV. The teeth mask's geometry then separates the views (see `_intraoral_scores`).

Image conventions (all in the image as displayed, "left"/"right" meaning the viewer's):

- Profiles: EV01 (right profile) shows the patient's right cheek, so the nose points to the image
  RIGHT (camera at the patient's right looking at them: their anterior is on the camera's right).
  `PROFILE_CASCADE_NOSE_POINTS` records which way OpenCV's profile cascade was trained to look; a
  hit on the mirrored image is the other side. A left profile (nose to the image left) has no code
  here and comes back as extraoral with `view=None`.
- Buccal: IV01 (right buccal) has the anterior teeth on the image right and the retracted cheek and
  the dark posterior mouth on the image left, so the teeth mass is shifted to the right. IV18 mirrors
  it.
- Occlusal: shown as in a composite with the incisors towards the other arch: maxillary (IV25,
  photographed in a mirror) has the incisors at the top, so the horseshoe opens towards the bottom
  of the image; mandibular (IV27) opens towards the top.

Scores are in [0, 1]: the category evidence times the view evidence. A view whose score is below
its entry in `VIEW_THRESHOLDS` is not suggested (`view=None`); the category is still given when its
own evidence reaches `CATEGORY_THRESHOLD`.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import cv2
import cv2.data
import numpy as np

from ortholens.kit.errors import InvalidInput, OrthoLensError

WORK_LONG_EDGE_PX = 512
CATEGORY_THRESHOLD = 0.3


class ViewCode(enum.StrEnum):
    """ADA-1100 view codes we suggest, plus XRAY for any radiograph."""

    EV01 = "EV01"  # extraoral right profile
    EV15 = "EV15"  # extraoral frontal at rest
    EV19 = "EV19"  # extraoral frontal smile
    EV08 = "EV08"  # extraoral 45 degrees right
    EV12 = "EV12"  # extraoral 45 degrees left
    IV07 = "IV07"  # intraoral frontal, centric occlusion
    IV01 = "IV01"  # intraoral right buccal
    IV18 = "IV18"  # intraoral left buccal
    IV25 = "IV25"  # intraoral maxillary occlusal
    IV27 = "IV27"  # intraoral mandibular occlusal
    XRAY = "XRAY"  # any radiograph


class ViewCategory(enum.StrEnum):
    EXTRAORAL = "extraoral"
    INTRAORAL = "intraoral"
    RADIOGRAPH = "radiograph"


CATEGORY_OF = {
    **{code: ViewCategory.EXTRAORAL for code in ("EV01", "EV15", "EV19", "EV08", "EV12")},
    **{code: ViewCategory.INTRAORAL for code in ("IV07", "IV01", "IV18", "IV25", "IV27")},
    "XRAY": ViewCategory.RADIOGRAPH,
}

# Minimum score for a view to be suggested.
VIEW_THRESHOLDS: dict[ViewCode, float] = {
    ViewCode.XRAY: 0.5,
    ViewCode.EV15: 0.45,
    ViewCode.EV19: 0.45,
    ViewCode.EV01: 0.4,
    ViewCode.EV08: 1.01,  # never suggested, see the module docstring
    ViewCode.EV12: 1.01,
    ViewCode.IV07: 0.4,
    ViewCode.IV01: 0.4,
    ViewCode.IV18: 0.4,
    ViewCode.IV25: 0.4,
    ViewCode.IV27: 0.4,
}

# Which way the nose points in the faces OpenCV's haarcascade_profileface.xml was trained on
# (documented as "left-facing profiles"; a right-facing one is found by mirroring the image).
PROFILE_CASCADE_NOSE_POINTS = "left"
# Overlapping hits the profile cascade needs (it is weaker than the frontal one; no hits on the
# synthetic intraoral, radiograph or random scenes even at 2; 5 keeps sideways frontal faces out).
PROFILE_NEIGHBOURS = 5
# A frontal face without an eye found inside it counts this much (stays below every threshold).
UNCONFIRMED_FACE_WEIGHT = 0.4
# How much a smile cascade hit in the lower face adds to the smile evidence (0..1).
SMILE_CASCADE_WEIGHT = 0.15
# Teeth-mass asymmetry (right - left) / total about the teeth box's middle: (zero, full) points of
# the frontal and buccal ramps. Tuned on the synthetic set (frontal |a| <= 0.05, buccal ~0.18).
BALANCED_FRONTAL = (0.12, 0.05)
SHIFTED_BUCCAL = (0.06, 0.14)
# Category evidence above which the intraoral colour/shape analysis is skipped.
DECISIVE_EVIDENCE = 0.5


@dataclass(frozen=True)
class ViewSuggestion:
    """The suggested view (None when unsure), its category, confidence and every candidate's score."""

    view: ViewCode | None
    category: ViewCategory | None
    confidence: float
    scores: dict[ViewCode, float] = field(default_factory=dict)


def classify_view(rgb: np.ndarray) -> ViewSuggestion:
    """Suggest the view of an upright RGB uint8 image (H x W x 3) from its pixels."""
    small = _working_copy(rgb)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)

    scores: dict[ViewCode, float] = dict.fromkeys(ViewCode, 0.0)
    category_evidence: dict[ViewCategory, float] = dict.fromkeys(ViewCategory, 0.0)

    xray = _radiograph_score(small, gray)
    scores[ViewCode.XRAY] = xray
    category_evidence[ViewCategory.RADIOGRAPH] = xray

    extraoral, extraoral_scores = _extraoral_scores(small, gray)
    category_evidence[ViewCategory.EXTRAORAL] = extraoral
    scores.update(extraoral_scores)

    if extraoral < DECISIVE_EVIDENCE and xray < DECISIVE_EVIDENCE:
        intraoral, intraoral_scores = _intraoral_scores(small)
        category_evidence[ViewCategory.INTRAORAL] = intraoral
        scores.update(intraoral_scores)

    scores = {code: round(value, 3) for code, value in scores.items()}
    best = max(scores, key=lambda code: scores[code])
    best_category = max(category_evidence, key=lambda cat: category_evidence[cat])
    category = best_category if category_evidence[best_category] >= CATEGORY_THRESHOLD else None
    confidence = scores[best]
    view: ViewCode | None = best if confidence >= VIEW_THRESHOLDS[best] else None
    if view is not None:
        category = CATEGORY_OF[view.value]
    return ViewSuggestion(view=view, category=category, confidence=confidence, scores=scores)


def _working_copy(rgb: np.ndarray) -> np.ndarray:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8:
        raise InvalidInput("The image must be decoded to 8-bit pixels before classification.")
    if rgb.ndim == 2:
        rgb = cv2.cvtColor(rgb, cv2.COLOR_GRAY2RGB)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InvalidInput("The image must be RGB (height x width x 3) or greyscale.")
    height, width = rgb.shape[:2]
    if min(height, width) < 32:
        raise InvalidInput(
            "The image is too small to classify; it must be at least 32 x 32 pixels."
        )
    scale = WORK_LONG_EDGE_PX / max(height, width)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb)


def _ramp(value: float, zero: float, full: float) -> float:
    """0 at `zero`, 1 at `full`, linear in between (either direction)."""
    if full == zero:
        return 1.0 if value >= full else 0.0
    return min(1.0, max(0.0, (value - zero) / (full - zero)))


# --- radiographs -----------------------------------------------------------------------------


def _radiograph_score(small: np.ndarray, gray: np.ndarray) -> float:
    """Near-grey pixels with a film-like histogram: dark air, bright bone, wide spread."""
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    chroma = np.hypot(lab[..., 1] - 128.0, lab[..., 2] - 128.0)
    greyness = _ramp(float(np.percentile(chroma, 95)), 14.0, 5.0)
    if greyness == 0.0:
        return 0.0
    dark = float(np.count_nonzero(gray < 50)) / gray.size
    bright = float(np.count_nonzero(gray > 150)) / gray.size
    spread = float(gray.std())
    film = (
        _ramp(dark, 0.03, 0.12) * 0.35
        + _ramp(bright, 0.01, 0.06) * 0.35
        + _ramp(spread, 20.0, 45.0) * 0.30
    )
    return greyness * film


# --- extraoral -------------------------------------------------------------------------------


@cache
def _cascade(name: str) -> cv2.CascadeClassifier:
    path = Path(cv2.data.haarcascades) / name
    classifier = cv2.CascadeClassifier(str(path))
    if classifier.empty():
        # An installation fault, not something the user can fix.
        raise OrthoLensError(f"OpenCV cascade {name} is missing from this installation.")
    return classifier


Box = tuple[int, int, int, int]


def _detect(
    name: str, gray: np.ndarray, min_fraction: float, neighbours: int
) -> list[tuple[Box, int]]:
    """Boxes (x, y, w, h) with their neighbour counts, at least `min_fraction` of the short edge."""
    side = max(12, int(min(gray.shape) * min_fraction))
    boxes, counts = _cascade(name).detectMultiScale2(
        gray, scaleFactor=1.1, minNeighbors=neighbours, minSize=(side, side)
    )
    return [
        ((int(x), int(y), int(w), int(h)), int(n))
        for (x, y, w, h), n in zip(boxes, counts, strict=True)
    ]


def _detection_strength(neighbours: int) -> float:
    """Neighbour count of a Haar detection mapped to 0..1 (more overlapping hits, surer)."""
    return _ramp(float(neighbours), 2.0, 25.0) * 0.5 + 0.5


def _iou(a: Box, b: Box) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / float(aw * ah + bw * bh - inter)


def _extraoral_scores(small: np.ndarray, gray: np.ndarray) -> tuple[float, dict[ViewCode, float]]:
    """Face cascades: frontal (rest vs smile), profile (by direction) and 45-degree views."""
    equalised = cv2.equalizeHist(gray)
    frontal = _detect("haarcascade_frontalface_default.xml", equalised, 0.2, 5)
    if not frontal:
        frontal = _detect("haarcascade_frontalface_alt2.xml", equalised, 0.2, 3)
    mirrored = cv2.flip(equalised, 1)
    width = gray.shape[1]
    profile_plain = _detect("haarcascade_profileface.xml", equalised, 0.2, PROFILE_NEIGHBOURS)
    profile_mirror = [
        ((width - x - w, y, w, h), n)
        for (x, y, w, h), n in _detect(
            "haarcascade_profileface.xml", mirrored, 0.2, PROFILE_NEIGHBOURS
        )
    ]
    # The cascade's own direction on the plain image; the mirror hit points the other way.
    plain_points = PROFILE_CASCADE_NOSE_POINTS
    scores: dict[ViewCode, float] = {}
    if not frontal and not profile_plain and not profile_mirror:
        return 0.0, scores

    def strongest(hits: list[tuple[Box, int]]) -> tuple[Box, int] | None:
        return max(hits, key=lambda hit: (hit[1], hit[0][2])) if hits else None

    right_hits = profile_plain if plain_points == "right" else profile_mirror
    left_hits = profile_mirror if plain_points == "right" else profile_plain
    right = strongest(right_hits)
    left = strongest(left_hits)

    face = strongest(frontal)
    if face is not None:
        box, count = face
        strength = _detection_strength(count) * _eye_confirmation(equalised, box)
        smile = _smile_evidence(small, gray, box)
        scores[ViewCode.EV19] = strength * smile
        scores[ViewCode.EV15] = strength * (1.0 - smile)
        return strength, scores

    if right is not None:
        scores[ViewCode.EV01] = _detection_strength(right[1])
    strength = max(_detection_strength(hit[1]) for hit in (right, left) if hit is not None)
    return strength, scores


def _eye_confirmation(equalised: np.ndarray, box: Box) -> float:
    """1.0 when the eye cascade finds an eye in the upper face, else `UNCONFIRMED_FACE_WEIGHT`.

    The frontal cascade alone fires on rows of teeth in intraoral photos; a real face has eyes.
    """
    x, y, w, h = box
    upper = equalised[y : y + h * 6 // 10, x : x + w]
    if upper.size and _detect("haarcascade_eye.xml", upper, 0.15, 3):
        return 1.0
    return UNCONFIRMED_FACE_WEIGHT


def _smile_evidence(small: np.ndarray, gray: np.ndarray, box: Box) -> float:
    """0..1: white teeth visible in the mouth region, plus a little for a smile cascade hit."""
    x, y, w, h = box
    lower = gray[y + h // 2 : y + h, x : x + w]
    cascade_hit = 0.0
    if lower.size:
        hits = _detect("haarcascade_smile.xml", lower, 0.25, 40)
        cascade_hit = 1.0 if hits else 0.0
    mouth = small[y + int(h * 0.68) : y + int(h * 0.92), x + w // 4 : x + 3 * w // 4]
    teeth_fraction = 0.0
    if mouth.size:
        hsv = cv2.cvtColor(mouth, cv2.COLOR_RGB2HSV)
        face_v = float(
            np.median(cv2.cvtColor(small[y : y + h, x : x + w], cv2.COLOR_RGB2HSV)[..., 2])
        )
        teeth = (hsv[..., 1] < 70) & (hsv[..., 2] > max(120.0, face_v * 1.05))
        teeth_fraction = float(np.count_nonzero(teeth)) / teeth.size
    # The smile cascade fires on closed mouths too, so it only tips a borderline case.
    return min(1.0, _ramp(teeth_fraction, 0.03, 0.12) + SMILE_CASCADE_WEIGHT * cascade_hit)


# --- intraoral -------------------------------------------------------------------------------


def _tissue_and_teeth(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of pink/red soft tissue and white/ivory teeth (HSV, OpenCV ranges)."""
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    tissue = ((hue <= 12) | (hue >= 160)) & (sat >= 60) & (val >= 50)
    teeth = (sat <= 75) & (val >= 140) & ~tissue
    kernel = np.ones((3, 3), np.uint8)
    teeth = cv2.morphologyEx(teeth.astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool)
    return tissue, teeth


def _intraoral_scores(small: np.ndarray) -> tuple[float, dict[ViewCode, float]]:
    """Colour evidence for a mouth, then the teeth mask's shape decides the view.

    Occlusal views are a horseshoe: a near-square teeth bounding box (aspect 0.6..1.7) whose centre
    is empty; the side of the box where the middle is empty is where the arch opens. Frontal and
    buccal views are a wide band (aspect >= 1.8); frontal is centred and left/right balanced, buccal
    has its teeth mass shifted to the anterior side.
    """
    tissue, teeth = _tissue_and_teeth(small)
    tissue_fraction = float(tissue.mean())
    teeth_fraction = float(teeth.mean())
    # A plain light backdrop (a portrait, a wall) is low-saturation and bright like teeth, and skin
    # is close to gum in hue: such "teeth" fill the image frame, while in the mouth the frame is
    # lips, cheeks and retractors.
    frame = max(2, int(min(teeth.shape) * 0.04))
    border = np.concatenate(
        [
            teeth[:frame].ravel(),
            teeth[-frame:].ravel(),
            teeth[:, :frame].ravel(),
            teeth[:, -frame:].ravel(),
        ]
    )
    evidence = min(
        _ramp(tissue_fraction, 0.08, 0.25),
        _ramp(teeth_fraction, 0.015, 0.06),
        _ramp(teeth_fraction, 0.6, 0.45),
        _ramp(float(border.mean()), 0.4, 0.2),
    )
    scores: dict[ViewCode, float] = {}
    if evidence == 0.0:
        return 0.0, scores

    ys, xs = np.nonzero(teeth)
    x0, x1 = np.percentile(xs, [1, 99])
    y0, y1 = np.percentile(ys, [1, 99])
    box_w, box_h = max(1.0, x1 - x0), max(1.0, y1 - y0)
    aspect = box_w / box_h

    # 3 x 3 grid of teeth density inside the bounding box.
    box = teeth[int(y0) : int(y1) + 1, int(x0) : int(x1) + 1].astype(np.float32)
    rows = np.array_split(np.arange(box.shape[0]), 3)
    cols = np.array_split(np.arange(box.shape[1]), 3)
    grid = np.array([[box[np.ix_(r, c)].mean() for c in cols] for r in rows])
    ring = (grid.sum() - grid[1, 1]) / 8.0
    hollow = _ramp(1.0 - grid[1, 1] / max(ring, 1e-6), 0.2, 0.7)
    squareness = _ramp(abs(math.log(aspect)), math.log(1.8), math.log(1.25))
    arch = hollow * squareness
    top, bottom = grid[0, 1], grid[2, 1]
    opening = (top - bottom) / max(top + bottom, 1e-6)  # > 0: opens downwards (maxillary)

    band = _ramp(aspect, 1.5, 2.3)
    # Left/right balance about the middle of the teeth's own bounding box, so a frontal view that
    # is merely off-centre stays balanced; perspective in a buccal view makes one end heavier.
    middle = int((x0 + x1) / 2 + 0.5)
    left_mass = float(teeth[:, int(x0) : middle].sum())
    right_mass = float(teeth[:, middle : int(x1) + 1].sum())
    asymmetry = (right_mass - left_mass) / max(left_mass + right_mass, 1.0)

    scores[ViewCode.IV25] = evidence * arch * _ramp(opening, 0.05, 0.35)
    scores[ViewCode.IV27] = evidence * arch * _ramp(-opening, 0.05, 0.35)
    scores[ViewCode.IV07] = evidence * band * _ramp(abs(asymmetry), *BALANCED_FRONTAL)
    scores[ViewCode.IV01] = evidence * band * _ramp(asymmetry, *SHIFTED_BUCCAL)
    scores[ViewCode.IV18] = evidence * band * _ramp(-asymmetry, *SHIFTED_BUCCAL)
    return evidence, scores
