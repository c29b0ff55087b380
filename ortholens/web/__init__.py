"""Server-rendered pages (Jinja2 + htmx), their static files and the patient portal's PWA assets."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ortholens.runtime import Runtime
from ortholens.web.pages import router as pages_router
from ortholens.web.templating import STATIC_DIR
from ortholens.web.vendor import report_missing_assets
from ortholens.web.vendor import router as vendor_router

__all__ = ["install_web"]


def install_web(app: FastAPI, runtime: Runtime) -> None:
    """Add the pages, the vendored front-end packages and our static files to `app`."""
    report_missing_assets(runtime.settings.web_assets_dir)
    # The vendor route must come before the /static mount, which would otherwise claim its paths.
    app.include_router(vendor_router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
