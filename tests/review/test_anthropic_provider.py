"""The Anthropic provider, with the real SDK talking to a local Messages API server."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterator

import pytest
from PIL import Image

from ortholens.kit.errors import ConfigurationError, InvalidInput
from ortholens.review.ai.anthropic_provider import SYSTEM_PROMPT, TOOL_NAME, AnthropicProvider
from ortholens.review.ai.base import ProviderAnswerInvalid, ProviderFailed, ReviewImage
from ortholens.review.ai.factory import make_provider
from ortholens.review.ai.local_provider import LocalProvider
from tests.review.messages_api_server import (
    MessagesApiServer,
    Reply,
    error_reply,
    presented_key,
    running_messages_api,
    text_reply,
    tool_use_reply,
)

KEY = "sk-ant-test-0123456789"
MODEL = "claude-test-model"
VIEWS = [
    ("IV07", "intraoral frontal", "JPEG", "image/jpeg"),
    ("IV01", "right buccal", "JPEG", "image/jpeg"),
    ("IV18", "left buccal", "WEBP", "image/webp"),
    ("IV25", "maxillary occlusal", "PNG", "image/png"),
    ("IV27", "mandibular occlusal", "JPEG", "image/jpeg"),
]
GOOD_ANSWER = {
    "overall_tracking": 1,
    "oral_hygiene": 2,
    "detail_tags": ["PLAQUE"],
    "rationale": "Aligners look seated; some plaque on the lower incisors in photo 1.",
    "confidence": 0.8,
    "cannot_judge": False,
}


def _encoded(fmt: str, shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (shade, 120, 140)).save(out, fmt)
    return out.getvalue()


@pytest.fixture
def images() -> list[ReviewImage]:
    return [
        ReviewImage(
            view_code=code,
            mime_type=mime,
            data=_encoded(fmt, 40 * index),
            quality={"overall": 91.5, "focus": 88, "exposure": 100, "reasons": []},
            view_label=label,
        )
        for index, (code, label, fmt, mime) in enumerate(VIEWS)
    ]


@pytest.fixture
def server() -> Iterator[MessagesApiServer]:
    with running_messages_api(api_key=KEY) as running:
        yield running


def _provider(
    server: MessagesApiServer, *, key: str = KEY, timeout_s: float = 5.0, max_retries: int = 0
) -> AnthropicProvider:
    return AnthropicProvider(
        api_key=key,
        model=MODEL,
        base_url=server.base_url,
        timeout_s=timeout_s,
        max_retries=max_retries,
    )


def test_suggestion_is_read_from_the_forced_tool_call(
    server: MessagesApiServer, images: list[ReviewImage]
) -> None:
    server.then(tool_use_reply(GOOD_ANSWER))
    suggestion = _provider(server).suggest(images)
    assert suggestion.overall_tracking == 1
    assert suggestion.oral_hygiene == 2
    assert suggestion.detail_tags == ("PLAQUE",)
    assert suggestion.confidence == 0.8
    assert suggestion.provider == "anthropic"
    assert suggestion.model == MODEL
    assert suggestion.cannot_judge is False


def test_request_carries_key_version_five_base64_images_and_the_forced_tool(
    server: MessagesApiServer, images: list[ReviewImage]
) -> None:
    server.then(tool_use_reply(GOOD_ANSWER))
    _provider(server).suggest(images)
    (request,) = server.requests
    assert presented_key(request.headers) == KEY
    assert request.headers["anthropic-version"]
    assert request.body["model"] == MODEL
    assert request.images == [(image.mime_type, image.data) for image in images]
    assert [tool["name"] for tool in request.body["tools"]] == [TOOL_NAME]
    assert request.body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    assert request.body["system"] == SYSTEM_PROMPT
    assert "GINGIVAL_INFLAMMATION" in SYSTEM_PROMPT
    assert "Needs attention (NO-GO" in SYSTEM_PROMPT
    captions = request.texts
    assert captions[0].startswith("Photo 1 (intraoral frontal, IV07)")
    assert "overall 91.5, focus 88, exposure 100" in captions[0]


def test_out_of_range_values_are_clamped_and_unknown_tags_dropped(
    server: MessagesApiServer, images: list[ReviewImage]
) -> None:
    answer = {
        **GOOD_ANSWER,
        "overall_tracking": 7,
        "oral_hygiene": "poor",
        "detail_tags": ["CARIES", "SPACE_OPENING", "SPACE_OPENING"],
        "confidence": 130,
    }
    server.then(tool_use_reply(answer))
    suggestion = _provider(server).suggest(images)
    assert suggestion.overall_tracking == 3
    assert suggestion.oral_hygiene == 3
    assert suggestion.detail_tags == ("SPACE_OPENING",)
    assert suggestion.dropped_tags == ("CARIES",)
    assert suggestion.confidence == 1.0


def test_unsupported_image_type_is_sent_as_jpeg(server: MessagesApiServer) -> None:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 100, 100)).save(out, "TIFF")
    tiff = ReviewImage("IV07", "image/tiff", out.getvalue())
    server.then(tool_use_reply(GOOD_ANSWER))
    _provider(server).suggest([tiff])
    ((media_type, data),) = server.requests[0].images
    assert media_type == "image/jpeg"
    assert Image.open(io.BytesIO(data)).size == (40, 30)


def test_server_errors_after_the_retries_are_a_503(
    server: MessagesApiServer, images: list[ReviewImage]
) -> None:
    server.then(*[error_reply(500, "api_error", "Internal server error")] * 3)
    with pytest.raises(ProviderFailed) as caught:
        _provider(server, max_retries=2).suggest(images)
    assert len(server.requests) == 3
    assert caught.value.status_code == 503
    assert "unavailable or overloaded (HTTP 500)" in caught.value.detail
    assert "tag the session by hand" in caught.value.detail
    assert KEY not in caught.value.detail


def test_overloaded_then_success_is_retried(
    server: MessagesApiServer, images: list[ReviewImage]
) -> None:
    server.then(error_reply(529, "overloaded_error", "Overloaded"), tool_use_reply(GOOD_ANSWER))
    suggestion = _provider(server, max_retries=1).suggest(images)
    assert suggestion.overall_tracking == 1
    assert len(server.requests) == 2


def test_overloaded_without_retries_left_is_a_503(
    server: MessagesApiServer, images: list[ReviewImage]
) -> None:
    server.then(error_reply(529, "overloaded_error", "Overloaded"))
    with pytest.raises(ProviderFailed, match=r"overloaded \(HTTP 529\)"):
        _provider(server).suggest(images)


def test_rate_limit_honours_retry_after(
    server: MessagesApiServer, images: list[ReviewImage]
) -> None:
    server.then(
        error_reply(429, "rate_limit_error", "Rate limited", **{"retry-after": "0"}),
        tool_use_reply(GOOD_ANSWER),
    )
    assert _provider(server, max_retries=1).suggest(images).oral_hygiene == 2
    assert len(server.requests) == 2


def test_rate_limit_without_retries_left_says_busy(
    server: MessagesApiServer, images: list[ReviewImage]
) -> None:
    server.then(error_reply(429, "rate_limit_error", "Rate limited"))
    with pytest.raises(ProviderFailed, match="busy"):
        _provider(server).suggest(images)


def test_bad_key_is_not_retried_and_not_echoed(
    server: MessagesApiServer, images: list[ReviewImage]
) -> None:
    wrong = "sk-ant-wrong-key-999"
    with pytest.raises(ProviderFailed, match="refused our credentials") as caught:
        _provider(server, key=wrong, max_retries=2).suggest(images)
    assert len(server.requests) == 1
    assert wrong not in caught.value.detail
    assert wrong not in repr(caught.value.extra)
    assert caught.value.extra["upstream_status"] == 401


def test_slow_answer_times_out(server: MessagesApiServer, images: list[ReviewImage]) -> None:
    server.then(Reply(**{**vars(tool_use_reply(GOOD_ANSWER)), "delay_s": 1.5}))
    with pytest.raises(ProviderFailed, match=r"did not answer within 0\.2 seconds"):
        _provider(server, timeout_s=0.2).suggest(images)


def test_unreachable_provider_is_a_503(images: list[ReviewImage]) -> None:
    with running_messages_api(api_key=KEY) as gone:
        base_url = gone.base_url
    provider = AnthropicProvider(KEY, MODEL, base_url, timeout_s=2.0, max_retries=0)
    with pytest.raises(ProviderFailed, match="could not be reached"):
        provider.suggest(images)


def test_text_only_answer_is_invalid(server: MessagesApiServer, images: list[ReviewImage]) -> None:
    server.then(text_reply("The aligners look fine to me."))
    with pytest.raises(ProviderAnswerInvalid, match="answered in text instead") as caught:
        _provider(server).suggest(images)
    assert caught.value.status_code == 502


def test_refusal_is_invalid_and_says_so(
    server: MessagesApiServer, images: list[ReviewImage]
) -> None:
    server.then(text_reply("I can't help with that.", stop_reason="refusal"))
    with pytest.raises(ProviderAnswerInvalid, match="declined"):
        _provider(server).suggest(images)


@pytest.mark.parametrize(
    ("tool_input", "message"),
    [
        ("this is not json", "not a JSON object"),
        ({**GOOD_ANSWER, "overall_tracking": [1, 2]}, "overall_tracking is not a number"),
        ({**GOOD_ANSWER, "detail_tags": {"PLAQUE": 1}}, "detail_tags is not a list"),
    ],
)
def test_malformed_tool_input_is_invalid(
    server: MessagesApiServer, images: list[ReviewImage], tool_input: object, message: str
) -> None:
    server.then(tool_use_reply(tool_input))
    with pytest.raises(ProviderAnswerInvalid, match=message):
        _provider(server).suggest(images)


def test_tool_input_as_a_json_string_is_read(
    server: MessagesApiServer, images: list[ReviewImage]
) -> None:
    server.then(tool_use_reply('{"overall_tracking": 2, "detail_tags": [], "cannot_judge": false}'))
    assert _provider(server).suggest(images).overall_tracking == 2


def test_a_call_of_another_tool_is_invalid(
    server: MessagesApiServer, images: list[ReviewImage]
) -> None:
    server.then(tool_use_reply(GOOD_ANSWER, tool_name="something_else"))
    with pytest.raises(ProviderAnswerInvalid):
        _provider(server).suggest(images)


def test_no_photos_is_refused_before_any_request(server: MessagesApiServer) -> None:
    with pytest.raises(InvalidInput, match="no photos"):
        _provider(server).suggest([])
    assert server.requests == []


def test_image_bytes_never_show_in_repr(images: list[ReviewImage]) -> None:
    assert "data" not in repr(images[0])
    assert "IV07" in repr(images[0])


def test_factory_builds_a_working_anthropic_provider(
    server: MessagesApiServer, images: list[ReviewImage]
) -> None:
    from pydantic import SecretStr

    provider = make_provider(
        "Anthropic",
        api_key=SecretStr(KEY),
        model=MODEL,
        base_url=server.base_url,
        timeout_s=5.0,
        max_retries=0,
    )
    server.then(tool_use_reply(GOOD_ANSWER))
    assert provider.name == "anthropic"
    assert provider.suggest(images).detail_tags == ("PLAQUE",)


def test_factory_refuses_anthropic_without_a_key() -> None:
    with pytest.raises(ConfigurationError, match="ORTHOLENS_ANTHROPIC_API_KEY is not set"):
        make_provider("anthropic", api_key=None, model=MODEL)


def test_factory_refuses_an_unknown_kind() -> None:
    with pytest.raises(ConfigurationError, match="must be one of anthropic, local"):
        make_provider("openai")


def test_factory_local_needs_nothing() -> None:
    assert isinstance(make_provider("local"), LocalProvider)


@pytest.mark.parametrize("body", ["plain text", None, [1, 2], {"type": "message"}])
def test_a_body_that_is_no_messages_response_is_invalid(
    server: MessagesApiServer, images: list[ReviewImage], body: object
) -> None:
    server.then(Reply(200, body))
    with pytest.raises(ProviderAnswerInvalid, match="not a Messages API response"):
        _provider(server).suggest(images)


def test_sdk_debug_logging_never_writes_the_photos_or_the_key(
    server: MessagesApiServer, images: list[ReviewImage], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="anthropic")
    server.then(tool_use_reply(GOOD_ANSWER))
    _provider(server).suggest(images)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert base64.b64encode(images[0].data).decode()[:40] not in logged
    assert KEY not in logged
