"""Colour masks of an intraoral photo: soft tissue, teeth, and the retractor rim kept out of both.

All functions take the classifier's small RGB working copy (uint8, H x W x 3) and return boolean
masks of the same height and width. Colour ranges are OpenCV's (hue 0..179, saturation and value
0..255) and CIELAB's a*/b* centred on 0.

Real retracted photos are framed by cheek retractors, gloves and mirror edges: white or clear
plastic that is as bright and unsaturated as enamel. Two facts separate them, whatever the white
balance: they enter the picture from its edge, and they are greyer (or pinker, where lips show
through clear plastic) than the teeth in the same photo, which are ivory: their b* - a*
("yellowness") is higher. `teeth_mask` therefore drops bright edge-touching pixels that are
clearly less yellow than the bright pixels inside the mouth.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Bright, unsaturated candidates for enamel (and, before the rim is removed, plastic).
TOOTH_MAX_SATURATION = 90
TOOTH_MIN_VALUE = 135
# Pink/red soft tissue: gum, lips, cheeks, tongue, palate.
TISSUE_HUES = (12, 165)  # red wraps around: hue <= first or >= second; 160..164 is magenta
TISSUE_MIN_SATURATION = 55
TISSUE_MIN_VALUE = 50
# Rim pixels are this much less yellow (b* - a*, CIELAB units) than the teeth inside the mouth.
# Measured on real retracted photos: enamel 12..25, clear and white retractors -3..6.
RIM_YELLOWNESS_MARGIN = 5.0
# An edge region that is greyer than the enamel is plastic when it runs along this share of the
# image frame, or is darker (CIELAB L*, 0..255 scale) than the enamel inside by this much.
RIM_MIN_EDGE_CONTACT = 0.03
RIM_DARKER_BY = 10.0
# Inside area (fraction of the image) needed before its colour is trusted as the teeth's, and
# how far from the edge (fractions of the short edge) "inside" starts, tried in turn.
MIN_INSIDE_FRACTION = 0.005
INSIDE_INSETS = (0.2, 0.1)
# Width of the frame band (fraction of the short edge) that counts as "entering from the edge".
EDGE_BAND = 0.02
# Share of the brightest pixels whose mean colour is taken as white (specular highlights).
WHITE_PATCH_SHARE = 0.005
# Saturation (OpenCV 0..255) above which a bright pixel is a coloured object, not a cast white
# (a 1.2 / 0.8 warm or cool cast on white measures about 55).
WHITE_PATCH_MAX_SATURATION = 70
# Largest per-channel gain of the cast correction.
MAX_CAST_GAIN = 1.15
# Brightness (0..255) the white patch is raised to when the photo is darker than that.
WHITE_PATCH_LEVEL = 235.0
# Below this yellowness (after white balance) a bright pixel can be plastic; above it, it is enamel
# however it compares with the other teeth (well-lit incisors are whiter than shaded molars).
RIM_MAX_YELLOWNESS = 9.0


@dataclass(frozen=True)
class MouthMasks:
    """Masks of one photo: tissue, teeth (rim removed), rim, and the raw bright candidates."""

    tissue: np.ndarray
    teeth: np.ndarray
    rim: np.ndarray
    bright: np.ndarray


def white_balanced(small: np.ndarray) -> np.ndarray:
    """The image with per-channel gains that make its brightest unclipped pixels neutral.

    Flash photos of the mouth always carry specular highlights on wet enamel and plastic; their
    colour is the light's, so neutralising them undoes a colour cast ("white patch").
    """
    pixels = small.reshape(-1, 3).astype(np.float32)
    saturation = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)[..., 1].reshape(-1)
    # Only near-white pixels can be a white patch: a bright green or cyan object is not white
    # under a cast, and taking it for white would tint the whole picture.
    candidates = (pixels < 254).all(axis=1) & (saturation <= WHITE_PATCH_MAX_SATURATION)
    unclipped = pixels[candidates]
    if len(unclipped) < max(100, pixels.shape[0] // 500):
        return small
    luma = unclipped @ np.array([0.299, 0.587, 0.114], np.float32)
    cut = np.quantile(luma, 1.0 - WHITE_PATCH_SHARE)
    white = unclipped[luma >= cut].mean(axis=0)
    if float(white.min()) < 40.0:  # a dark image has no highlight to trust
        return small
    gains = white.mean() / np.maximum(white, 1.0)
    # A camera's cast is a modest tilt of the channels; a larger "correction" would come from a
    # coloured object taken for white, so it is capped.
    gains = np.clip(gains, 1.0 / MAX_CAST_GAIN, MAX_CAST_GAIN)
    # An under-exposed photo is brightened until its highlights are white again, so that the
    # fixed brightness floor of the teeth mask means the same in every photo.
    gains *= float(np.clip(WHITE_PATCH_LEVEL / max(float(white.mean()), 1.0), 1.0, 2.0))
    balanced: np.ndarray = np.clip(small.astype(np.float32) * gains, 0, 255).astype(np.uint8)
    return balanced


def mouth_masks(small: np.ndarray) -> MouthMasks:
    """Tissue and teeth masks of a (white-balanced) RGB working copy, with the rim split off."""
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    tissue = (
        ((hue <= TISSUE_HUES[0]) | (hue >= TISSUE_HUES[1]))
        & (sat >= TISSUE_MIN_SATURATION)
        & (val >= TISSUE_MIN_VALUE)
    )
    bright = (sat <= TOOTH_MAX_SATURATION) & (val >= TOOTH_MIN_VALUE) & ~tissue
    kernel = np.ones((3, 3), np.uint8)
    bright = cv2.morphologyEx(bright.astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool)
    rim = _rim(small, bright)
    teeth = bright & ~rim
    teeth = cv2.morphologyEx(teeth.astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool)
    return MouthMasks(tissue=tissue, teeth=teeth, rim=rim, bright=bright)


def edge_band(shape: tuple[int, ...]) -> np.ndarray:
    """Boolean mask of the image's outer frame, `EDGE_BAND` of the short edge wide."""
    height, width = shape[:2]
    frame = max(2, int(min(height, width) * EDGE_BAND))
    band = np.zeros((height, width), bool)
    band[:frame], band[-frame:], band[:, :frame], band[:, -frame:] = True, True, True, True
    return band


