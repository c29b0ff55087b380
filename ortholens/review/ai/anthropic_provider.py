"""Tag suggestions from Claude vision through the official `anthropic` SDK.

One Messages API call per session: a system prompt with the review vocabulary, the photos as base64
image blocks (each after a one-line caption with its view and stored quality), and one tool,
`record_review_tags`, that the model is forced to call (`tool_choice`), so the answer arrives as the
tool's structured `input` rather than free text. That input is then clamped to the vocabulary.

Timeouts and retries are the SDK's own (`timeout`, `max_retries`; it retries connection errors,
408/409/429 and 5xx, honouring `retry-after`). Whatever still fails becomes `ProviderFailed` (503)
with a message that carries neither the key nor anything about the patient; an answer without a
usable tool call becomes `ProviderAnswerInvalid` (502).
"""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Sequence
from typing import Any

import anthropic
import structlog
from anthropic.types import ImageBlockParam, Message, TextBlockParam, ToolParam
from PIL import Image, UnidentifiedImageError

from ortholens.kit.errors import ConfigurationError, InvalidInput
from ortholens.review.ai.base import (
    TRY_AGAIN,
    ProviderAnswerInvalid,
    ProviderFailed,
    ReviewImage,
    TagSuggestion,
)
from ortholens.review.vocabulary import DETAIL_TAGS, OralHygiene, OverallTracking, clamp_suggestion

DEFAULT_BASE_URL = "https://api.anthropic.com"
TOOL_NAME = "record_review_tags"
MAX_TOKENS = 1024
MAX_IMAGES = 20
# Media types the Messages API accepts for base64 images; anything else is re-encoded as JPEG.
SUPPORTED_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
# The API refuses a base64 image over 5 MB; its vision models see at most ~1568 px on the long edge.
MAX_IMAGE_BYTES = 5 * 1024 * 1024
REENCODE_LONG_EDGE_PX = 1568
REENCODE_JPEG_QUALITY = 85

SYSTEM_PROMPT = f"""\
You help an orthodontist review a patient's remote-monitoring check-in: a few intraoral photos taken \
by the patient at home with a phone. Suggest a tag set by calling the {TOOL_NAME} tool exactly once. \
The doctor sees your suggestion pre-filled and decides; a wrong confident answer is worse than \
saying you cannot judge.

overall_tracking (is treatment going to plan?):
{chr(10).join(f"  {m.value} = {m.label}" for m in OverallTracking)}
oral_hygiene:
{chr(10).join(f"  {m.value} = {m.label}" for m in OralHygiene)}
detail_tags (only these codes; list every one that applies, none if nothing applies):
{chr(10).join(f"  {code}: {label}" for code, label in DETAIL_TAGS.items())}

Rules:
- Judge only what the photos show. If they are too blurred, dark, cropped or incomplete to judge, \
set cannot_judge to true with a short reason, leave the scores out and add POOR_PHOTO_QUALITY and/or \
RETAKE_NEEDED.
- rationale: one or two sentences for the doctor naming what you saw and in which photo. Never \
describe or guess who the patient is.
- confidence: your confidence in the suggestion from 0 to 1.
"""

