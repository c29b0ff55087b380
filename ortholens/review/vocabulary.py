"""The remote-monitoring review vocabulary (DOMAIN.md "Remote-monitoring review vocabulary").

    overall_tracking  1 on track (GO), 2 minor issue (monitor), 3 needs attention (NO-GO)
    oral_hygiene      1 good, 2 fair, 3 poor
    detail_tags       codes from DETAIL_TAGS (fixed; extend it by adding an entry)

Two gates, on purpose different:

- `clamp_suggestion` is lenient: an AI answer is only a suggestion, so out-of-range scores are
  clamped, words like "minor" are understood and unknown tags are dropped (and reported). Only an
  answer whose fields have no sensible reading is refused (`ProviderAnswerInvalid`).
- `validate_tag_set` is strict: the doctor's submitted tag set is the record, so anything outside
  the vocabulary is refused with a message that says what is allowed (`InvalidInput`).
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ortholens.kit.errors import InvalidInput
from ortholens.review.ai.base import ProviderAnswerInvalid, TagSuggestion

SCORE_MIN, SCORE_MAX = 1, 3
# Longest rationale / reason kept from a provider, in characters.
MAX_RATIONALE_CHARS = 2000
MAX_REASON_CHARS = 500


class OverallTracking(enum.IntEnum):
    """Is treatment going to plan?"""

    ON_TRACK = 1
    MINOR_ISSUE = 2
    NEEDS_ATTENTION = 3

    @property
    def label(self) -> str:
        return _TRACKING_LABELS[self]


class OralHygiene(enum.IntEnum):
    """How clean are the teeth and gums?"""

    GOOD = 1
    FAIR = 2
    POOR = 3

    @property
    def label(self) -> str:
        return _HYGIENE_LABELS[self]


_TRACKING_LABELS = {
    OverallTracking.ON_TRACK: "On track (GO)",
    OverallTracking.MINOR_ISSUE: "Minor issue (monitor)",
    OverallTracking.NEEDS_ATTENTION: "Needs attention (NO-GO, see the doctor)",
}
_HYGIENE_LABELS = {OralHygiene.GOOD: "Good", OralHygiene.FAIR: "Fair", OralHygiene.POOR: "Poor"}

# Code -> label, in the order the review form lists them. Add an entry to extend the vocabulary.
DETAIL_TAGS: Mapping[str, str] = MappingProxyType(
    {
        "ALIGNER_NOT_SEATED": "Aligner not fully seated",
        "ATTACHMENT_MISSING": "Attachment missing",
        "BRACKET_DEBONDED": "Bracket debonded",
        "WIRE_ISSUE": "Wire issue",
        "ELASTICS_NOT_WORN": "Elastics not worn",
        "SPACE_OPENING": "Space opening",
        "GINGIVAL_INFLAMMATION": "Gingival inflammation",
        "PLAQUE": "Plaque",
        "POOR_PHOTO_QUALITY": "Poor photo quality",
        "RETAKE_NEEDED": "Retake needed",
    }
)

# Words a model may use instead of the number. Keys are normalised with `_words`.
_TRACKING_WORDS = {
    "on track": 1, "go": 1, "good": 1, "green": 1, "ok": 1,
    "minor": 2, "minor issue": 2, "monitor": 2, "yellow": 2,
    "needs attention": 3, "attention": 3, "no go": 3, "nogo": 3, "red": 3, "see the doctor": 3,
}  # fmt: skip
_HYGIENE_WORDS = {"good": 1, "fair": 2, "moderate": 2, "poor": 3, "bad": 3}
_TRUE_WORDS, _FALSE_WORDS = {"true", "yes", "1"}, {"false", "no", "0", ""}


@dataclass(frozen=True, slots=True)
class ReviewTags:
    """A doctor's validated tag set."""

    overall_tracking: OverallTracking
    oral_hygiene: OralHygiene
    detail_tags: tuple[str, ...]


def clamp_suggestion(
    raw: Mapping[str, object], *, provider: str, model: str | None = None
) -> TagSuggestion:
    """Read a provider's raw answer into a TagSuggestion clamped to the vocabulary."""
    if not isinstance(raw, Mapping):
        raise ProviderAnswerInvalid(_invalid("its answer is not an object"))
    cannot_judge = _flag(raw.get("cannot_judge"), "cannot_judge")
    tracking = _score(raw.get("overall_tracking"), "overall_tracking", _TRACKING_WORDS)
    hygiene = _score(raw.get("oral_hygiene"), "oral_hygiene", _HYGIENE_WORDS)
    kept, dropped = _tags(raw.get("detail_tags"))
    reason = _text(raw.get("cannot_judge_reason"), "cannot_judge_reason", MAX_REASON_CHARS)
    if cannot_judge:
        # "Cannot judge" is about the whole session: any score given alongside it is not trusted.
        tracking = hygiene = None
        reason = reason or "The provider could not judge these photos."
    return TagSuggestion(
        overall_tracking=tracking,
        oral_hygiene=hygiene,
        detail_tags=kept,
        rationale=_text(raw.get("rationale"), "rationale", MAX_RATIONALE_CHARS) or "",
        confidence=_confidence(raw.get("confidence")),
        cannot_judge=cannot_judge,
        cannot_judge_reason=reason if cannot_judge else None,
        provider=provider,
        model=model,
        dropped_tags=dropped,
    )


