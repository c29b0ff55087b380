"""The Jinja2 environment every page renders with, and the context the layouts rely on."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.requests import Request

from ortholens import __version__
from ortholens.auth.cookie_names import cookie_names
from ortholens.auth.deps import CSRF_FORM_FIELD, token_signer
from ortholens.auth.tokens import REFRESH_TTL
from ortholens.web.nav import portal_nav, staff_nav

PACKAGE_DIR = Path(__file__).parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

PRODUCT_NAME = "OrthoLens"
THEME_COLOR = "#0f766e"
BACKGROUND_COLOR = "#f6f8fa"


def static_url(path: str) -> str:
    """URL of one of our own static files; the version makes an upgrade bypass browser caches."""
    return f"/static/{path.lstrip('/')}?v={__version__}"


def vendor_url(name: str) -> str:
    """URL of an allow-listed front-end package file (see `ortholens.web.vendor`)."""
    return f"/static/vendor/{name}"


NO_STORE = {"Cache-Control": "no-store"}
_MINTED_CSRF = "ortholens_minted_csrf"


def csrf_token(request: Request) -> str:
    """The CSRF token this page's forms carry: the signed-in session's own (an HMAC of its id,
    `TokenSigner.csrf_token`), else the `ol_csrf` cookie's value (double submit, sign-in forms).

    A browser without one (first visit, or a cross-site navigation that withheld the SameSite
    cookie) gets a new token, which `render` sets as the cookie on the same response.
    """
    principal = getattr(request.state, "staff", None) or getattr(request.state, "patient", None)
    if principal is not None:
        return token_signer(request).csrf_token(principal.session_id)
    minted: str | None = getattr(request.state, _MINTED_CSRF, None)
    if minted:
        return minted
    cookie = request.cookies.get(cookie_names(request).csrf)
    if cookie:
        return cookie
    token = secrets.token_urlsafe(32)
    setattr(request.state, _MINTED_CSRF, token)
    return token


def _shell_context(request: Request) -> dict[str, Any]:
    path = request.url.path
    staff = getattr(request.state, "staff", None)
    counts = getattr(request.state, "menu_counts", None)
    return {
        "product_name": PRODUCT_NAME,
        "version": __version__,
        "theme_color": THEME_COLOR,
        "path": path,
        "staff": staff,
        "staff_user": getattr(request.state, "staff_user", None),
        "staff_nav": staff_nav.visible_to(staff.role) if staff else [],
        "menu_counts": asdict(counts) if counts is not None else {},
        "staff_nav_active": staff_nav.active(path),
        "portal_nav": portal_nav.ordered(),
        "portal_nav_active": portal_nav.active(path),
        "csrf_token": csrf_token(request),
        "csrf_field": CSRF_FORM_FIELD,
    }


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page or fragment; never cached (pages carry personal data and CSRF tokens)."""
    response = templates.TemplateResponse(
        request,
        name,
        dict(context or {}),
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
    )
    minted: str | None = getattr(request.state, _MINTED_CSRF, None)
    if minted:
        response.set_cookie(
            cookie_names(request).csrf,
            minted,
            max_age=int(REFRESH_TTL.total_seconds()),
            secure=True,
            samesite="strict",
            path="/",
        )
    return response


def format_datetime(value: datetime | None) -> str:
    """`2025-03-04 14:05 UTC`: times are stored and shown in UTC."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def format_date(value: date | datetime | None) -> str:
    return value.strftime("%d %b %Y") if value else "—"


# Enum values whose spelling a person would not guess from the code name.
WORDS = {
    "XRAY": "X-ray",
    "CBCT": "CBCT",
    "SCAN_3D": "3D scan",
    "DICOM": "DICOM",
    "ITERO": "iTero",
    "STL": "STL",
    "PLY": "PLY",
    "OBJ": "OBJ",
    "3MF": "3MF",
    "PATIENT_APP": "Patient app",
}


def humanize(value: object) -> str:
    """`clinic_admin` / `PHOTOGRAPHY` / `XRAY` -> `Clinic admin` / `Photography` / `X-ray`."""
    raw = str(getattr(value, "value", value))
    if raw.upper() in WORDS:
        return WORDS[raw.upper()]
    text = raw.replace("_", " ").lower()
    return text[:1].upper() + text[1:]


def breakable_email(address: str) -> Markup:
    """An e-mail address that may wrap before the @ and after a dot, never inside a word: each
    piece is a `.nowrap` span (a hyphen inside one is no break either)."""
    local, at, domain = address.partition("@")
    pieces = [local]
    if at:
        labels = domain.split(".")
        pieces.append("@" + labels[0] + ("." if len(labels) > 1 else ""))
        pieces += [label + "." for label in labels[1:-1]]
        if len(labels) > 1:
            pieces.append(labels[-1])
    spans = [Markup('<span class="nowrap">{}</span>').format(piece) for piece in pieces if piece]
    return Markup("<wbr>").join(spans)


def plural(count: int, singular: str, many: str | None = None) -> str:
    """`1 photo`, `2 photos`, `0 photos` (`many` for irregular words)."""
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


def _build_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template is HTML; escape everything not marked safe
        undefined=jinja2.StrictUndefined,  # a misspelt variable fails loudly, never renders blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(static_url=static_url, vendor_url=vendor_url)
    env.filters.update(
        datetime=format_datetime,
        date=format_date,
        humanize=humanize,
        plural=plural,
        email=breakable_email,
    )
    return env


templates = Jinja2Templates(env=_build_environment(), context_processors=[_shell_context])
