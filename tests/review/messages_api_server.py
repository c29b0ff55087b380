"""A local server that speaks the Anthropic Messages API (`POST /v1/messages`), for provider tests.

It checks what the real API checks that matters to us (the API key, sent as `x-api-key` or as
`Authorization: Bearer`; the `anthropic-version` header; the body's shape: model, max_tokens,
messages with base64 image blocks whose bytes match their media type, tools and tool_choice) and
answers with a Messages API response or an error
body in the API's format. Tests script the answers and read back what was received:

    with running_messages_api(api_key="test-key") as server:
        server.then(tool_use_reply({...}))          # next answer; queue several for retries
        provider = AnthropicProvider(api_key="test-key", base_url=server.base_url, ...)
        ...
        server.requests[0].images                   # [(media_type, decoded bytes), ...]

When the script is empty it answers 500 (a test that forgot to script an answer fails loudly).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.threaded_server import serve_in_thread

IMAGE_MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}
# Retry delay the scripted errors ask for (the SDK honours it), so retry tests stay fast.
FAST_RETRY_HEADERS = {"retry-after-ms": "10"}


@dataclass
class Reply:
    """One scripted answer: a status, a JSON body, headers and an optional delay before it."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class ReceivedRequest:
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, or None when the body was not JSON

    @property
    def images(self) -> list[tuple[str, bytes]]:
        """(media_type, decoded bytes) of every base64 image block in the messages, in order."""
        found: list[tuple[str, bytes]] = []
        for message in self.body.get("messages", []):
            content = message.get("content")
            for block in content if isinstance(content, list) else []:
                if block.get("type") == "image":
                    source = block["source"]
                    found.append((source["media_type"], base64.b64decode(source["data"])))
        return found

    @property
    def texts(self) -> list[str]:
        texts: list[str] = []
        for message in self.body.get("messages", []):
            content = message.get("content")
            if isinstance(content, str):
                texts.append(content)
            for block in content if isinstance(content, list) else []:
                if block.get("type") == "text":
                    texts.append(block["text"])
        return texts


def tool_use_reply(tool_input: Any, *, tool_name: str = "record_review_tags") -> Reply:
    """A successful answer whose content is one forced tool call with this input."""
    return Reply(
        200, _message([{"type": "tool_use", "name": tool_name, "input": tool_input}], "tool_use")
    )


def text_reply(text: str, *, stop_reason: str = "end_turn") -> Reply:
    """A successful answer with text only (no tool call)."""
    return Reply(200, _message([{"type": "text", "text": text}], stop_reason))


def error_reply(status: int, error_type: str, message: str, **headers: str) -> Reply:
    """An error in the API's format, e.g. 529 overloaded_error."""
    body = {"type": "error", "error": {"type": error_type, "message": message}}
    return Reply(status, body, {**FAST_RETRY_HEADERS, **headers})


class MessagesApiServer:
    """The scripted Messages API; `base_url` is set once it runs."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.base_url = ""
        self.requests: list[ReceivedRequest] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/v1/messages", self._messages, methods=["POST"])])

    def then(self, *replies: Reply) -> None:
        """Queue the next answers, in order."""
        with self._lock:
            self._script.extend(replies)

    async def _messages(self, request: Request) -> Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            body = await request.json()
        except ValueError:
            body = None
        with self._lock:
            self.requests.append(ReceivedRequest(headers, body))
        if presented_key(headers) != self.api_key:
            return _error(401, "authentication_error", "invalid x-api-key")
        if not headers.get("anthropic-version"):
            return _error(400, "invalid_request_error", "anthropic-version: header is required")
        problem = _body_problem(body)
        if problem:
            return _error(400, "invalid_request_error", problem)
        with self._lock:
            reply = self._script.popleft() if self._script else None
        if reply is None:
            return _error(500, "api_error", "the test did not script an answer")
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        payload = reply.body
        if isinstance(payload, dict) and payload.get("type") == "message":
            payload = {**payload, "model": body["model"]}
        return JSONResponse(payload, status_code=reply.status, headers=reply.headers)


@contextmanager
def running_messages_api(api_key: str) -> Iterator[MessagesApiServer]:
    """Serve a MessagesApiServer with uvicorn in a thread on 127.0.0.1 and a free port."""
    server = MessagesApiServer(api_key)
    with serve_in_thread(server.app, name="messages-api") as base_url:
        server.base_url = base_url
        yield server


_ids = itertools.count(1)


def presented_key(headers: dict[str, str]) -> str | None:
    """The API key of a request: `x-api-key`, or `Authorization: Bearer` (which SDK 2.x sends)."""
    if "x-api-key" in headers:
        return headers["x-api-key"]
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def _message(content: list[dict[str, Any]], stop_reason: str) -> dict[str, Any]:
    for block in content:
        if block["type"] == "tool_use":
            block.setdefault("id", f"toolu_{next(_ids):06d}")
    return {
        "id": f"msg_{next(_ids):06d}",
        "type": "message",
        "role": "assistant",
        "model": "",  # filled with the requested model
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 1200, "output_tokens": 80},
    }


def _error(status: int, error_type: str, message: str) -> JSONResponse:
    body = {"type": "error", "error": {"type": error_type, "message": message}}
    return JSONResponse(body, status_code=status)


def _body_problem(body: Any) -> str | None:
    """What is wrong with a /v1/messages body, as the API would say it; None when it is fine."""
    if not isinstance(body, dict):
        return "body: must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: field required"
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        return "max_tokens: must be a positive integer"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for index, message in enumerate(messages):
        if message.get("role") not in ("user", "assistant"):
            return f"messages.{index}.role: must be user or assistant"
        content = message.get("content")
        if isinstance(content, str):
            continue
        if not isinstance(content, list) or not content:
            return f"messages.{index}.content: must be a string or a non-empty list"
        for number, block in enumerate(content):
            problem = _block_problem(block)
            if problem:
                return f"messages.{index}.content.{number}: {problem}"
    system = body.get("system")
    if system is not None and not isinstance(system, str | list):
        return "system: must be a string or a list of text blocks"
    tools = body.get("tools", [])
    names = set()
    for index, tool in enumerate(tools):
        schema = tool.get("input_schema")
        if not isinstance(tool.get("name"), str) or not isinstance(schema, dict):
            return f"tools.{index}: name and input_schema are required"
        if schema.get("type") != "object":
            return f"tools.{index}.input_schema.type: must be object"
        names.add(tool["name"])
    choice = body.get("tool_choice")
    if choice is not None and choice.get("type") == "tool" and choice.get("name") not in names:
        return "tool_choice.name: no tool of that name"
    return None


def _block_problem(block: Any) -> str | None:
    if not isinstance(block, dict):
        return "must be an object"
    kind = block.get("type")
    if kind == "text":
        return None if isinstance(block.get("text"), str) and block["text"] else "text: empty"
    if kind != "image":
        return f"type: unexpected {kind!r}"
    source = block.get("source")
    if not isinstance(source, dict) or source.get("type") != "base64":
        return "image.source.type: this server expects base64"
    media_type = source.get("media_type")
    if media_type not in IMAGE_MAGIC:
        return f"image.source.media_type: {media_type!r} is not supported"
    try:
        data = base64.b64decode(source.get("data", ""), validate=True)
    except (binascii.Error, ValueError):
        return "image.source.data: not valid base64"
    if not data.startswith(IMAGE_MAGIC[media_type]):
        return f"image.source.data: the bytes are not {media_type}"
    return None
