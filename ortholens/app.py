"""The FastAPI application factory: routers, middleware, error rendering and the web pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from ortholens import __version__
from ortholens.audit_trail.endpoints import router as audit_router
from ortholens.auth.endpoints import router as auth_router
from ortholens.clinic.endpoints import router as clinic_router
from ortholens.consent.endpoints import router as consent_router
from ortholens.dashboard.endpoints import router as dashboard_router
from ortholens.export.endpoints import router as export_router
from ortholens.health.endpoints import JobGauges
from ortholens.health.endpoints import router as health_router
from ortholens.http.allow import install_allow_header
from ortholens.http.middleware import HttpMetrics, RequestContextMiddleware, security_headers
from ortholens.http.openapi import install_openapi
from ortholens.http.problems import install_problem_handlers
from ortholens.image.endpoints import router as image_router
from ortholens.intraoral.endpoints import router as intraoral_router
from ortholens.intraoral.export_endpoints import router as scan_export_router
from ortholens.intraoral.itero_endpoints import router as itero_router
from ortholens.job.endpoints import router as job_router
from ortholens.messaging.endpoints import router as messaging_router
from ortholens.notify.endpoints import router as notify_router
from ortholens.patient.endpoints import router as patient_router
from ortholens.patient_auth.endpoints import router as patient_auth_router
from ortholens.protocol.endpoints import router as protocol_router
from ortholens.review.endpoints import router as review_router
from ortholens.runtime import Runtime
from ortholens.settings import StorageBackend
from ortholens.storage.endpoints import router as storage_router
from ortholens.upload.endpoints import router as upload_router
from ortholens.web import install_web

API_ROUTERS = [
    health_router,
    auth_router,
    patient_auth_router,
    audit_router,
    clinic_router,
    patient_router,
    protocol_router,
    image_router,
    consent_router,
    job_router,
    storage_router,
    upload_router,
    review_router,
    messaging_router,
    notify_router,
    dashboard_router,
    itero_router,
    scan_export_router,
    export_router,
    intraoral_router,
]


def _media_origins(runtime: Runtime) -> list[str]:
    """Origins that serve presigned downloads the pages may show (an S3 endpoint)."""
    settings = runtime.settings
    if settings.storage_backend is not StorageBackend.S3 or not settings.s3_endpoint_url:
        return []
    parts = urlsplit(settings.s3_endpoint_url)
    return [f"{parts.scheme}://{parts.netloc}"]


def create_app(runtime: Runtime) -> FastAPI:
    """Build the web application around an already-built runtime."""
    app = FastAPI(
        title="OrthoLens",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN; clients use the JSON
        redoc_url=None,
    )
    app.state.runtime = runtime
    registry = CollectorRegistry()
    app.state.metrics_registry = registry
    app.state.job_gauges = JobGauges(registry)
    install_problem_handlers(app)
    install_allow_header(app)
    for router in API_ROUTERS:
        app.include_router(router)
    install_web(app, runtime)
    install_openapi(app)
    app.add_middleware(
        RequestContextMiddleware,
        metrics=HttpMetrics(registry),
        headers=security_headers(
            https=runtime.settings.public_url.startswith("https://"),
            extra_sources=_media_origins(runtime),
        ),
    )
    return app
