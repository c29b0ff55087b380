"""A scan whose viewer decoder crashes fails that one scan with the reason; the rest goes on."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from ortholens.models import Clinic, Image, ImageStatus, User
from ortholens.processing.meshes.types import ArchType
from ortholens.runtime import DecodeSteps, Runtime
from tests.factories import create_patient, sign_in
from tests.fixtures.jobs import run_jobs
from tests.intraoral.scan_files import arch
from tests.kit.isolation_decoders import CRASH_MARKER, scan_step_crashing_on_marker
from tests.processing.meshes import mesh_files


def import_stl(
    client: TestClient, headers: dict[str, str], patient_id: uuid.UUID, data: bytes
) -> str:
    response = client.post(
        "/api/imaging/3d/import",
        headers=headers,
        files={"file": ("scan.stl", data)},
        data={"patientId": str(patient_id)},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["scans"][0]["id"])


def test_a_crashing_scan_decoder_fails_that_scan_with_the_reason(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    runtime.decode_steps = DecodeSteps(scan_views=scan_step_crashing_on_marker)
    patient = create_patient(runtime, clinic)
    headers = sign_in(client, doctor)
    # The marker sits in the STL's free-text header, which readers ignore.
    hostile = import_stl(
        client, headers, patient.id, mesh_files.binary_stl(arch(ArchType.UPPER, 1), CRASH_MARKER)
    )
    healthy = import_stl(
        client, headers, patient.id, mesh_files.binary_stl(arch(ArchType.LOWER, 2), b"export")
    )
    run_jobs(runtime)
    with runtime.session_factory() as session:
        crashed = session.get(Image, uuid.UUID(hostile))
        derived = session.get(Image, uuid.UUID(healthy))
        assert crashed is not None and derived is not None
        assert crashed.status is ImageStatus.FAILED
        assert "the decoder crashed (signal 11, SIGSEGV)" in (crashed.failure_reason or "")
        assert derived.status is ImageStatus.READY
        assert {"web_mesh", "thumbnail"} <= set(derived.variants)
    assert client.get("/healthz").status_code == 200  # the server kept answering
