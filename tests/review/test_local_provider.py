"""The offline provider on synthetic intraoral photos: pink gums, ivory teeth, a dark mouth line."""

from __future__ import annotations

import io
from functools import cache

import cv2
import numpy as np
import pytest
from PIL import Image

from ortholens.kit.errors import ConfigurationError
from ortholens.processing.quality import score_quality
from ortholens.review.ai.base import ReviewImage, TagSuggestion
from ortholens.review.ai.local_provider import LocalProvider
from ortholens.review.vocabulary import OralHygiene

WIDTH, HEIGHT = 800, 600
HEALTHY_GUM = (225, 135, 145)
INFLAMED_GUM = (205, 28, 40)
ENAMEL = (240, 232, 215)
PLAQUE = (214, 188, 88)
VIEWS = ["IV07", "IV01", "IV18", "IV25", "IV27"]
# Tags a colour check cannot honestly give.
NEVER_SUGGESTED = {
    "ALIGNER_NOT_SEATED",
    "ATTACHMENT_MISSING",
    "BRACKET_DEBONDED",
    "WIRE_ISSUE",
    "ELASTICS_NOT_WORN",
    "SPACE_OPENING",
}


@cache
def _mouth(
    seed: int,
    gum: tuple[int, int, int] = HEALTHY_GUM,
    plaque_band: float = 0.0,
    blur_sigma: float = 0.0,
    brightness: float = 1.0,
) -> bytes:
    """A JPEG of two rows of teeth on gum; `plaque_band` is the yellow band's share of each tooth."""
    rng = np.random.default_rng(seed)
    img = np.empty((HEIGHT, WIDTH, 3), np.int16)
    img[:] = gum
    img[int(HEIGHT * 0.47) : int(HEIGHT * 0.53)] = (60, 25, 30)
    tooth_h, tooth_w = int(HEIGHT * 0.2), int(WIDTH * 0.095)
    for top in (int(HEIGHT * 0.25), int(HEIGHT * 0.55)):
        for index in range(8):
            left = int(WIDTH * 0.08) + index * int(WIDTH * 0.106)
            img[top : top + tooth_h, left : left + tooth_w] = ENAMEL
            band = int(tooth_h * plaque_band)
            if band:  # plaque sits at the gum line: the top of the lower teeth, bottom of the upper
                start = top if top > HEIGHT / 2 else top + tooth_h - band
                img[start : start + band, left : left + tooth_w] = PLAQUE
    img += rng.integers(-10, 11, img.shape, dtype=np.int16)  # sensor noise: texture for focus
    rgb = np.clip(img, 0, 255).astype(np.uint8)
    if blur_sigma:
        rgb = cv2.GaussianBlur(rgb, (0, 0), blur_sigma)
    if brightness != 1.0:
        rgb = (rgb * brightness).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=85)
    return out.getvalue()


@cache
def _stored_quality(data: bytes) -> dict[str, object] | None:
    """The quality dict `image.process` stores for a 12 MP photo; None for an unreadable file."""
    try:
        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    except OSError:
        return None
    report = score_quality(rgb, original_size=(4000, 3000))
    return {
        "overall": report.overall,
        "focus": report.focus,
        "exposure": report.exposure,
        "resolution": report.resolution,
        "reasons": list(report.reasons),
        "retake_suggested": report.retake_suggested,
    }


def _photo(data: bytes, view: str | None = "IV07", *, scored: bool = True) -> ReviewImage:
    """A ReviewImage with the quality dict `image.process` would have stored (or none)."""
    return ReviewImage(view, "image/jpeg", data, _stored_quality(data) if scored else None, None)


def _session(*photos: bytes, scored: bool = True) -> list[ReviewImage]:
    return [_photo(data, view, scored=scored) for data, view in zip(photos, VIEWS, strict=False)]


def _check_honest(suggestion: TagSuggestion) -> None:
    assert suggestion.overall_tracking is None
    assert not NEVER_SUGGESTED & set(suggestion.detail_tags)
    assert suggestion.provider == "local"
    assert suggestion.confidence is None
    assert "Overall tracking is left to the doctor" in suggestion.rationale


def test_sharp_healthy_photos_get_a_hygiene_judgement() -> None:
    suggestion = LocalProvider().suggest(_session(*(_mouth(seed) for seed in range(5))))
    _check_honest(suggestion)
    assert suggestion.cannot_judge is False
    assert suggestion.cannot_judge_reason is None
    assert suggestion.oral_hygiene == OralHygiene.GOOD
    assert suggestion.detail_tags == ()


def test_red_gums_suggest_gingival_inflammation() -> None:
    photos = _session(*(_mouth(seed, gum=INFLAMED_GUM) for seed in range(5)))
    suggestion = LocalProvider().suggest(photos)
    _check_honest(suggestion)
    assert suggestion.detail_tags == ("GINGIVAL_INFLAMMATION",)
    assert suggestion.oral_hygiene == OralHygiene.POOR


def test_inflammation_in_one_view_is_enough_and_named() -> None:
    photos = [_mouth(seed) for seed in range(5)]
    photos[1] = _mouth(1, gum=INFLAMED_GUM)
    suggestion = LocalProvider().suggest(_session(*photos))
    assert suggestion.detail_tags == ("GINGIVAL_INFLAMMATION",)
    assert "photo 2 (IV01)" in suggestion.rationale


def test_yellow_deposits_at_the_gum_line_suggest_plaque() -> None:
    photos = _session(*(_mouth(seed, plaque_band=0.15) for seed in range(5)))
    suggestion = LocalProvider().suggest(photos)
    _check_honest(suggestion)
    assert suggestion.detail_tags == ("PLAQUE",)
    assert suggestion.oral_hygiene == OralHygiene.FAIR


