"""View classification on real photos: the shared real intraoral set, its augmentations, and a
real portrait (see real_view_sets.py for what each set is and where it comes from)."""

from __future__ import annotations

import pytest

from ortholens.processing.views import ViewCategory, ViewCode, classify_view
from tests.processing.measure_view_accuracy import measure_labelled
from tests.processing.real_view_sets import (
    ASTRONAUT,
    AUGMENTATIONS,
    FIVE_VIEW,
    FIVE_VIEW_LABELS,
    augmented_photos,
    load_rgb,
    real_photos,
)

needs_realdata = pytest.mark.skipif(
    not FIVE_VIEW.is_dir(), reason="../shared/realdata/sjtu-five-view is not on this machine"
)
# Floors on the augmented real set (72 photos). Measured: 59 right, 12 unset, 1 wrong (a crop
# that cut the posterior part off a left buccal view, called frontal at 0.72).
AUGMENTED_RIGHT_FLOOR = 0.75
AUGMENTED_WRONG_CEILING = 0.05


@needs_realdata
@pytest.mark.parametrize("name", sorted(FIVE_VIEW_LABELS))
def test_every_real_photo_is_right_or_left_for_a_person_with_a_reason(name: str) -> None:
    suggestion = classify_view(load_rgb(FIVE_VIEW / name))
    if suggestion.view is None:
        assert suggestion.reason, f"{name} left unset without a reason"
    else:
        assert suggestion.view is FIVE_VIEW_LABELS[name], f"{name}: {suggestion}"
        assert suggestion.category is ViewCategory.INTRAORAL


@needs_realdata
def test_most_of_the_real_set_is_recognised() -> None:
    outcomes, wrong = measure_labelled(real_photos())
    right = sum(counts[label] for label, counts in outcomes.items())
    assert not wrong
    assert right >= 4, outcomes


@needs_realdata
def test_augmented_real_photos_are_rarely_wrong() -> None:
    outcomes, wrong = measure_labelled(augmented_photos())
    total = sum(sum(counts.values()) for counts in outcomes.values())
    right = sum(counts[label] for label, counts in outcomes.items())
    assert total == 72
    assert right / total >= AUGMENTED_RIGHT_FLOOR, outcomes
    assert len(wrong) / total <= AUGMENTED_WRONG_CEILING, wrong


@needs_realdata
def test_a_mirrored_real_buccal_view_is_the_other_side() -> None:
    for name, view in (("photo_1-2.png", ViewCode.IV01), ("photo_1-3.png", ViewCode.IV18)):
        mirrored = load_rgb(FIVE_VIEW / name)[:, ::-1].copy()
        assert classify_view(mirrored).view is view


def test_a_real_portrait_is_an_extraoral_smile_not_a_mouth() -> None:
    # NASA's public-domain portrait of Eileen Collins (as shipped by scikit-image), smiling.
    suggestion = classify_view(load_rgb(ASTRONAUT))
    assert suggestion.view is ViewCode.EV19
    assert suggestion.category is ViewCategory.EXTRAORAL
    assert max(suggestion.scores[code] for code in ViewCode if code.value.startswith("IV")) == 0.0


def test_a_portrait_cropped_above_the_eyes_is_not_taken_for_a_mouth() -> None:
    # Without the face the cascades find nothing; the orange suit and the white helmet ring have
    # a mouth's colours, but the white does not sit in gum, so no intraoral claim is made.
    crop, _, _ = AUGMENTATIONS["corner crop 85%"]
    suggestion = classify_view(crop(load_rgb(ASTRONAUT)))
    assert suggestion.view is None
    assert suggestion.category is not ViewCategory.INTRAORAL
    assert suggestion.reason
