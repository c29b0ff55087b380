"""Server-rendered pages (Jinja2 + htmx), their static files and the patient portal's PWA assets."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ortholens.kit.resources import Resources
from ortholens.web import (
    account,
    audit_trail,
    failed_photos,
    messages_page,
    monitoring,
    pages,
    patients,
    photos,
    portal,
    review_page,
    scan_import,
    scans,
    sign_in,
    staff,
)
from ortholens.web.routing import install_page_errors
from ortholens.web.templating import STATIC_DIR
from ortholens.web.vendor import report_missing_assets
from ortholens.web.vendor import router as vendor_router

__all__ = ["install_web"]

PAGE_ROUTERS = [
    pages.router,
    pages.portal_router,
    sign_in.router,
    account.router,
    staff.router,
    audit_trail.router,
    patients.router,
    photos.router,
    failed_photos.router,
    scans.router,
    scan_import.router,
    portal.router,
    monitoring.router,
    review_page.router,
    messages_page.router,
    messages_page.portal_router,
]


def install_web(app: FastAPI, runtime: Resources) -> None:
    """Add the pages, the vendored front-end packages and our static files to `app`.

    Call after the API's problem handlers are installed: page routes answer errors with HTML.
    """
    report_missing_assets(runtime.settings.web_assets_dir)
    # The vendor route must come before the /static mount, which would otherwise claim its paths.
    app.include_router(vendor_router)
    for router in PAGE_ROUTERS:
        app.include_router(router)
    install_page_errors(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
