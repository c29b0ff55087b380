"""Through the import API and CLI: a scanner export whose XML names one jaw for a mesh of another,
and a scan written in metres, are both kept with their arch unset and the reason shown; the CLI
reads scans in another unit on request."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import Result

from ortholens.app import create_app
from ortholens.models import Clinic, Patient, Role, User
from ortholens.processing.meshes.types import ArchType
from ortholens.runtime import Runtime, build_runtime
from tests.conftest import make_settings
from tests.factories import create_clinic, create_patient, create_user, sign_in
from tests.intraoral import scan_files
from tests.processing.meshes import mesh_files


@pytest.fixture
def patient(runtime: Runtime, clinic: Clinic) -> Patient:
    return create_patient(runtime, clinic)


def _post(
    client: TestClient,
    headers: dict[str, str],
    data: bytes,
    name: str,
    patient: Patient,
    units: str | None = None,
) -> httpx.Response:
    form = {"patientId": str(patient.id)} | ({"units": units} if units else {})
    return client.post(
        "/api/imaging/3d/import", headers=headers, files={"file": (name, data)}, data=form
    )


def _import(
    client: TestClient, headers: dict[str, str], data: bytes, name: str, patient: Patient
) -> dict[str, Any]:
    response = _post(client, headers, data, name, patient)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _detection(client: TestClient, headers: dict[str, str], scan_id: str) -> dict[str, Any]:
    metadata = client.get(f"/api/imaging/3d/{scan_id}/metadata", headers=headers).json()
    detection: dict[str, Any] = metadata["archDetection"]
    return detection


def test_an_export_whose_xml_contradicts_the_shape_is_left_for_a_person(
    client: TestClient, doctor: User, patient: Patient
) -> None:
    headers = sign_in(client, doctor)
    # The XML says a1 is the upper jaw and b2 the lower one; the meshes are the other way round.
    bundle = mesh_files.zip_bytes(
        {
            "export/a1.stl": scan_files.stl(ArchType.LOWER, 4),
            "export/b2.stl": scan_files.stl(ArchType.UPPER, 3),
            "export/c3.stl": scan_files.stl(ArchType.BITE, 5),
            "export/order.xml": scan_files.ORDER_XML,
        }
    )
    body = _import(client, headers, bundle, "export.zip", patient)
    categories = sorted(str(scan["category"]) for scan in body["scans"])
    assert categories == ["None", "None", "SCAN_BITE"]  # the agreeing bite is filed
    for scan in body["scans"]:
        if scan["category"] is not None:
            continue
        assert scan["archConfidence"] < 0.6
        detection = _detection(client, headers, scan["id"])
        assert detection["conflict"] is True
        assert detection["source"] == "scanner"
        assert "a person should decide" in detection["reasons"][0]
        assert detection["geometry"]["arch"] != detection["arch"]


def test_a_scan_in_metres_is_not_filed_and_names_the_conversion(
    client: TestClient, doctor: User, patient: Patient
) -> None:
    headers = sign_in(client, doctor)
    mesh = scan_files.arch(ArchType.LOWER, 6)
    mesh.apply_scale(0.001)
    body = _import(client, headers, mesh_files.binary_stl(mesh), "scan.stl", patient)
    (scan,) = body["scans"]
    assert scan["category"] is None
    detection = _detection(client, headers, scan["id"])
    assert detection["size"]["suggestions"] == [{"unit": "m", "factor": 1000.0}]
    assert "multiply by 1000" in detection["reasons"][0]


def test_the_cli_says_which_unit_and_converts_on_request(
    run_cli: Callable[..., Result], patient: Patient, tmp_path: Path
) -> None:
    mesh = scan_files.arch(ArchType.LOWER, 7)
    mesh.apply_scale(0.001)
    scan = tmp_path / "lower-in-metres.stl"
    scan.write_bytes(mesh_files.binary_stl(mesh))
    first = run_cli("import", "scans", scan, "--patient", patient.id)
    assert first.exit_code == 0, first.output
    said = " ".join(first.output.split())
    assert "arch unknown (shaped like a lower arch" in said and "metres" in said

    again = tmp_path / "again"  # not the same bytes, so not skipped as a duplicate
    again.mkdir()
    mesh.apply_translation((0.001, 0.0, 0.0))
    (again / "lower.stl").write_bytes(mesh_files.binary_stl(mesh))
    converted = run_cli("import", "scans", again, "--patient", patient.id, "--units", "m")
    assert converted.exit_code == 0, converted.output
    assert "imported lower.stl: lower" in " ".join(converted.output.split())

    wrong = run_cli("import", "scans", again, "--patient", patient.id, "--units", "parsecs")
    assert wrong.exit_code == 2 and "Unknown units" in wrong.output


def _metres_stl(seed: int) -> bytes:
    mesh = scan_files.arch(ArchType.LOWER, seed)
    mesh.apply_scale(0.001)
    return mesh_files.binary_stl(mesh)


def test_the_api_reads_a_scan_in_the_unit_asked_for(
    client: TestClient, doctor: User, patient: Patient
) -> None:
    headers = sign_in(client, doctor)
    response = _post(client, headers, _metres_stl(8), "scan.stl", patient, units="m")
    assert response.status_code == 201, response.text
    (scan,) = response.json()["scans"]
    assert scan["category"] == "SCAN_LOWER"
    metadata = client.get(f"/api/imaging/3d/{scan['id']}/metadata", headers=headers).json()
    assert 35.0 < max(metadata["mesh"]["bbox_size_mm"]) < 95.0
    refused = _post(client, headers, _metres_stl(9), "scan.stl", patient, units="cubits")
    assert refused.status_code == 422 and "Unknown units" in refused.text


def test_a_background_import_keeps_the_unit_asked_for(tmp_path: Path, database_url: str) -> None:
    runtime = build_runtime(make_settings(tmp_path, database_url, scan_background_mb=0))
    try:
        clinic = create_clinic(runtime)
        patient = create_patient(runtime, clinic)
        doctor = create_user(runtime, clinic, Role.DOCTOR)
        with TestClient(create_app(runtime), base_url="https://testserver") as client:
            headers = sign_in(client, doctor)
            queued = _post(client, headers, _metres_stl(10), "scan.stl", patient, units="m")
            assert queued.status_code == 202, queued.text
            job_id = queued.json()["jobId"]
            runtime.queue.execute(uuid.UUID(job_id))
            job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
            assert job["status"] == "succeeded", job
            scans = client.get(f"/api/patients/{patient.id}/scans", headers=headers).json()
            assert [s["category"] for s in scans] == ["SCAN_LOWER"]
    finally:
        runtime.close()
