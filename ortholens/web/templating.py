"""The Jinja2 environment every page renders with, and the context the layouts rely on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi.templating import Jinja2Templates
from starlette.requests import Request

from ortholens import __version__
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


def _shell_context(request: Request) -> dict[str, Any]:
    path = request.url.path
    return {
        "product_name": PRODUCT_NAME,
        "version": __version__,
        "theme_color": THEME_COLOR,
        "staff_nav": staff_nav.ordered(),
        "staff_nav_active": staff_nav.active(path),
        "portal_nav": portal_nav.ordered(),
        "portal_nav_active": portal_nav.active(path),
    }


def _build_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template is HTML; escape everything not marked safe
        undefined=jinja2.StrictUndefined,  # a misspelt variable fails loudly, never renders blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(static_url=static_url, vendor_url=vendor_url)
    return env


templates = Jinja2Templates(env=_build_environment(), context_processors=[_shell_context])
