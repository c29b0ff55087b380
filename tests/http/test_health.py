"""Liveness, readiness and metrics."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from ortholens.app import create_app
from ortholens.migrations.runner import head_revision
from ortholens.runtime import build_runtime
from tests.conftest import make_settings


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_checks_database_store_and_queue(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert set(checks) == {"database", "store", "queue"}
    assert all(check["ok"] for check in checks.values())


def test_readyz_fails_on_an_unmigrated_database(tmp_path: Path) -> None:
    runtime = build_runtime(make_settings(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}"))
    with TestClient(create_app(runtime)) as client:
        response = client.get("/readyz")
    runtime.close()
    assert response.status_code == 503
    database = response.json()["checks"]["database"]
    assert database == {"ok": False, "detail": f"schema at None, code needs {head_revision()}"}


def test_readyz_fails_when_the_store_is_gone(client: TestClient, tmp_path: Path) -> None:
    shutil.rmtree(tmp_path / "var" / "objects", ignore_errors=True)
    (tmp_path / "var" / "objects").write_text("not a directory")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["store"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True


def test_metrics_expose_http_and_job_counters(client: TestClient) -> None:
    client.get("/healthz")
    text = client.get("/metrics").text
    assert 'ortholens_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'ortholens_jobs{status="queued"}' in text
    assert "ortholens_queue_pending_messages" in text


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert spec["info"]["title"] == "OrthoLens"
    assert "/api/jobs/{job_id}" in spec["paths"]