def validate_tag_set(
    overall_tracking: object, oral_hygiene: object, detail_tags: Iterable[object]
) -> ReviewTags:
    """Check a doctor's submitted tag set strictly against the vocabulary."""
    tracking = _strict_score(overall_tracking, "Overall tracking", OverallTracking)
    hygiene = _strict_score(oral_hygiene, "Oral hygiene", OralHygiene)
    if isinstance(detail_tags, str | bytes):
        raise InvalidInput("Detail tags must be a list of tag codes.")
    codes: list[str] = []
    for tag in detail_tags:
        if not isinstance(tag, str) or tag not in DETAIL_TAGS:
            raise InvalidInput(
                f"Unknown detail tag {str(tag)[:40]!r}; allowed tags are {', '.join(DETAIL_TAGS)}."
            )
        if tag not in codes:
            codes.append(tag)
    return ReviewTags(OverallTracking(tracking), OralHygiene(hygiene), tuple(codes))


def _strict_score(value: object, name: str, kind: type[OverallTracking] | type[OralHygiene]) -> int:
    allowed = ", ".join(f"{member.value} ({member.label})" for member in kind)
    if isinstance(value, bool) or not isinstance(value, int) or not SCORE_MIN <= value <= SCORE_MAX:
        raise InvalidInput(f"{name} must be one of {allowed}; got {str(value)[:20]!r}.")
    return value


def _invalid(what: str) -> str:
    return f"The AI provider's answer could not be used: {what}. Try again, or tag by hand."


def _words(text: str) -> str:
    """Lower case, separators to single spaces: "NO-GO" -> "no go", "Minor_issue" -> "minor issue"."""
    return " ".join(re.split(r"[\s_\-/]+", text.strip().lower())).strip()


def _score(value: object, field: str, words: Mapping[str, int]) -> int | None:
    """1..3, or None for no opinion; numbers are rounded and clamped, words looked up."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ProviderAnswerInvalid(_invalid(f"{field} is a yes/no instead of 1 to 3"))
    if isinstance(value, str):
        text = _words(value)
        if text in {"", "null", "none", "unknown", "n a"}:
            return None
        if text in words:
            return words[text]
        # "2", "2.0", "2 minor issue", "3 (needs attention)": take the leading number.
        match = re.match(r"^(-?\d+(?:\.\d+)?)", text)
        if match is None:
            raise ProviderAnswerInvalid(_invalid(f"{field} {value[:30]!r} is not a score"))
        value = float(match.group(1))
    if not isinstance(value, int | float):
        raise ProviderAnswerInvalid(_invalid(f"{field} is not a number"))
    if math.isnan(value):
        return None
    if math.isinf(value):
        return SCORE_MAX if value > 0 else SCORE_MIN
    return min(SCORE_MAX, max(SCORE_MIN, round(value)))


def _tags(value: object) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Known codes (deduplicated, in order) and the rest (dropped, reported)."""
    if value is None:
        return (), ()
    if isinstance(value, str):
        items: list[object] = [part for part in re.split(r"[,;\n]", value) if part.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ProviderAnswerInvalid(_invalid("detail_tags is not a list"))
    kept: list[str] = []
    dropped: list[str] = []
    for item in items:
        if not isinstance(item, str):
            dropped.append(repr(item)[:40])
            continue
        code = _words(item).upper().replace(" ", "_")
        if code in DETAIL_TAGS:
            if code not in kept:
                kept.append(code)
        elif item[:40] not in dropped:
            dropped.append(item[:40])
    return tuple(kept), tuple(dropped)


def _flag(value: object, field: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and _words(value) in _TRUE_WORDS | _FALSE_WORDS:
        return _words(value) in _TRUE_WORDS
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ProviderAnswerInvalid(_invalid(f"{field} is not true or false"))


def _text(value: object, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProviderAnswerInvalid(_invalid(f"{field} is not text"))
    text = value.strip()
    return (text[: limit - 1] + "…" if len(text) > limit else text) or None


def _confidence(value: object) -> float | None:
    """0..1; a percentage (1 < x <= 100) is read as one; text numbers tolerated; junk -> None."""
    if isinstance(value, str):
        try:
            value = float(value.strip().rstrip("%"))
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    number = float(value)
    if 1.0 < number <= 100.0:
        number /= 100.0
    return round(min(1.0, max(0.0, number)), 3)
