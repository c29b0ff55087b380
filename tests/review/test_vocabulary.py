"""The review vocabulary: lenient clamping of AI answers, strict validation of the doctor's tags."""

from __future__ import annotations

import pytest

from ortholens.kit.errors import InvalidInput
from ortholens.review.ai.base import ProviderAnswerInvalid
from ortholens.review.vocabulary import (
    DETAIL_TAGS,
    OralHygiene,
    OverallTracking,
    ReviewTags,
    clamp_suggestion,
    validate_tag_set,
)


def test_vocabulary_matches_the_domain() -> None:
    assert [(m.value, m.label) for m in OverallTracking] == [
        (1, "On track (GO)"),
        (2, "Minor issue (monitor)"),
        (3, "Needs attention (NO-GO, see the doctor)"),
    ]
    assert [m.label for m in OralHygiene] == ["Good", "Fair", "Poor"]
    assert list(DETAIL_TAGS)[:3] == ["ALIGNER_NOT_SEATED", "ATTACHMENT_MISSING", "BRACKET_DEBONDED"]
    assert {"GINGIVAL_INFLAMMATION", "PLAQUE", "POOR_PHOTO_QUALITY", "RETAKE_NEEDED"} <= set(
        DETAIL_TAGS
    )
    assert all(label for label in DETAIL_TAGS.values())


def test_clamp_keeps_a_clean_answer() -> None:
    raw = {
        "overall_tracking": 2,
        "oral_hygiene": 1,
        "detail_tags": ["SPACE_OPENING", "PLAQUE"],
        "rationale": " Small space between 11 and 21. ",
        "confidence": 0.7,
        "cannot_judge": False,
    }
    suggestion = clamp_suggestion(raw, provider="anthropic", model="m")
    assert suggestion.to_json() == {
        "overall_tracking": 2,
        "oral_hygiene": 1,
        "detail_tags": ["SPACE_OPENING", "PLAQUE"],
        "rationale": "Small space between 11 and 21.",
        "confidence": 0.7,
        "cannot_judge": False,
        "cannot_judge_reason": None,
        "provider": "anthropic",
        "model": "m",
        "dropped_tags": [],
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (7, 3),
        (0, 1),
        (-4, 1),
        (2.4, 2),
        (float("inf"), 3),
        ("2", 2),
        ("3 (needs attention)", 3),
        ("minor", 2),
        ("Minor issue", 2),
        ("NO-GO", 3),
        ("on_track", 1),
        (None, None),
        ("null", None),
        (float("nan"), None),
    ],
)
def test_clamp_reads_and_clamps_tracking(value: object, expected: int | None) -> None:
    assert clamp_suggestion({"overall_tracking": value}, provider="p").overall_tracking == expected


@pytest.mark.parametrize(("value", "expected"), [("poor", 3), ("fair", 2), (9, 3), ("1", 1)])
def test_clamp_reads_and_clamps_hygiene(value: object, expected: int) -> None:
    assert clamp_suggestion({"oral_hygiene": value}, provider="p").oral_hygiene == expected


def test_clamp_drops_unknown_tags_removes_duplicates_and_keeps_order() -> None:
    raw = {"detail_tags": ["plaque", "TOOTH_DECAY", "Retake needed", "PLAQUE", 5, "retake-needed"]}
    suggestion = clamp_suggestion(raw, provider="p")
    assert suggestion.detail_tags == ("PLAQUE", "RETAKE_NEEDED")
    assert suggestion.dropped_tags == ("TOOTH_DECAY", "5")


def test_clamp_reads_tags_given_as_one_string() -> None:
    suggestion = clamp_suggestion({"detail_tags": "PLAQUE, WIRE_ISSUE"}, provider="p")
    assert suggestion.detail_tags == ("PLAQUE", "WIRE_ISSUE")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.5, 0.5), (85, 0.85), ("0.9", 0.9), (-1, 0.0), (500, 1.0), ("x", None)],
)
def test_clamp_confidence(value: object, expected: float | None) -> None:
    assert clamp_suggestion({"confidence": value}, provider="p").confidence == expected


def test_cannot_judge_clears_the_scores_and_always_has_a_reason() -> None:
    raw = {"overall_tracking": 1, "oral_hygiene": 1, "cannot_judge": "true"}
    suggestion = clamp_suggestion(raw, provider="p")
    assert suggestion.cannot_judge is True
    assert suggestion.overall_tracking is None
    assert suggestion.oral_hygiene is None
    assert suggestion.cannot_judge_reason


def test_a_reason_without_cannot_judge_is_not_kept() -> None:
    raw = {"cannot_judge": False, "cannot_judge_reason": "n/a"}
    assert clamp_suggestion(raw, provider="p").cannot_judge_reason is None


def test_long_rationale_is_cut() -> None:
    rationale = clamp_suggestion({"rationale": "x" * 5000}, provider="p").rationale
    assert len(rationale) == 2000
    assert rationale.endswith("…")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"overall_tracking": [1]}, "overall_tracking"),
        ({"overall_tracking": True}, "overall_tracking"),
        ({"oral_hygiene": "excellent-ish"}, "oral_hygiene"),
        ({"detail_tags": {"PLAQUE": True}}, "detail_tags"),
        ({"rationale": 42}, "rationale"),
        ({"cannot_judge": "maybe"}, "cannot_judge"),
    ],
)
def test_clamp_refuses_fields_without_a_sensible_reading(
    raw: dict[str, object], field: str
) -> None:
    with pytest.raises(ProviderAnswerInvalid, match=field) as caught:
        clamp_suggestion(raw, provider="p")
    assert caught.value.status_code == 502
    assert "tag by hand" in caught.value.detail


def test_clamp_refuses_a_non_object() -> None:
    with pytest.raises(ProviderAnswerInvalid, match="not an object"):
        clamp_suggestion(["PLAQUE"], provider="p")  # type: ignore[arg-type]


def test_validate_tag_set_accepts_the_vocabulary() -> None:
    tags = validate_tag_set(1, 3, ["PLAQUE", "GINGIVAL_INFLAMMATION", "PLAQUE"])
    assert tags == ReviewTags(
        OverallTracking.ON_TRACK, OralHygiene.POOR, ("PLAQUE", "GINGIVAL_INFLAMMATION")
    )


@pytest.mark.parametrize(
    ("tracking", "hygiene", "tags", "message"),
    [
        (4, 1, [], "Overall tracking must be one of 1 \\(On track"),
        (0, 1, [], "Overall tracking"),
        (True, 1, [], "Overall tracking"),
        ("2", 1, [], "Overall tracking"),
        (None, 1, [], "Overall tracking"),
        (1, 7, [], "Oral hygiene must be one of 1 \\(Good\\), 2 \\(Fair\\), 3 \\(Poor\\)"),
        (1, 1, ["TOOTH_DECAY"], "Unknown detail tag 'TOOTH_DECAY'; allowed tags are ALIGNER"),
        (1, 1, ["plaque"], "Unknown detail tag 'plaque'"),
        (1, 1, "PLAQUE", "must be a list"),
    ],
)
def test_validate_tag_set_is_strict(
    tracking: object, hygiene: object, tags: object, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        validate_tag_set(tracking, hygiene, tags)  # type: ignore[arg-type]
    assert caught.value.status_code == 422
