"""The colour masks behind the intraoral views: white patch, and the retractor rim."""

from __future__ import annotations

import numpy as np
import pytest

from ortholens.processing.photo_masks import mouth_masks, white_balanced, yellowness
from ortholens.processing.views import ViewCode
from tests.processing import view_samples


def _small(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.resize(image, (512, 384), interpolation=cv2.INTER_AREA)


def test_white_patch_makes_the_highlights_of_a_cast_photo_neutral() -> None:
    image = _small(view_samples.make_sample(ViewCode.IV07, np.random.default_rng(1)))
    image[10:30, 10:40] = (250, 250, 250)  # a specular highlight on wet enamel
    warm = np.clip(image.astype(np.float32) * np.array([1.0, 0.9, 0.8]), 0, 255).astype(np.uint8)
    corrected = white_balanced(warm)
    highlight = corrected[10:30, 10:40].reshape(-1, 3).mean(axis=0)
    assert highlight.max() - highlight.min() < 6.0
    assert np.ptp(warm[10:30, 10:40].reshape(-1, 3).mean(axis=0)) > 40.0


def test_a_dark_photo_is_brought_up_to_white_highlights() -> None:
    image = _small(view_samples.make_sample(ViewCode.IV01, np.random.default_rng(2)))
    image[10:30, 10:40] = (245, 245, 245)  # a highlight already white: nothing to brighten
    assert abs(np.percentile(white_balanced(image), 99.9) - np.percentile(image, 99.9)) < 4
    dark = (image.astype(np.float32) * 0.45).astype(np.uint8)
    # Brought back up (by at most twice), so the teeth mask's brightness floor means the same.
    assert np.percentile(white_balanced(dark), 99.9) > 1.9 * np.percentile(dark, 99.9)


@pytest.mark.parametrize("view", [ViewCode.IV07, ViewCode.IV01, ViewCode.IV25])
def test_retractors_are_rim_and_the_teeth_stay_teeth(view: ViewCode) -> None:
    plain = _small(view_samples.make_sample(view, np.random.default_rng(1)))
    framed = view_samples.with_retractors(plain)
    plastic = np.any(framed != plain, axis=2)
    masks = mouth_masks(white_balanced(framed))
    before = mouth_masks(white_balanced(plain))
    # Nearly all plastic goes to the rim, almost none to the teeth...
    assert masks.rim[plastic].mean() > 0.9
    assert masks.teeth[plastic].mean() < 0.05
    # ...while the teeth outside the plastic are kept, those the plastic touches included.
    kept = masks.teeth[before.teeth & ~plastic].mean()
    assert kept > 0.9
    # Without the rim split the plastic would be taken for teeth (the bug the split fixes).
    assert masks.bright[plastic].mean() > 0.9


def test_no_rim_is_called_without_enamel_inside_to_compare_with() -> None:
    # A bright frame around a red picture with nothing bright inside: nothing to tell plastic
    # from enamel, so nothing is called rim (the mouth evidence then decides).
    image = np.full((384, 512, 3), (200, 60, 70), np.uint8)
    image[:40] = (230, 230, 232)
    masks = mouth_masks(image)
    assert not masks.rim.any()


def test_enamel_is_yellower_than_white_plastic() -> None:
    pixels = np.array([[[238, 228, 200], [232, 232, 236]]], np.uint8)  # ivory, white plastic
    tone = yellowness(pixels)
    assert tone[0, 0] > tone[0, 1] + 10
