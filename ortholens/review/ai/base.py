"""What every tag-suggestion provider takes and returns, and how it fails.

    SuggestionProvider.suggest(images: Sequence[ReviewImage]) -> TagSuggestion
    ProviderFailed (503)          the provider could not be asked (network, timeout, key, overload)
    └── ProviderAnswerInvalid (502) it answered, but not with a usable suggestion

A suggestion is only ever a pre-filled form: the doctor's submitted tag set is what counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ortholens.kit.errors import ServiceUnavailable

TRY_AGAIN = "Try again in a moment, or tag the session by hand."


@dataclass(frozen=True, slots=True)
class ReviewImage:
    """One photo of the session as a provider sees it.

    `data` is the encoded 1600 px preview variant (JPEG today; PNG, WebP and GIF work too) and is
    left out of `repr` so that it can never end up in a log line or a traceback.
    """

    view_code: str | None  # ADA-1100 code, e.g. "IV07"; None when the view is unknown
    mime_type: str  # e.g. "image/jpeg"
    data: bytes = field(repr=False)
    # The stored quality dict of the image (`Image.quality`: overall, focus, exposure, resolution
    # 0..100, reasons, retake_suggested), or None when it was never scored.
    quality: Mapping[str, Any] | None = None
    view_label: str | None = None  # e.g. "right buccal"

    def describe(self, position: int) -> str:
        """A short, PHI-free caption: "photo 2 (right buccal, IV01)"."""
        names = [name for name in (self.view_label, self.view_code) if name]
        return f"photo {position} ({', '.join(names)})" if names else f"photo {position}"


@dataclass(frozen=True, slots=True)
class TagSuggestion:
    """A suggested tag set, already clamped to the review vocabulary."""

    overall_tracking: int | None  # 1 on track, 2 minor issue, 3 needs attention; None: no opinion
    oral_hygiene: int | None  # 1 good, 2 fair, 3 poor; None: no opinion
    detail_tags: tuple[str, ...]  # codes from DETAIL_TAGS, no duplicates, in the provider's order
    rationale: str  # one or two sentences for the doctor
    confidence: float | None  # 0..1 as the provider states it; None when it does not say
    cannot_judge: bool  # True: the photos do not allow a judgement (the scores are then None)
    cannot_judge_reason: str | None
    provider: str  # "anthropic" or "local"
    model: str | None  # the model that answered, when there is one
    dropped_tags: tuple[str, ...] = ()  # tags the provider gave that are not in the vocabulary

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (snake_case keys) for storage as an AiTagSuggestion and for the API."""
        return {
            "overall_tracking": self.overall_tracking,
            "oral_hygiene": self.oral_hygiene,
            "detail_tags": list(self.detail_tags),
            "rationale": self.rationale,
            "confidence": self.confidence,
            "cannot_judge": self.cannot_judge,
            "cannot_judge_reason": self.cannot_judge_reason,
            "provider": self.provider,
            "model": self.model,
            "dropped_tags": list(self.dropped_tags),
        }


class SuggestionProvider(Protocol):
    """Suggests a tag set for the photos of one session."""

    name: str

    def suggest(self, images: Sequence[ReviewImage]) -> TagSuggestion:
        """Suggest tags for these photos; raise ProviderFailed when no suggestion can be had."""
        ...


class ProviderFailed(ServiceUnavailable):
    """The AI provider could not give a suggestion; the doctor can retry or tag by hand."""

    slug: ClassVar[str] = "ai-provider-unavailable"
    title: ClassVar[str] = "AI suggestion unavailable"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(
            detail or f"The AI provider could not give a suggestion. {TRY_AGAIN}", **extra
        )


class ProviderAnswerInvalid(ProviderFailed):
    """The provider answered, but not with a suggestion we can use (malformed or off-format)."""

    status_code: ClassVar[int] = 502
    slug: ClassVar[str] = "ai-answer-invalid"
    title: ClassVar[str] = "AI answer invalid"
