"""RFC 9457 problem details for every error the API returns.

Domain code raises `OrthoLensError` subclasses; validation errors, unknown routes and unexpected
exceptions are mapped here too, so a client only ever sees `application/problem+json` with `type`,
`title`, `status`, `detail`, `instance` and the request id; never a stack trace, SQL or PHI.
Unexpected exceptions are caught by `RequestContextMiddleware`, which answers with `internal_error`.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ortholens.kit.errors import OrthoLensError

log = structlog.get_logger(__name__)

PROBLEM_TYPE_BASE = "https://ortholens.org/problems/"
MEDIA_TYPE = "application/problem+json"


def problem_response(
    request: Request,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


async def _ortholens_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OrthoLensError)
    if exc.status_code >= 500:
        log.error("request.error", error_type=type(exc).__name__)
    headers: dict[str, str] = {}
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="ortholens"'
    retry_after = exc.extra.get("retry_after_seconds")
    if exc.status_code == 429 and isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    return problem_response(
        request,
        status=exc.status_code,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        headers=headers,
        **exc.extra,
    )


def _safe_validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Pydantic echoes the offending input; it may be PHI, so only the location and message go out.
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(
        request,
        status=422,
        slug="invalid-input",
        title="Invalid input",
        detail="The request does not match what this endpoint accepts.",
        errors=_safe_validation_errors(exc),
    )


class RequestBodyTooLarge(StarletteHTTPException):
    """Raised while a request body is read, once it passes its limit (`http.middleware`). An
    HTTPException, so FastAPI passes it on from its body parsing instead of making it a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413, f"The request body is larger than this endpoint accepts ({limit // 1024} KB)."
        )


def payload_too_large(request: Request, exc: RequestBodyTooLarge) -> JSONResponse:
    # The connection still holds the unread rest of the body: close it rather than drain it.
    return problem_response(
        request,
        status=413,
        slug="payload-too-large",
        title="Payload too large",
        detail=str(exc.detail),
        headers={"Connection": "close"},
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, RequestBodyTooLarge):
        return payload_too_large(request, exc)
    titles = {404: "Not found", 405: "Method not allowed", 401: "Authentication required"}
    title = titles.get(exc.status_code, "HTTP error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404:
        detail = "Nothing exists at this address."
    return problem_response(
        request,
        status=exc.status_code,
        slug=title.lower().replace(" ", "-"),
        title=title,
        detail=detail,
        headers=getattr(exc, "headers", None),
    )


def internal_error(request: Request) -> JSONResponse:
    """The response for an unexpected error: nothing about its cause leaves the server."""
    return problem_response(
        request,
        status=500,
        slug="internal-error",
        title="Internal server error",
        detail="Something went wrong on our side. Quote the request id when reporting it.",
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error as problem+json."""
    app.add_exception_handler(OrthoLensError, _ortholens_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
