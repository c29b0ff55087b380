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
3. Intraoral: the image is dominated by pink/red soft tissue with ivory teeth, after a white-patch
   colour correction and with the retractor rim taken out of the teeth (`photo_masks`); the teeth
   mask's geometry then separates the views (`intraoral_views`). The mouth evidence is weighed
   against the face cascades, which fire on rows of teeth (the eye cascade on molars too): a clear
   mouth wins over a face hit unless that face, with its eyes found, is surer still.

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
  of the image; mandibular (IV27) opens towards the top. Whether a mirror shot was flipped left to
  right does not matter (an arch is symmetric); one displayed upside down reads as the other arch.

Scores are in [0, 1]: the category evidence times the view evidence (an intraoral winner is cut
when the runner-up is close). A view whose score is below its entry in `VIEW_THRESHOLDS` is not
suggested (`view=None`, with a `reason` a person can read); the category is still given when its
own evidence reaches `CATEGORY_THRESHOLD`. Left unset is the calibrated answer: a wrong view above
the threshold costs more than a photo a person files by hand.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import cv2
import cv2.data
import numpy as np

from ortholens.kit.errors import InvalidInput, OrthoLensError
from ortholens.processing.intraoral_views import IntraoralReading, read_intraoral
from ortholens.processing.intraoral_views import ramp as _ramp

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
# Mouth evidence (arch or row of teeth in gum) needed to call a photo intraoral without a view:
# a near-miss on a portrait crop (orange suit, white helmet) measured 0.27.
INTRAORAL_CATEGORY_THRESHOLD = 0.5
# Mouth evidence at which a face hit is taken for rows of teeth (unless the face, with its eyes
# found, is surer still).
MOUTH_OVER_FACE = 0.5


@dataclass(frozen=True)
class ViewSuggestion:
    """The suggested view (None when unsure, with the reason), category, confidence and scores."""

    view: ViewCode | None
    category: ViewCategory | None
    confidence: float
    scores: dict[ViewCode, float] = field(default_factory=dict)
    reason: str | None = None


def classify_view(rgb: np.ndarray) -> ViewSuggestion:
    """Suggest the view of an upright RGB uint8 image (H x W x 3) from its pixels."""
    small = _working_copy(rgb)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)

    scores: dict[ViewCode, float] = dict.fromkeys(ViewCode, 0.0)
    category_evidence: dict[ViewCategory, float] = dict.fromkeys(ViewCategory, 0.0)

    xray = _radiograph_score(small, gray)
    scores[ViewCode.XRAY] = xray
    category_evidence[ViewCategory.RADIOGRAPH] = xray

    face = _extraoral_scores(small, gray)
    mouth = read_intraoral(small) if xray < 0.5 else None
    extraoral, extraoral_scores = face.strength, face.scores
    face_bar = max(MOUTH_OVER_FACE, face.strength if face.eyes_confirmed else 0.0)
    if mouth is not None and mouth.evidence >= face_bar:
        # The face cascades fire on rows of teeth (the eye cascade on molars too): a clear mouth
        # wins over a face that is not surer than it.
        extraoral, extraoral_scores = 0.0, {}
    category_evidence[ViewCategory.EXTRAORAL] = extraoral
    scores.update(extraoral_scores)
    if mouth is not None and extraoral < 0.5:
        # The intraoral category alone is a claim too (it files the photo): it needs a clear mouth.
        clear = mouth.evidence >= INTRAORAL_CATEGORY_THRESHOLD
        category_evidence[ViewCategory.INTRAORAL] = mouth.evidence if clear else 0.0
        scores.update({ViewCode(code): value for code, value in mouth.scores.items()})

    scores = {code: round(value, 3) for code, value in scores.items()}
    best = max(scores, key=lambda code: scores[code])
    best_category = max(category_evidence, key=lambda cat: category_evidence[cat])
    category = best_category if category_evidence[best_category] >= CATEGORY_THRESHOLD else None
    confidence = scores[best]
    view: ViewCode | None = best if confidence >= VIEW_THRESHOLDS[best] else None
    reason = None
    if view is not None:
        category = CATEGORY_OF[view.value]
    else:
        reason = _unset_reason(category, face, mouth, best, confidence)
    return ViewSuggestion(
        view=view, category=category, confidence=confidence, scores=scores, reason=reason
    )


def _unset_reason(
    category: ViewCategory | None,
    face: FaceReading,
    mouth: IntraoralReading | None,
    best: ViewCode,
    confidence: float,
) -> str:
    """Why no view was suggested, in words a person filing the photo can use."""
    if category is ViewCategory.INTRAORAL and mouth is not None and mouth.reason:
        return mouth.reason
    if category is ViewCategory.EXTRAORAL:
        if face.profile_side == "left":
            return "a left profile (nose to the image's left) has no view code here"
        return f"a face, but no view is sure enough (best {best.value} at {confidence:.2f})"
    if category is not None:
        return f"no view is sure enough (best {best.value} at {confidence:.2f})"
    if mouth is not None and mouth.scores and mouth.evidence < CATEGORY_THRESHOLD:
        return "no face, radiograph or mouth recognised: gum and tooth colours, but no arch or row"
    if mouth is not None and mouth.reason:
        return f"no face, radiograph or mouth recognised: {mouth.reason}"
    return "no face, radiograph or mouth recognised"


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


@dataclass(frozen=True)
class FaceReading:
    """What the face cascades found: strength, view scores, eyes seen, and a profile's side."""

    strength: float = 0.0
    scores: dict[ViewCode, float] = field(default_factory=dict)
    eyes_confirmed: bool = False
    profile_side: str | None = None


def _extraoral_scores(small: np.ndarray, gray: np.ndarray) -> FaceReading:
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
        return FaceReading()

    def strongest(hits: list[tuple[Box, int]]) -> tuple[Box, int] | None:
        return max(hits, key=lambda hit: (hit[1], hit[0][2])) if hits else None

    right_hits = profile_plain if plain_points == "right" else profile_mirror
    left_hits = profile_mirror if plain_points == "right" else profile_plain
    right = strongest(right_hits)
    left = strongest(left_hits)

    face = strongest(frontal)
    if face is not None:
        box, count = face
        eyes = _eye_confirmation(equalised, box)
        strength = _detection_strength(count) * eyes
        smile = _smile_evidence(small, gray, box)
        scores[ViewCode.EV19] = strength * smile
        scores[ViewCode.EV15] = strength * (1.0 - smile)
        return FaceReading(strength, scores, eyes_confirmed=eyes == 1.0)

    if right is not None:
        scores[ViewCode.EV01] = _detection_strength(right[1])
    strength = max(_detection_strength(hit[1]) for hit in (right, left) if hit is not None)
    side = "right" if right is not None else "left"
    return FaceReading(strength, scores, eyes_confirmed=False, profile_side=side)


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
