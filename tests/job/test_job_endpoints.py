"""`GET /api/jobs/{id}` reports a job's state."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from ortholens.kit.db import transaction
from ortholens.kit.jobs import Job, JobStatus
from ortholens.runtime import Runtime


def test_get_job_reports_status_and_progress(client: TestClient, runtime: Runtime) -> None:
    with transaction(runtime.session_factory) as session:
        job = Job(name="test.any", args={}, status=JobStatus.RUNNING, progress=0.4, message="half")
        session.add(job)
    body = client.get(f"/api/jobs/{job.id}").json()
    assert body["id"] == str(job.id)
    assert (body["status"], body["progress"], body["message"]) == ("running", 0.4, "half")


def test_unknown_job_is_404_problem(client: TestClient) -> None:
    response = client.get(f"/api/jobs/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
