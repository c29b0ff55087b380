"""Offline tag suggestions from the stored quality scores and simple colour analysis (no AI model).

What it judges:

- Photo quality: a photo whose stored quality verdict (`Image.quality`, from
  `ortholens.processing.quality`) suggests a retake, or that cannot be decoded, earns
  POOR_PHOTO_QUALITY and RETAKE_NEEDED. Photos without a stored verdict are scored here with the
  same `score_quality`.
- Oral hygiene (1..3), PLAQUE and GINGIVAL_INFLAMMATION, from the colours of usable intraoral
  photos (view IV* or unknown) in HSV on a 512 px copy:
  teeth are bright low-saturation pixels (white/ivory) plus yellow ones; among them, saturated
  yellow (hue 24-70 degrees, saturation >= 27 %) is "plaque-like". Gums are red/pink pixels
  (hue 320-20 degrees); among them, deep saturated red (saturation >= 67 %) is
  "inflamed-looking". The worst photo counts, since a problem in one view is still a problem.
  The thresholds are set on synthetic photos, not validated on patients: this is a screening hint
  for the doctor, so `confidence` is always None.

What it never judges (and therefore never suggests): overall_tracking, ALIGNER_NOT_SEATED,
ATTACHMENT_MISSING, BRACKET_DEBONDED, WIRE_ISSUE, ELASTICS_NOT_WORN and SPACE_OPENING. Those need
an understanding of tooth positions and appliances that colour statistics do not give.

It says it cannot judge (`cannot_judge=True`, all scores None) when fewer than `min_photos` photos
were sent, or fewer than `min_usable` intraoral photos are sharp, well exposed and show enough teeth
and gum. It is deterministic: the same photos always give the same suggestion.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ortholens.kit.errors import ConfigurationError, InvalidInput
from ortholens.processing.quality import score_quality
from ortholens.review.ai.base import ReviewImage, TagSuggestion
from ortholens.review.vocabulary import OralHygiene, clamp_suggestion

# A session of the intraoral protocol has five photos (IV07, IV01, IV18, IV25, IV27).
MIN_PHOTOS = 5
MIN_USABLE = 3
ANALYSIS_LONG_EDGE_PX = 512
# OpenCV HSV: hue 0..179 (degrees / 2), saturation and value 0..255.
ENAMEL_MAX_SAT, ENAMEL_MIN_VAL = 70, 140
PLAQUE_HUE = (12, 35)
PLAQUE_MIN_SAT, PLAQUE_MAX_SAT, PLAQUE_MIN_VAL = 70, 230, 100
GUM_HUE_LOW_MAX, GUM_HUE_HIGH_MIN = 10, 160  # red wraps around 0
GUM_MIN_SAT, GUM_MIN_VAL = 60, 60
INFLAMED_MIN_SAT = 170
# A photo must show at least this fraction of teeth and of gum to be read for hygiene.
MIN_TOOTH_FRACTION = 0.03
MIN_GUM_FRACTION = 0.03
# Fraction of tooth pixels that look like plaque / of gum pixels that look inflamed.
PLAQUE_FAIR, PLAQUE_POOR = 0.10, 0.25
INFLAMED_FAIR, INFLAMED_POOR = 0.25, 0.50

NOT_JUDGED = (
    "Overall tracking is left to the doctor: this offline check cannot see aligner fit, "
    "attachments, brackets, wires, elastics or spaces."
)


@dataclass(frozen=True, slots=True)
class PhotoFindings:
    """What the colour analysis found on one photo (fractions 0..1), or why it could not look."""

    caption: str
    problem: str | None = None  # set when the photo cannot be used for hygiene
    poor_quality: bool = False
    plaque_fraction: float = 0.0  # of tooth pixels
    inflamed_fraction: float = 0.0  # of gum pixels


class LocalProvider:
    """Quality- and colour-based suggestions that work without a network (see module docstring)."""

    name = "local"

    def __init__(self, min_photos: int = MIN_PHOTOS, min_usable: int = MIN_USABLE) -> None:
        if min_photos < 1 or not 1 <= min_usable <= min_photos:
            raise ConfigurationError("min_usable must be between 1 and min_photos.")
        self.min_photos = min_photos
        self.min_usable = min_usable

    def suggest(self, images: Sequence[ReviewImage]) -> TagSuggestion:
        """Suggest hygiene and quality tags; say so when the photos do not allow a judgement."""
        findings = [analyse_photo(image, position) for position, image in enumerate(images, 1)]
        tags: list[str] = []
        poor = [found for found in findings if found.poor_quality]
        if poor:
            tags += ["POOR_PHOTO_QUALITY", "RETAKE_NEEDED"]
        usable = [found for found in findings if found.problem is None]
        problems = "; ".join(
            f"{found.caption}: {found.problem}" for found in findings if found.problem
        )

        if len(images) < self.min_photos:
            reason = f"Only {len(images)} of the {self.min_photos} photos of a check-in were sent."
            return self._cannot_judge(reason, [*tags, "RETAKE_NEEDED"], problems)
        if len(usable) < self.min_usable:
            reason = (
                f"Only {len(usable)} of {len(images)} photos are usable; at least "
                f"{self.min_usable} are needed."
            )
            return self._cannot_judge(reason, tags, problems)

        plaque = max(usable, key=lambda found: found.plaque_fraction)
        inflamed = max(usable, key=lambda found: found.inflamed_fraction)
        if plaque.plaque_fraction >= PLAQUE_FAIR:
            tags.append("PLAQUE")
        if inflamed.inflamed_fraction >= INFLAMED_FAIR:
            tags.append("GINGIVAL_INFLAMMATION")
        hygiene = _hygiene(plaque.plaque_fraction, inflamed.inflamed_fraction)
        rationale = (
            f"Offline colour check of {len(usable)} usable photos (no AI model). "
            + _sentence(
                _colour_finding(
                    "Plaque-like yellow", plaque.plaque_fraction, "teeth", plaque.caption
                )
            )
            + "; "
            + _colour_finding("deep-red gum", inflamed.inflamed_fraction, "gums", inflamed.caption)
            + ". "
            + (f"Not used: {problems}. " if problems else "")
            + NOT_JUDGED
        )
        raw = {
            "overall_tracking": None,
            "oral_hygiene": int(hygiene),
            "detail_tags": tags,
            "rationale": rationale,
            "cannot_judge": False,
        }
        return clamp_suggestion(raw, provider=self.name)

    def _cannot_judge(self, reason: str, tags: list[str], problems: str) -> TagSuggestion:
        raw = {
            "detail_tags": tags,
            "rationale": reason + (f" {problems}." if problems else "") + " " + NOT_JUDGED,
            "cannot_judge": True,
            "cannot_judge_reason": reason,
        }
        return clamp_suggestion(raw, provider=self.name)


def analyse_photo(image: ReviewImage, position: int) -> PhotoFindings:
    """Quality verdict and tooth/gum colour fractions of one photo."""
    caption = image.describe(position)
    view = (image.view_code or "").upper()
    try:
        with Image.open(io.BytesIO(image.data)) as opened:
            rgb = np.asarray(opened.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError):
        return PhotoFindings(caption, "could not be read", poor_quality=True)
    quality = dict(image.quality) if image.quality else None
    if quality is None:
        try:
            report = score_quality(rgb)
        except InvalidInput:
            return PhotoFindings(caption, "too small to judge", poor_quality=True)
        quality = {"reasons": report.reasons, "retake_suggested": report.retake_suggested}
    if quality.get("retake_suggested"):
        reasons = [str(reason) for reason in quality.get("reasons") or []]
        return PhotoFindings(caption, ", ".join(reasons) or "poor quality", poor_quality=True)
    if view and not view.startswith("IV"):
        return PhotoFindings(caption, "not an intraoral view")
    return _colour_findings(caption, rgb)


def _colour_findings(caption: str, rgb: np.ndarray) -> PhotoFindings:
    """Tooth and gum masks in HSV and the plaque-like / inflamed-looking shares of them."""
    height, width = rgb.shape[:2]
    scale = ANALYSIS_LONG_EDGE_PX / max(height, width)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2HSV)
    hue, sat, val = (hsv[..., channel].astype(np.int16) for channel in range(3))
    enamel = (sat < ENAMEL_MAX_SAT) & (val >= ENAMEL_MIN_VAL)
    plaque = (
        (hue >= PLAQUE_HUE[0])
        & (hue <= PLAQUE_HUE[1])
        & (sat >= PLAQUE_MIN_SAT)
        & (sat <= PLAQUE_MAX_SAT)
        & (val >= PLAQUE_MIN_VAL)
    )
    gum = ((hue <= GUM_HUE_LOW_MAX) | (hue >= GUM_HUE_HIGH_MIN)) & (sat >= GUM_MIN_SAT)
    gum &= (val >= GUM_MIN_VAL) & ~enamel
    teeth_px = int(np.count_nonzero(enamel | plaque))
    gum_px = int(np.count_nonzero(gum))
    total = hue.size
    if teeth_px < MIN_TOOTH_FRACTION * total or gum_px < MIN_GUM_FRACTION * total:
        return PhotoFindings(caption, "teeth and gums are not visible enough")
    return PhotoFindings(
        caption,
        plaque_fraction=round(int(np.count_nonzero(plaque)) / teeth_px, 4),
        inflamed_fraction=round(int(np.count_nonzero(gum & (sat >= INFLAMED_MIN_SAT))) / gum_px, 4),
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _colour_finding(what: str, fraction: float, where: str, caption: str) -> str:
    """ "Plaque-like yellow on up to 12% of the teeth (photo 3)", or "no plaque-like yellow on
    the teeth" when it rounds to 0% (never "up to 0%")."""
    if round(fraction * 100) == 0:
        return f"no {what[:1].lower()}{what[1:]} on the {where}"
    return f"{what} on up to {fraction:.0%} of the {where} ({caption})"


def _hygiene(plaque: float, inflamed: float) -> OralHygiene:
    if plaque >= PLAQUE_POOR or inflamed >= INFLAMED_POOR:
        return OralHygiene.POOR
    if plaque >= PLAQUE_FAIR or inflamed >= INFLAMED_FAIR:
        return OralHygiene.FAIR
    return OralHygiene.GOOD
