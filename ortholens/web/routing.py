"""How page routes answer when something goes wrong: HTML pages and redirects, never problem+json.

Page handlers and their dependencies raise like any other code (`OrthoLensError`, or
`PageResponse` to answer with a ready page), so the request's transaction rolls back and deferred
records (a refused sign-in's throttle count, a denied attempt's audit event) are written. The app's
exception handlers then answer with HTML for routes of the pages routers (`PageRoute`) and keep
problem+json for the API.

    Unauthorized     -> 303 to the sign-in page (or through the refresh hop when the access
                        cookie has expired but a session may still be alive)
    other errors     -> an error page with the same status (a fragment for htmx requests)
    PageResponse     -> the response it carries (a form shown again with its error, a redirect)
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar
from urllib.parse import quote, urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

from ortholens.auth.deps import SAFE_METHODS
from ortholens.kit.errors import InvalidInput, NotFound, OrthoLensError, Unauthorized
from ortholens.web.session import may_resume
from ortholens.web.templating import render

Handler = Callable[[Request, Any], Response | Awaitable[Response]]

STAFF_LOGIN = "/login"
PATIENT_LOGIN = "/portal/login"
STAFF_REFRESH = "/api/auth/web-refresh"
PATIENT_REFRESH = "/api/patient-auth/web-refresh"


class PageRoute(APIRoute):
    """A route of the staff pages: errors answer as staff-layout HTML."""

    audience: ClassVar[str] = "staff"


class PortalRoute(PageRoute):
    """A route of the patient portal: errors answer in the portal layout, sign-in is the portal's."""

    audience: ClassVar[str] = "patient"


class PageResponse(Exception):
    """Answer with `response`, after rolling back the request's transaction."""

    def __init__(self, response: Response) -> None:
        super().__init__("page response")
        self.response = response


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def safe_next(value: str | None, default: str = "/") -> str:
    """`value` if it is a path on this site, else `default` (no open redirects).

    Refuses absolute and scheme-relative URLs (`//evil`, `/\\evil`), anything with a scheme or
    host, and control characters.
    """
    if not value or len(value) > 2000 or not value.startswith("/"):
        return default
    if value.startswith(("//", "/\\")) or any(
        ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in value
    ):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def redirect(request: Request, url: str) -> Response:
    """A 303 to `url`; for htmx requests an `HX-Redirect`, so the whole page changes."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _current_page(request: Request) -> str | None:
    """The page the user was looking at, to come back to after signing in."""
    if is_htmx(request):
        current = request.headers.get("hx-current-url", "")
        parts = urlsplit(current)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return safe_next(path, default="") or None
    if request.method in SAFE_METHODS:
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    return None


def sign_in_redirect(request: Request, *, patient: bool) -> Response:
    """Send the user to sign in, coming back to this page afterwards.

    A GET whose access cookie has expired while the browser still had a session (see
    `ortholens.web.session`) first goes through the refresh hop, which rotates the tokens and comes
    straight back, or falls through to the sign-in form. Only an *absent* access cookie leads there,
    so a refused one can never loop.
    """
    login, refresh_path = (
        (PATIENT_LOGIN, PATIENT_REFRESH) if patient else (STAFF_LOGIN, STAFF_REFRESH)
    )
    back = _current_page(request)
    query = f"?next={quote(back, safe='/')}" if back and back != "/" else ""
    resume = request.method in SAFE_METHODS and may_resume(request, patient=patient)
    return redirect(request, f"{refresh_path if resume else login}{query}")


def error_page(request: Request, error: OrthoLensError, *, patient: bool) -> Response:
    """The friendly page for an error (a fragment aimed at the page's alert area for htmx)."""
    context = {"status": error.status_code, "title": error.title, "detail": error.detail}
    headers: dict[str, str] = {}
    retry_after = error.extra.get("retry_after_seconds")
    if isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    if is_htmx(request):
        headers |= {"HX-Retarget": "#page-alerts", "HX-Reswap": "innerHTML"}
        return render(
            request,
            "fragments/alert.html",
            {"kind": "error", "message": error.detail},
            status_code=error.status_code,
            headers=headers,
        )
    template = "portal/error.html" if patient else "error.html"
    return render(request, template, context, status_code=error.status_code, headers=headers)


def _page_route(request: Request) -> PageRoute | None:
    route = request.scope.get("route")
    return route if isinstance(route, PageRoute) else None


def _page_or(api_handler: Handler) -> Handler:
    """Answer page routes with HTML; everything else as the API does."""

    async def handle(request: Request, exc: Exception) -> Response:
        route = _page_route(request)
        if route is None:
            answer = api_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        patient = route.audience == "patient"
        if isinstance(exc, RequestValidationError):
            # Page forms check their fields in their handlers; what is left is a malformed
            # address (a path that names nothing) or a field longer than any form sends.
            in_path = any(error.get("loc", ("",))[0] == "path" for error in exc.errors())
            refused: OrthoLensError = (
                NotFound("Nothing exists at this address.")
                if in_path
                else InvalidInput("Some of what was sent is too long or not valid.")
            )
            return error_page(request, refused, patient=patient)
        assert isinstance(exc, OrthoLensError)
        if isinstance(exc, Unauthorized):
            return sign_in_redirect(request, patient=patient)
        return error_page(request, exc, patient=patient)

    return handle


async def _page_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageResponse)
    return exc.response


def install_page_errors(app: FastAPI) -> None:
    """Let page routes answer errors with HTML; call after the API's problem handlers exist."""
    for exc_class in (OrthoLensError, RequestValidationError):
        app.add_exception_handler(exc_class, _page_or(app.exception_handlers[exc_class]))
    app.add_exception_handler(PageResponse, _page_response)


class QueryFilters:
    """Mixin for a page's filter dataclass: its non-empty fields as a query string."""

    def query(self, **extra: object) -> str:
        """The filters (plus `extra`, e.g. a cursor) as `a=1&b=2`, leaving out empty values."""
        values = {k: v for k, v in vars(self).items() if v} | {k: v for k, v in extra.items() if v}
        return urlencode(values)

    @property
    def active(self) -> bool:
        """True when any filter is set."""
        return any(vars(self).values())
