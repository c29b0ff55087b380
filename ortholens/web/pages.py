"""The shell's pages: staff home, system status (with its htmx fragment), the patient portal and
its web app manifest. No page here shows patient data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from ortholens.auth.deps import Public
from ortholens.health.service import run_checks
from ortholens.http.deps import RuntimeDep
from ortholens.runtime import Runtime
from ortholens.web.templating import (
    BACKGROUND_COLOR,
    PRODUCT_NAME,
    THEME_COLOR,
    static_url,
    templates,
)

router = APIRouter(include_in_schema=False, dependencies=[Public])

NO_STORE = {"Cache-Control": "no-store"}


def _deployment(runtime: Runtime) -> dict[str, str]:
    """Which backends this process runs on (names only: never URLs, hosts or credentials)."""
    settings = runtime.settings
    return {
        "Environment": settings.environment.value,
        "Database": runtime.engine.dialect.name,
        "Object store": settings.storage_backend.value,
        "Job queue": "redis" if settings.redis_url else "sqlite",
    }


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    """Staff home: what OrthoLens does and where to go next."""
    return templates.TemplateResponse(request, "home.html")


@router.get("/system", response_class=HTMLResponse)
def system(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    """System status: version, deployment shape and live readiness checks."""
    return templates.TemplateResponse(
        request, "system.html", {"deployment": _deployment(runtime)}, headers=NO_STORE
    )


@router.get("/ui/status", response_class=HTMLResponse)
def status_fragment(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    """HTML fragment with one row per readiness check (loaded by htmx on the status page)."""
    checks = run_checks(runtime)
    return templates.TemplateResponse(
        request,
        "fragments/status.html",
        {"checks": checks, "all_ok": all(check.ok for check in checks.values())},
        headers=NO_STORE,
    )


@router.get("/portal", response_class=HTMLResponse)
def portal_home(request: Request) -> HTMLResponse:
    """Patient portal home (mobile-first)."""
    return templates.TemplateResponse(request, "portal/home.html")


@router.get("/portal/help", response_class=HTMLResponse)
def portal_help(request: Request) -> HTMLResponse:
    """Patient portal help: how remote monitoring works and how to take good photos."""
    return templates.TemplateResponse(request, "portal/help.html")


@router.get("/manifest.webmanifest")
def manifest() -> JSONResponse:
    """Web app manifest that lets patients install the portal on their home screen."""
    body: dict[str, Any] = {
        "name": PRODUCT_NAME,
        "short_name": PRODUCT_NAME,
        "description": "Send progress photos to your orthodontist and follow your treatment.",
        "id": "/portal",
        "start_url": "/portal",
        "scope": "/portal",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            {"src": static_url("img/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {
                "src": static_url("img/icon-maskable.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
                "purpose": "maskable",
            },
        ],
    }
    return JSONResponse(body, media_type="application/manifest+json")