TOOL: ToolParam = {
    "name": TOOL_NAME,
    "description": "Record the suggested review tags for this session's photos.",
    "input_schema": {
        "type": "object",
        "properties": {
            "overall_tracking": {"type": "integer", "enum": [m.value for m in OverallTracking]},
            "oral_hygiene": {"type": "integer", "enum": [m.value for m in OralHygiene]},
            "detail_tags": {
                "type": "array",
                "items": {"type": "string", "enum": list(DETAIL_TAGS)},
                "uniqueItems": True,
            },
            "rationale": {"type": "string"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "cannot_judge": {"type": "boolean"},
            "cannot_judge_reason": {"type": "string"},
        },
        "required": ["detail_tags", "rationale", "cannot_judge"],
    },
}

log = structlog.get_logger(__name__)


class AnthropicProvider:
    """Claude vision tag suggestions; one Messages API call per `suggest`."""

    name = "anthropic"

    def __init__(
        self,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 2,
    ) -> None:
        if not api_key:
            raise ConfigurationError("The Anthropic provider needs an API key.")
        if not model:
            raise ConfigurationError("The Anthropic provider needs a model id.")
        if timeout_s <= 0 or max_retries < 0:
            raise ConfigurationError(
                "The AI timeout must be positive and the retries not negative."
            )
        self.model = model
        self.timeout_s = timeout_s
        # An explicit base URL, so that an ANTHROPIC_BASE_URL in the environment cannot redirect
        # patient photos somewhere our settings do not say.
        self._client = anthropic.Anthropic(
            api_key=api_key,
            base_url=base_url or DEFAULT_BASE_URL,
            timeout=timeout_s,
            max_retries=max_retries,
        )
        # At DEBUG the SDK logs every request body, i.e. the patient's photos; keep it at INFO.
        sdk_log = logging.getLogger("anthropic")
        if sdk_log.getEffectiveLevel() < logging.INFO:
            sdk_log.setLevel(logging.INFO)

    def suggest(self, images: Sequence[ReviewImage]) -> TagSuggestion:
        """Ask Claude for a tag set for these photos."""
        if not images:
            raise InvalidInput("The session has no photos to suggest tags for.")
        if len(images) > MAX_IMAGES:
            raise InvalidInput(f"At most {MAX_IMAGES} photos can be sent for a suggestion.")
        content = _content(images)
        try:
            message = self._client.messages.create(
                model=self.model,
                max_tokens=MAX_TOKENS,
                system=SYSTEM_PROMPT,
                messages=[{"role": "user", "content": content}],
                tools=[TOOL],
                tool_choice={"type": "tool", "name": TOOL_NAME},
            )
        except anthropic.AnthropicError as exc:
            raise self._failure(exc) from None
        return self._read(message)

    def _failure(self, exc: anthropic.AnthropicError) -> ProviderFailed:
        """A safe, actionable error for an SDK failure (after the SDK's own retries)."""
        status = getattr(exc, "status_code", None)
        log.warning(
            "ai.provider_failed",
            provider=self.name,
            error_type=type(exc).__name__,
            upstream_status=status,
            upstream_request_id=getattr(exc, "request_id", None),
        )
        if isinstance(exc, anthropic.APITimeoutError):
            detail = f"The AI provider did not answer within {self.timeout_s:g} seconds."
        elif isinstance(exc, anthropic.APIConnectionError):
            detail = "The AI provider could not be reached."
        elif isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
            # Retrying will not help here; say who can fix it.
            return ProviderFailed(
                "The AI provider refused our credentials; an administrator should check the "
                "Anthropic API key. Tag the session by hand until then.",
                provider=self.name,
                upstream_status=status,
            )
        elif isinstance(exc, anthropic.RateLimitError):
            detail = "The AI provider is busy (rate limit reached)."
        elif isinstance(exc, anthropic.APIStatusError) and exc.status_code >= 500:
            detail = f"The AI provider is unavailable or overloaded (HTTP {exc.status_code})."
        elif isinstance(exc, anthropic.APIStatusError):
            detail = f"The AI provider refused the request (HTTP {exc.status_code})."
        else:
            detail = "The AI provider could not give a suggestion."
        return ProviderFailed(f"{detail} {TRY_AGAIN}", provider=self.name, upstream_status=status)

    def _read(self, message: Message) -> TagSuggestion:
        """The forced tool call's input, clamped; anything else is an invalid answer."""
        # The SDK builds its models leniently: a gateway's odd body can arrive as a str, a list or a
        # Message without content, and all of those are an unusable answer rather than a crash.
        blocks = getattr(message, "content", None) if isinstance(message, Message) else None
        if not isinstance(blocks, list):
            raise self._invalid("it was not a Messages API response")
        calls = [
            block
            for block in blocks
            if getattr(block, "type", None) == "tool_use"
            and getattr(block, "name", None) == TOOL_NAME
        ]
        if not calls:
            stop = str(getattr(message, "stop_reason", None))
            if stop == "refusal":
                raise self._invalid("it declined to review these photos")
            if stop == "max_tokens":
                raise self._invalid("its answer was cut off")
            if any(getattr(block, "type", None) == "text" for block in blocks):
                raise self._invalid("it answered in text instead of the structured review")
            raise self._invalid("it did not return the structured review")
        raw: object = getattr(calls[0], "input", None)
        if isinstance(raw, str):  # some gateways pass the tool input through as a JSON string
            try:
                raw = json.loads(raw)
            except ValueError:
                raw = None
        if not isinstance(raw, dict):
            raise self._invalid("the review was not a JSON object")
        answered_by = message.model if isinstance(message.model, str) and message.model else None
        return clamp_suggestion(raw, provider=self.name, model=answered_by or self.model)

    def _invalid(self, what: str) -> ProviderAnswerInvalid:
        log.warning("ai.answer_invalid", provider=self.name, problem=what)
        return ProviderAnswerInvalid(
            f"The AI provider's answer could not be used: {what}. {TRY_AGAIN}", provider=self.name
        )


def _content(images: Sequence[ReviewImage]) -> list[TextBlockParam | ImageBlockParam]:
    """Caption + image block per photo, then the request."""
    content: list[TextBlockParam | ImageBlockParam] = []
    for position, image in enumerate(images, start=1):
        content.append({"type": "text", "text": _caption(image, position)})
        content.append(_image_block(image, position))
    content.append(
        {
            "type": "text",
            "text": f"These are the {len(images)} photos of this check-in. "
            f"Call {TOOL_NAME} with your suggestion.",
        }
    )
    return content


def _caption(image: ReviewImage, position: int) -> str:
    """The view and the stored quality verdict, which help the model weigh a photo."""
    described = image.describe(position)
    caption = described[:1].upper() + described[1:]
    quality = image.quality or {}
    scores = [
        f"{key} {quality[key]:g}"
        for key in ("overall", "focus", "exposure")
        if isinstance(quality.get(key), int | float)
    ]
    if scores:
        caption += "; automatic quality scores (0-100): " + ", ".join(scores)
    reasons = [str(reason) for reason in quality.get("reasons") or [] if isinstance(reason, str)]
    if reasons:
        caption += "; flagged: " + ", ".join(reasons)
    return caption + "."


def _image_block(image: ReviewImage, position: int) -> ImageBlockParam:
    """A base64 image block; unsupported types or oversize files are re-encoded as JPEG."""
    media_type = image.mime_type.split(";")[0].strip().lower()
    if media_type == "image/jpg":
        media_type = "image/jpeg"
    data = image.data
    if media_type not in SUPPORTED_MEDIA_TYPES or len(data) > MAX_IMAGE_BYTES:
        data, media_type = _as_jpeg(data, position), "image/jpeg"
    source: dict[str, Any] = {
        "type": "base64",
        "media_type": media_type,
        "data": base64.b64encode(data).decode("ascii"),
    }
    return {"type": "image", "source": source}  # type: ignore[typeddict-item]


def _as_jpeg(data: bytes, position: int) -> bytes:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            picture = opened.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError):
        raise InvalidInput(f"Photo {position} could not be read for the AI suggestion.") from None
    picture.thumbnail((REENCODE_LONG_EDGE_PX, REENCODE_LONG_EDGE_PX))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=REENCODE_JPEG_QUALITY)
    return out.getvalue()
