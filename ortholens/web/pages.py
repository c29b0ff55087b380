"""The shell's pages: staff home (the worklist), system status (with its htmx fragment), the portal's help page,
its web app manifest and its service worker."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from ortholens.auth.deps import Public
from ortholens.auth.policy import Permission, allowed, grant
from ortholens.auth.principals import Authorized, StaffPrincipal
from ortholens.dashboard import service as dashboard
from ortholens.dashboard import worklist
from ortholens.health.service import run_checks
from ortholens.http.deps import RuntimeDep, SessionDep, SettingsDep, StoreDep
from ortholens.kit.db import outside_transaction
from ortholens.kit.resources import Resources
from ortholens.web.auth import PageCsrf, StaffPage
from ortholens.web.routing import PageRoute, PortalRoute
from ortholens.web.templating import (
    BACKGROUND_COLOR,
    PRODUCT_NAME,
    STATIC_DIR,
    THEME_COLOR,
    render,
    static_url,
)

router = APIRouter(include_in_schema=False, route_class=PageRoute, dependencies=[PageCsrf])
portal_router = APIRouter(include_in_schema=False, route_class=PortalRoute, dependencies=[PageCsrf])


def _deployment(runtime: Resources) -> dict[str, str]:
    """Which backends this process runs on (names only: never URLs, hosts or credentials)."""
    settings = runtime.settings
    return {
        "Environment": settings.environment.value,
        "Database": runtime.engine.dialect.name,
        "Object store": settings.storage_backend.value,
        "Job queue": "redis" if settings.redis_url else "sqlite",
    }


WORKLIST_CHECK_INS = 15
WORKLIST_THREADS = 8
WORKLIST_OVERDUE = 8
HOME_NOTICES = {
    "queue-done": "Review saved. That was the last check-in waiting: the queue is empty."
}


def _as(principal: StaffPrincipal, permission: Permission) -> Authorized | None:
    """The principal authorized for `permission` with the role's scope, or None without it."""
    scope = grant(principal.role, permission)
    return Authorized(principal, permission, scope) if scope is not None else None


@router.get("/", response_class=HTMLResponse)
def home(
    *,
    request: Request,
    db: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    principal: StaffPage,
    notice: str = "",
) -> HTMLResponse:
    """Staff home: the worklist (check-ins to review, unread messages, overdue patients) for
    roles that monitor patients, and where to go next for every role."""
    can = {permission.value: allowed(principal.role, permission) for permission in Permission}
    monitor = _as(principal, Permission.MONITORING_READ)
    viewer = _as(principal, Permission.IMAGING_VIEW)
    reader = _as(principal, Permission.MESSAGES_READ)
    queue: list[worklist.QueueEntry] = []
    more = False
    if monitor is not None and viewer is not None:
        queue, more = worklist.review_queue(
            db, store, viewer, limit=WORKLIST_CHECK_INS, url_seconds=settings.signed_url_seconds
        )
    overdue = dashboard.overdue(db, monitor, None) if monitor is not None else []
    unread = worklist.unread_threads(db, reader, limit=WORKLIST_THREADS) if reader else []
    return render(
        request,
        "home.html",
        {
            "can": can,
            "has_worklist": monitor is not None,
            "queue": queue,
            "queue_more": more,
            "unread": unread,
            "overdue": overdue[:WORKLIST_OVERDUE],
            "overdue_total": len(overdue),
            "notice": HOME_NOTICES.get(notice),
        },
    )


@router.get("/system", response_class=HTMLResponse)
def system(request: Request, runtime: RuntimeDep, principal: StaffPage) -> HTMLResponse:
    """System status: version, deployment shape and live readiness checks."""
    return render(request, "system.html", {"deployment": _deployment(runtime)})


@router.get("/ui/status", response_class=HTMLResponse)
def status_fragment(
    request: Request, runtime: RuntimeDep, db: SessionDep, principal: StaffPage
) -> HTMLResponse:
    """HTML fragment with one row per readiness check (loaded by htmx on the status page)."""
    # Outside the sign-in check's transaction: the checks use their own connections and must not
    # wait behind ours (which writes this page's audit rows when it ends).
    with outside_transaction(db):
        checks = run_checks(runtime)
    return render(
        request,
        "fragments/status.html",
        {"checks": checks, "all_ok": all(check.ok for check in checks.values())},
    )


@portal_router.get("/portal/help", response_class=HTMLResponse, dependencies=[Public])
def portal_help(request: Request) -> HTMLResponse:
    """Patient portal help: how remote monitoring works and how to take good photos."""
    return render(request, "portal/help.html")


@portal_router.get("/manifest.webmanifest", dependencies=[Public])
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


@portal_router.get("/sw.js", dependencies=[Public])
def service_worker() -> FileResponse:
    """The portal's service worker (push notifications), from the site root so that it may
    control every page; never cached, so an update reaches phones on their next visit."""
    return FileResponse(
        STATIC_DIR / "portal" / "sw.js",
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
    )