def yellowness(small: np.ndarray) -> np.ndarray:
    """b* - a* per pixel (CIELAB, float32): high for ivory enamel, low for grey or pink plastic."""
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    return (lab[..., 2] - 128.0) - (lab[..., 1] - 128.0)


def _rim(small: np.ndarray, bright: np.ndarray) -> np.ndarray:
    """Bright pixels, less yellow than the enamel inside the picture, in regions reaching the edge.

    The enamel's colour is taken from bright pixels well inside the frame (retractors enter from
    the edge and rarely reach the middle); teeth touching a retractor stay teeth because the split
    is made per pixel, by colour, before the regions are traced to the edge.
    """
    height, width = bright.shape
    short = min(height, width)
    rows = np.minimum(np.arange(height), np.arange(height)[::-1])[:, None]
    cols = np.minimum(np.arange(width), np.arange(width)[::-1])[None, :]
    depth = np.minimum(rows, cols)  # pixels to the nearest image edge
    tone = yellowness(small)
    for inset in INSIDE_INSETS:
        inside = bright & (depth >= inset * short)
        if inside.mean() >= MIN_INSIDE_FRACTION:
            break
    else:
        # No enamel away from the edge to compare with: nothing is called rim.
        return np.zeros_like(bright)
    reference = float(np.median(tone[inside]))
    candidates = bright & (tone < min(reference - RIM_YELLOWNESS_MARGIN, RIM_MAX_YELLOWNESS))
    # Close small gaps (speckled plastic) so the plastic is traced as one region.
    closed = cv2.morphologyEx(
        candidates.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)
    )
    greyer = closed.astype(bool) & bright
    count, labels = cv2.connectedComponents(greyer.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros_like(bright)
    band = edge_band(bright.shape)
    lightness = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    inside_lightness = float(np.median(lightness[inside]))
    rim = np.zeros_like(bright)
    for label in np.unique(labels[band & greyer]):
        if label == 0:
            continue
        region = labels == label
        contact = float(np.count_nonzero(region & band)) / float(np.count_nonzero(band))
        # Plastic wraps along the frame, or sits in the flash's fall-off, darker than the enamel
        # inside; a whitish incisor cut by a tight crop does neither.
        darker = float(np.median(lightness[region])) < inside_lightness - RIM_DARKER_BY
        if contact >= RIM_MIN_EDGE_CONTACT or darker:
            rim |= region
    return rim
