"""`GET /api/jobs/{id}` reports a job's state to staff of the job's clinic."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from ortholens.kit.db import transaction
from ortholens.kit.jobs import Job, JobStatus
from ortholens.models import Role
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_user, sign_in


def make_job(runtime: Runtime, clinic_id: uuid.UUID | None) -> Job:
    with transaction(runtime.session_factory) as session:
        job = Job(
            name="test.any",
            args={},
            clinic_id=clinic_id,
            status=JobStatus.RUNNING,
            progress=0.4,
            message="half",
        )
        session.add(job)
    return job


def test_get_job_reports_status_and_progress(client: TestClient, runtime: Runtime) -> None:
    clinic = create_clinic(runtime)
    headers = sign_in(client, create_user(runtime, clinic, Role.READ_ONLY))
    job = make_job(runtime, clinic.id)
    body = client.get(f"/api/jobs/{job.id}", headers=headers).json()
    assert body["id"] == str(job.id)
    assert (body["status"], body["progress"], body["message"]) == ("running", 0.4, "half")
    assert body["maxAttempts"] == 5


def test_unknown_and_other_clinics_jobs_are_the_same_404(
    client: TestClient, runtime: Runtime
) -> None:
    clinic, other = create_clinic(runtime), create_clinic(runtime)
    headers = sign_in(client, create_user(runtime, clinic))
    theirs = client.get(f"/api/jobs/{make_job(runtime, other.id).id}", headers=headers)
    random = client.get(f"/api/jobs/{uuid.uuid4()}", headers=headers)
    assert theirs.status_code == random.status_code == 404
    assert theirs.headers["content-type"] == "application/problem+json"
    assert theirs.json()["detail"] == random.json()["detail"]


def test_jobs_need_a_sign_in(client: TestClient, runtime: Runtime) -> None:
    response = client.get(f"/api/jobs/{uuid.uuid4()}")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
