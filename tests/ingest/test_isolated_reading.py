"""A scan reader that crashes fails that one file, with the reason, in the request and in the
`ingest.file` job alike; the server keeps answering and nothing is left behind."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ortholens.app import create_app
from ortholens.kit.jobs import Job, JobStatus
from ortholens.models import Clinic, Image, Patient
from ortholens.processing.meshes.types import ArchType
from ortholens.runtime import Runtime, build_runtime
from tests.conftest import make_settings
from tests.factories import create_clinic, create_patient, create_user, sign_in
from tests.fixtures.jobs import run_jobs
from tests.ingest.crashing_format import MARKER
from tests.intraoral import scan_files


def images(runtime: Runtime) -> int:
    with runtime.session_factory() as db:
        return int(db.scalar(select(func.count()).select_from(Image)) or 0)


def import_scan(
    client: TestClient, headers: dict[str, str], patient: Patient, data: bytes
) -> httpx.Response:
    return client.post(
        "/api/imaging/3d/import",
        headers=headers,
        data={"patientId": str(patient.id)},
        files={"file": ("upper.stl", data, "application/octet-stream")},
    )


def test_a_crashing_reader_in_the_request_fails_that_upload_and_the_server_goes_on(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor_headers: dict[str, str]
) -> None:
    patient = create_patient(runtime, clinic)
    keys_before = sorted(runtime.store.iter_keys())
    refused = import_scan(client, doctor_headers, patient, MARKER + b"z" * 1024)
    assert refused.status_code == 422
    assert "the decoder crashed (signal 11, SIGSEGV)" in refused.json()["detail"]
    assert images(runtime) == 0 and sorted(runtime.store.iter_keys()) == keys_before
    assert client.get("/healthz").status_code == 200
    accepted = import_scan(client, doctor_headers, patient, scan_files.stl(ArchType.UPPER))
    assert accepted.status_code == 201, accepted.text


def test_a_crashing_reader_in_the_ingest_job_fails_that_job_with_the_reason(
    tmp_path: Path, database_url: str
) -> None:
    runtime = build_runtime(make_settings(tmp_path, database_url, scan_background_mb=0))
    try:
        client = TestClient(create_app(runtime))
        clinic = create_clinic(runtime)
        headers = sign_in(client, create_user(runtime, clinic))
        patient = create_patient(runtime, clinic)
        queued = import_scan(client, headers, patient, MARKER + b"z" * (2 * 1024 * 1024))
        assert queued.status_code == 202, queued.text
        (job,) = run_jobs(runtime)
        with runtime.session_factory() as db:
            row = db.get(Job, job)
            assert row is not None and row.status is JobStatus.FAILED
            assert "the decoder crashed (signal 11, SIGSEGV)" in (row.error or "")
        assert images(runtime) == 0
        assert not [key for key in runtime.store.iter_keys() if "/incoming/" in key]
        assert client.get("/healthz").status_code == 200
    finally:
        runtime.close()
