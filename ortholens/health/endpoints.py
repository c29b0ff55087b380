"""`/healthz`, `/readyz` and `/metrics` (public: they carry no patient data)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from ortholens import __version__
from ortholens.auth.deps import Public
from ortholens.health.service import job_counts, run_checks
from ortholens.http.deps import RuntimeDep

# Public: probes and scrapers carry no credentials, and these answers hold no patient data.
router = APIRouter(tags=["health"], dependencies=[Public])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process is up and serving."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz")
def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Readiness: database (migrated), object store and queue all answer; 503 otherwise."""
    results = run_checks(runtime)
    ready = all(result.ok for result in results.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {name: {"ok": r.ok, "detail": r.detail} for name, r in results.items()},
    }
    return JSONResponse(body, status_code=200 if ready else 503)


class JobGauges:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.jobs = Gauge("ortholens_jobs", "Jobs by status", ["status"], registry=registry)
        self.pending = Gauge(
            "ortholens_queue_pending_messages", "Messages waiting in the queue", registry=registry
        )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    """Prometheus exposition of HTTP and job metrics."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    gauges: JobGauges = request.app.state.job_gauges
    counts = await run_in_threadpool(job_counts, runtime)
    for status, count in counts.items():
        gauges.jobs.labels(status).set(count)
    gauges.pending.set(await run_in_threadpool(runtime.queue.pending_messages))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
