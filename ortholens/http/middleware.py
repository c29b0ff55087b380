"""Request context for every HTTP request: a request id (header and logs), one structured log line,
Prometheus metrics, security headers and the request-body limit. Written as plain ASGI so
streamed bodies pass untouched."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable
from typing import Any

import structlog
from fastapi import params
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ortholens.http.problems import RequestBodyTooLarge, internal_error, payload_too_large
from ortholens.kit.request_context import RequestInfo, set_current_request

log = structlog.get_logger("ortholens.http")

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class HttpMetrics:
    """Request counters and latency histograms on the app's own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "ortholens_http_requests",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "ortholens_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route"],
            registry=registry,
        )


def security_headers(*, https: bool, extra_sources: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Headers sent with every response. `extra_sources` are origins the pages may load media from
    (an S3 endpoint serving presigned downloads)."""
    media = " ".join(["'self'", "data:", "blob:", *extra_sources])
    csp = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {media}",
            f"media-src {media}",
            f"connect-src 'self' {' '.join(extra_sources)}".strip(),
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "worker-src 'self'",
            "manifest-src 'self'",
        ]
    )
    headers = [
        ("Content-Security-Policy", csp),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        # Invite and signed links carry tokens in their paths: never leak them in Referer.
        ("Referrer-Policy", "no-referrer"),
        ("Permissions-Policy", "camera=(self), microphone=(), geolocation=(), payment=()"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
    ]
    if https:
        headers.append(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
    return headers


# Every request body is limited to this, counted as it streams in, before anything parses it:
# JSON, url-encoded forms, and whatever else a route would read whole. Two kinds keep their own
# limits: multipart uploads to routes that take files (parts are spooled to disk and each route
# checks its file's size) and the raw upload route, which counts against its signed grant.
JSON_BODY_LIMIT = 1024 * 1024
STREAMED_BODY_ROUTES = frozenset({"/api/storage/objects/{key:path}"})


def _takes_files(dependant: Any) -> bool:
    """Whether a route (its FastAPI dependant, sub-dependencies included) declares a File."""
    if dependant is None:
        return False
    if any(isinstance(p.field_info, params.File) for p in dependant.body_params):
        return True
    return any(_takes_files(sub) for sub in dependant.dependencies)


def body_limit(scope: Scope) -> int | None:
    """The most body bytes the matched route may be sent, or None where the route counts its own.

    Read when the app first asks for the body, so the route has been matched by then."""
    route = scope.get("route")
    if getattr(route, "path", None) in STREAMED_BODY_ROUTES:
        return None
    media_type = _header(scope, b"content-type").split(";", 1)[0].strip().lower()
    if media_type == "multipart/form-data" and _takes_files(getattr(route, "dependant", None)):
        return None
    return JSON_BODY_LIMIT


def _header(scope: Scope, name: bytes) -> str:
    # Not `Headers(scope=scope)`: that replaces scope["headers"] with a copy, and the pages'
    # CSRF check appends to the list a Request already holds.
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


def _declared_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    return int(value) if value.isdigit() else None


def limited_receive(scope: Scope, receive: Receive) -> Receive:
    """`receive` that raises RequestBodyTooLarge (413) once the declared or the streamed body
    passes the route's limit: nothing past it is read, so nothing past it is buffered."""
    limit: int | None = None
    decided = False
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal limit, decided, received
        if not decided:
            decided, limit = True, body_limit(scope)
            declared = _declared_length(scope)
            if limit is not None and declared is not None and declared > limit:
                raise RequestBodyTooLarge(limit)
        message = await receive()
        if limit is not None and message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise RequestBodyTooLarge(limit)
        return message

    return receive_within_limit


def internal_error_response(scope: Scope) -> ASGIApp:
    return internal_error(Request(scope))


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, *, metrics: HttpMetrics, headers: list[tuple[str, str]]
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = (
            dict(scope["headers"]).get(REQUEST_ID_HEADER.lower().encode(), b"").decode("latin-1")
        )
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        client = scope.get("client")
        set_current_request(RequestInfo(request_id=request_id, ip=client[0] if client else None))
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                for name, value in self.headers:
                    headers.setdefault(name, value)
                if scope["path"].startswith("/api/"):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        response_started = False

        async def tracked_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send_with_headers(message)

        try:
            await self.app(scope, limited_receive(scope, receive), tracked_send)
        except RequestBodyTooLarge as exc:
            # Normally answered by the app's handlers; this catches a body read outside a route.
            if response_started:
                raise
            await payload_too_large(Request(scope), exc)(scope, receive, send_with_headers)
        except Exception as exc:
            # Handled here rather than by Starlette's outermost error middleware so that a 500
            # still carries the request id and security headers.
            log.error("request.unhandled", error_type=type(exc).__name__, exc_info=exc)
            if response_started:
                raise
            await internal_error_response(scope)(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            # The route template (not the raw path) keeps ids and tokens out of logs and metrics.
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            log.info(
                "request",
                method=method,
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 1),
            )
            structlog.contextvars.unbind_contextvars("request_id")