def test_heavy_plaque_is_poor_hygiene() -> None:
    photos = _session(*(_mouth(seed, plaque_band=0.4) for seed in range(5)))
    suggestion = LocalProvider().suggest(photos)
    assert suggestion.oral_hygiene == OralHygiene.POOR
    assert "PLAQUE" in suggestion.detail_tags


def test_blurred_photos_cannot_be_judged_and_ask_for_a_retake() -> None:
    photos = _session(*(_mouth(seed, gum=INFLAMED_GUM, blur_sigma=8.0) for seed in range(5)))
    suggestion = LocalProvider().suggest(photos)
    _check_honest(suggestion)
    assert suggestion.cannot_judge is True
    assert suggestion.oral_hygiene is None
    assert suggestion.detail_tags == ("POOR_PHOTO_QUALITY", "RETAKE_NEEDED")
    assert suggestion.cannot_judge_reason == "Only 0 of 5 photos are usable; at least 3 are needed."
    assert "blurred" in suggestion.rationale


def test_dark_photos_without_stored_scores_are_scored_here() -> None:
    photos = _session(*(_mouth(seed, brightness=0.18) for seed in range(5)), scored=False)
    suggestion = LocalProvider().suggest(photos)
    assert suggestion.cannot_judge is True
    assert suggestion.detail_tags == ("POOR_PHOTO_QUALITY", "RETAKE_NEEDED")
    assert "too dark" in suggestion.rationale


def test_a_few_poor_photos_still_allow_a_judgement_and_ask_for_retakes() -> None:
    photos = [_mouth(seed, gum=INFLAMED_GUM) for seed in range(5)]
    photos[0] = _mouth(0, blur_sigma=8.0)
    photos[3] = b"not an image at all"
    suggestion = LocalProvider().suggest(_session(*photos))
    assert suggestion.cannot_judge is False
    assert suggestion.detail_tags == (
        "POOR_PHOTO_QUALITY",
        "RETAKE_NEEDED",
        "GINGIVAL_INFLAMMATION",
    )
    assert "photo 1 (IV07): blurred" in suggestion.rationale
    assert "photo 4 (IV25): could not be read" in suggestion.rationale


def test_too_few_photos_cannot_be_judged() -> None:
    photos = _session(*(_mouth(seed) for seed in range(3)))
    suggestion = LocalProvider().suggest(photos)
    _check_honest(suggestion)
    assert suggestion.cannot_judge is True
    assert suggestion.oral_hygiene is None
    assert suggestion.detail_tags == ("RETAKE_NEEDED",)
    assert suggestion.cannot_judge_reason == "Only 3 of the 5 photos of a check-in were sent."


def test_a_smaller_protocol_can_be_judged_from_fewer_photos() -> None:
    photos = _session(*(_mouth(seed) for seed in range(3)))
    suggestion = LocalProvider(min_photos=3, min_usable=2).suggest(photos)
    assert suggestion.cannot_judge is False
    assert suggestion.oral_hygiene == OralHygiene.GOOD


def test_extraoral_views_are_not_read_for_gum_colour() -> None:
    # Lips are red too: an extraoral photo must not pass for inflamed gums.
    data = _mouth(7, gum=INFLAMED_GUM)
    photos = [_photo(data, view) for view in ("EV01", "EV15", "EV19", "EV08", "EV12")]
    suggestion = LocalProvider().suggest(photos)
    assert suggestion.cannot_judge is True
    assert "GINGIVAL_INFLAMMATION" not in suggestion.detail_tags
    assert "not an intraoral view" in suggestion.rationale


def test_photos_without_teeth_cannot_be_judged() -> None:
    out = io.BytesIO()
    noise = np.random.default_rng(3).integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    grey = np.repeat(noise[..., :1] // 2 + 60, 3, axis=2)  # sharp grey texture, no teeth or gums
    Image.fromarray(grey).save(out, "JPEG", quality=85)
    suggestion = LocalProvider().suggest(_session(*[out.getvalue()] * 5))
    assert suggestion.cannot_judge is True
    assert "teeth and gums are not visible enough" in suggestion.rationale


def test_same_photos_give_the_same_suggestion() -> None:
    photos = _session(*(_mouth(seed, plaque_band=0.15) for seed in range(5)))
    assert LocalProvider().suggest(photos) == LocalProvider().suggest(list(photos))


def test_settings_out_of_range_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="min_usable"):
        LocalProvider(min_photos=3, min_usable=4)


# The rationale in words a doctor would write: a finding of nothing says "no ...", never "on up
# to 0% of the teeth".


def test_clean_teeth_say_no_plaque_instead_of_up_to_zero_percent() -> None:
    suggestion = LocalProvider().suggest(_session(*(_mouth(seed) for seed in range(5))))
    assert "0%" not in suggestion.rationale
    assert "No plaque-like yellow on the teeth" in suggestion.rationale
    assert "no deep-red gum on the gums" in suggestion.rationale


def test_a_finding_keeps_its_share_and_photo() -> None:
    photos = [_mouth(seed, plaque_band=0.15) for seed in range(5)]
    photos[1] = _mouth(1, gum=INFLAMED_GUM, plaque_band=0.15)
    rationale = LocalProvider().suggest(_session(*photos)).rationale
    assert "Plaque-like yellow on up to " in rationale
    assert "% of the teeth (photo " in rationale
    assert "deep-red gum on up to " in rationale
    assert "% of the gums (photo 2 (IV01))" in rationale
