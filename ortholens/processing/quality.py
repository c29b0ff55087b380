"""Image quality scoring for clinical photos: focus, exposure and resolution (seed 003 "Image Quality
Scoring").

Run it on the 1600 px preview (decoded once by the caller), not on the 12 MP original: the focus
measure works on a fixed-size downscale anyway, and a preview keeps it well under 50 ms. Pass the
original's dimensions as `original_size` so the resolution score judges what was captured, not the
preview.

Every score is in [0, 100], higher is better. Units:

- focus: variance of the 3x3 Laplacian of the luminance (grey levels squared) after downscaling the
  long edge to `FOCUS_LONG_EDGE_PX`, so the number does not depend on the capture resolution, and
  scaled by (`FOCUS_REFERENCE_LUMA` / mean luma)^2 so that a dark but sharp photo is not called
  blurred (darkening by a factor k divides the raw variance by k^2). It is mapped on a log scale:
  `FOCUS_VAR_BLURRED` and below -> 0, `FOCUS_VAR_SHARP` and above -> 100.
- exposure: mean luminance (Rec. 601 luma, 0..255) and the fractions of clipped pixels (luma <= 5 or
  >= 250).
- resolution: megapixels of the original (width x height / 1e6); `RESOLUTION_GOOD_MP` and above ->
  100, `RESOLUTION_POOR_MP` -> `QualityThresholds.poor_aspect`, linear in between and below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from ortholens.kit.errors import InvalidInput

# Focus: long edge (px) of the grey image the Laplacian is measured on.
FOCUS_LONG_EDGE_PX = 1024
# Mean luma the Laplacian variance is normalised to, and the floor of that normalisation.
FOCUS_REFERENCE_LUMA = 128.0
FOCUS_MIN_LUMA = 16.0
# Normalised Laplacian variance (grey levels^2) at which focus scores 0 and 100. A Gaussian blur of sigma 2-3 px
# on a 1600 px preview brings a typical clinical photo near the lower end.
FOCUS_VAR_BLURRED = 4.0
FOCUS_VAR_SHARP = 400.0

# Exposure: mean luma (0..255) band that scores 100, and the means at which the score reaches 0.
EXPOSURE_MEAN_IDEAL = (85.0, 175.0)
EXPOSURE_MEAN_ZERO = (15.0, 245.0)
# A pixel is clipped when its luma is at or beyond these levels.
SHADOW_CLIP_LEVEL = 5
HIGHLIGHT_CLIP_LEVEL = 250
# Clipped fractions tolerated before the exposure score is reduced (one point per extra percent x 2).
CLIP_TOLERATED_FRACTION = 0.02

# Resolution in megapixels of the original capture.
RESOLUTION_GOOD_MP = 2.0
RESOLUTION_POOR_MP = 0.5

# Weights of the overall score (sum to 1).
WEIGHTS = {"focus": 0.5, "exposure": 0.3, "resolution": 0.2}


@dataclass(frozen=True)
class QualityThresholds:
    """When a photo gets a reason and a retake suggestion."""

    # Overall score (0..100) below which a retake is suggested.
    retake_below: float = 60.0
    # Any single aspect below this is "poor" and also suggests a retake.
    poor_aspect: float = 40.0
    # Mean luma (0..255) below / above which the photo is "too dark" / "too bright".
    too_dark_mean: float = 60.0
    too_bright_mean: float = 200.0
    # Fraction of clipped highlight pixels that earns "overexposed highlights".
    highlight_clip_fraction: float = 0.10


@dataclass(frozen=True)
class QualityReport:
    """Per-aspect scores (0..100), the measurements behind them and the verdict."""

    focus: float
    exposure: float
    resolution: float
    overall: float
    reasons: list[str] = field(default_factory=list)
    retake_suggested: bool = False
    # Measurements, in the units of the module docstring.
    laplacian_variance: float = 0.0
    mean_luma: float = 0.0
    shadow_clipped_fraction: float = 0.0
    highlight_clipped_fraction: float = 0.0
    megapixels: float = 0.0


def score_quality(
    rgb: np.ndarray,
    *,
    original_size: tuple[int, int] | None = None,
    thresholds: QualityThresholds = QualityThresholds(),
) -> QualityReport:
    """Score focus, exposure and resolution of an upright RGB uint8 photo (H x W x 3).

    `original_size` is (width, height) in pixels of the original when `rgb` is a preview.
    """
    gray = _luma(rgb)
    height, width = gray.shape
    orig_w, orig_h = original_size if original_size is not None else (width, height)
    if orig_w <= 0 or orig_h <= 0:
        raise InvalidInput("The original image size must be positive.")

    mean_luma = float(gray.mean())
    lap_var = (
        _laplacian_variance(gray) * (FOCUS_REFERENCE_LUMA / max(mean_luma, FOCUS_MIN_LUMA)) ** 2
    )
    focus = _focus_score(lap_var)

    shadows = float(np.count_nonzero(gray <= SHADOW_CLIP_LEVEL)) / gray.size
    highlights = float(np.count_nonzero(gray >= HIGHLIGHT_CLIP_LEVEL)) / gray.size
    exposure = _exposure_score(mean_luma, shadows, highlights)

    megapixels = orig_w * orig_h / 1e6
    resolution = _resolution_score(megapixels, thresholds.poor_aspect)

    overall = (
        WEIGHTS["focus"] * focus
        + WEIGHTS["exposure"] * exposure
        + WEIGHTS["resolution"] * resolution
    )

    reasons: list[str] = []
    if focus < thresholds.poor_aspect:
        reasons.append("blurred")
    if mean_luma < thresholds.too_dark_mean:
        reasons.append("too dark")
    elif mean_luma > thresholds.too_bright_mean:
        reasons.append("too bright")
    elif highlights > thresholds.highlight_clip_fraction:
        reasons.append("overexposed highlights")
    elif exposure < thresholds.poor_aspect:
        reasons.append("poorly exposed")
    if resolution < thresholds.poor_aspect:
        reasons.append("low resolution")

    # Every reason marks a poor aspect (or an exposure fault), so any reason asks for a retake.
    poor = min(focus, exposure, resolution) < thresholds.poor_aspect or bool(reasons)
    return QualityReport(
        focus=round(focus, 1),
        exposure=round(exposure, 1),
        resolution=round(resolution, 1),
        overall=round(overall, 1),
        reasons=reasons,
        retake_suggested=overall < thresholds.retake_below or poor,
        laplacian_variance=round(lap_var, 2),
        mean_luma=round(mean_luma, 1),
        shadow_clipped_fraction=round(shadows, 4),
        highlight_clipped_fraction=round(highlights, 4),
        megapixels=round(megapixels, 3),
    )


def _luma(rgb: np.ndarray) -> np.ndarray:
    """Rec. 601 luma (uint8) of an RGB or grey uint8 array; rejects anything else."""
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8:
        raise InvalidInput("The image must be decoded to 8-bit pixels before scoring.")
    if rgb.ndim == 2:
        gray = rgb
    elif rgb.ndim == 3 and rgb.shape[2] == 3:
        gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    else:
        raise InvalidInput("The image must be RGB (height x width x 3) or greyscale.")
    if gray.shape[0] < 8 or gray.shape[1] < 8:
        raise InvalidInput("The image is too small to score; it must be at least 8 x 8 pixels.")
    return np.asarray(gray, dtype=np.uint8)


def _laplacian_variance(gray: np.ndarray) -> float:
    """Variance of the 3x3 Laplacian at a fixed long edge, in grey levels squared."""
    height, width = gray.shape
    scale = FOCUS_LONG_EDGE_PX / max(height, width)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    laplacian = cv2.Laplacian(gray, cv2.CV_32F, ksize=3)
    return float(laplacian.var())


def _focus_score(lap_var: float) -> float:
    """Log-scale map of the Laplacian variance to 0..100."""
    low, high = math.log10(FOCUS_VAR_BLURRED), math.log10(FOCUS_VAR_SHARP)
    value = math.log10(max(lap_var, 1e-6))
    return _clip100(100.0 * (value - low) / (high - low))


def _exposure_score(mean_luma: float, shadows: float, highlights: float) -> float:
    """Trapezoid on the mean luma, less a penalty for clipped shadows and highlights."""
    (ideal_lo, ideal_hi), (zero_lo, zero_hi) = EXPOSURE_MEAN_IDEAL, EXPOSURE_MEAN_ZERO
    if mean_luma < ideal_lo:
        score = 100.0 * (mean_luma - zero_lo) / (ideal_lo - zero_lo)
    elif mean_luma > ideal_hi:
        score = 100.0 * (zero_hi - mean_luma) / (zero_hi - ideal_hi)
    else:
        score = 100.0
    clipped = max(0.0, shadows - CLIP_TOLERATED_FRACTION) + max(
        0.0, highlights - CLIP_TOLERATED_FRACTION
    )
    return _clip100(score - 200.0 * clipped)


def _resolution_score(megapixels: float, poor_score: float) -> float:
    """Piecewise linear: 0 MP -> 0, poor MP -> poor score, good MP and above -> 100."""
    if megapixels >= RESOLUTION_GOOD_MP:
        return 100.0
    if megapixels >= RESOLUTION_POOR_MP:
        span = (megapixels - RESOLUTION_POOR_MP) / (RESOLUTION_GOOD_MP - RESOLUTION_POOR_MP)
        return poor_score + (100.0 - poor_score) * span
    return _clip100(poor_score * megapixels / RESOLUTION_POOR_MP)


def _clip100(value: float) -> float:
    return min(100.0, max(0.0, value))
