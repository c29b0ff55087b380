"""Request context for every HTTP request: a request id (header and logs), one structured log line,
Prometheus metrics and security headers. Written as plain ASGI so streamed bodies pass untouched."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ortholens.http.problems import internal_error
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
            await self.app(scope, receive, tracked_send)
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
