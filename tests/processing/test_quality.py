"""Quality scoring on generated photos: sharp vs blurred, exposure, resolution."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from ortholens.kit.errors import InvalidInput
from ortholens.processing.quality import QualityThresholds, score_quality
from tests.fixtures.photos import scene


def blurred(image: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigma)


def exposed(image: np.ndarray, factor: float) -> np.ndarray:
    return np.asarray(np.clip(image.astype(np.float32) * factor, 0, 255), dtype=np.uint8)


def decode(data: bytes) -> np.ndarray:
    """What the photo pipeline hands over: decoded, upright RGB uint8."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return scene()


def test_sharp_photo_scores_high_and_needs_no_retake(photo: np.ndarray) -> None:
    report = score_quality(photo)
    assert report.focus >= 90
    assert report.exposure == 100
    assert report.reasons == []
    assert not report.retake_suggested
    assert report.overall >= 90


def test_blur_lowers_focus_monotonically_and_suggests_retake(photo: np.ndarray) -> None:
    sharp = score_quality(photo)
    sigma3 = score_quality(blurred(photo, 3))
    sigma6 = score_quality(blurred(photo, 6))
    assert sharp.focus > sigma3.focus > sigma6.focus
    for report in (sigma3, sigma6):
        assert "blurred" in report.reasons
        assert report.retake_suggested


def test_focus_does_not_depend_on_resolution() -> None:
    large = scene(seed=1, width=3200, height=2400)
    preview = cv2.resize(large, (1600, 1200), interpolation=cv2.INTER_AREA)
    assert abs(score_quality(large).focus - score_quality(preview).focus) <= 10


def test_jpeg_round_trip_keeps_a_sharp_photo_sharp(photo: np.ndarray) -> None:
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, format="JPEG", quality=85)
    report = score_quality(decode(buffer.getvalue()))
    assert report.focus >= 90
    assert not report.retake_suggested


def test_under_exposed_photo_is_too_dark_but_not_blurred(photo: np.ndarray) -> None:
    report = score_quality(exposed(photo, 0.25))
    assert "too dark" in report.reasons
    assert "blurred" not in report.reasons
    assert report.exposure < 40
    assert report.retake_suggested


def test_over_exposed_photo_is_too_bright(photo: np.ndarray) -> None:
    report = score_quality(np.clip(photo.astype(np.float32) * 1.8 + 40, 0, 255).astype(np.uint8))
    assert "too bright" in report.reasons
    assert report.retake_suggested


def test_clipped_highlights_are_reported_at_normal_brightness(photo: np.ndarray) -> None:
    image = exposed(photo, 0.8)
    image[:, : image.shape[1] // 4] = 255
    report = score_quality(image)
    assert "overexposed highlights" in report.reasons
    assert report.highlight_clipped_fraction >= 0.25


def test_small_image_is_low_resolution() -> None:
    report = score_quality(scene(seed=2, width=400, height=300))
    assert "low resolution" in report.reasons
    assert report.megapixels == pytest.approx(0.12)
    assert report.retake_suggested


def test_resolution_is_judged_on_the_original_size_when_scoring_a_preview(
    photo: np.ndarray,
) -> None:
    report = score_quality(photo, original_size=(4000, 3000))
    assert report.resolution == 100
    assert report.megapixels == 12.0
    small_original = score_quality(photo, original_size=(640, 480))
    assert "low resolution" in small_original.reasons


def test_thresholds_decide_the_retake(photo: np.ndarray) -> None:
    strict = score_quality(photo, thresholds=QualityThresholds(retake_below=101))
    assert strict.retake_suggested
    assert strict.reasons == []


def test_scores_are_deterministic_and_in_range(photo: np.ndarray) -> None:
    first, second = score_quality(photo), score_quality(photo.copy())
    assert first == second
    for value in (first.focus, first.exposure, first.resolution, first.overall):
        assert 0 <= value <= 100


def test_greyscale_input_is_accepted(photo: np.ndarray) -> None:
    grey = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    assert score_quality(grey).focus >= 90


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((100, 100, 3), np.float32),
        np.zeros((100, 100, 4), np.uint8),
        np.zeros((4, 4, 3), np.uint8),
    ],
)
def test_undecoded_or_odd_arrays_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(InvalidInput):
        score_quality(bad)


@pytest.mark.parametrize("factor", [0.25, 0.45, 0.5, 1.0, 1.6])
def test_every_reason_comes_with_a_retake(photo: np.ndarray, factor: float) -> None:
    report = score_quality(exposed(photo, factor))
    assert report.retake_suggested or not report.reasons
