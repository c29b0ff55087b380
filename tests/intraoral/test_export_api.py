"""Seed 000 "3D Mesh Export" through the API: request, job, signed link, and round trips (the
exported file read back gives the scan's geometry)."""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ortholens.audit.service import Actor
from ortholens.export.generator import GeneratedFile, store_file
from ortholens.export.keys import result_key
from ortholens.intraoral import service
from ortholens.intraoral.arches_in import read_arches
from ortholens.intraoral.export_tasks import item_names
from ortholens.intraoral.exporting import EXPORT_JOB, SCAN_EXPORT
from ortholens.kit.db import transaction, utcnow
from ortholens.kit.jobs import Job
from ortholens.models import (
    ActorType,
    AuditEvent,
    Clinic,
    Image,
    ImageSource,
    ImageStatus,
    Patient,
    Role,
)
from ortholens.processing.meshes.export import export_transform
from ortholens.processing.meshes.readers import read_mesh_file
from ortholens.processing.meshes.synthetic_arches import make_arch
from ortholens.processing.meshes.types import ArchType, MeshLimits, ScannerType
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_patient
from tests.fixtures.accounts import staff_headers
from tests.fixtures.jobs import run_jobs

FIRST_NAME, LAST_NAME = "Zebulon", "Quixotexport"


@dataclass
class ScanSet:
    clinic: Clinic
    patient: Patient
    upper: uuid.UUID
    lower: uuid.UUID
    sources: dict[str, bytes]  # arch -> the STL bytes imported


def import_scans(runtime: Runtime, clinic: Clinic, patient: Patient) -> ScanSet:
    """An upper and a lower arch imported as one scan set (UPLOADED: derived views not yet made,
    which an export does not need; tests that want READY scans run the derive jobs)."""
    sources = {
        kind.value.lower(): make_arch(kind, seed=2, triangles=6000).export(file_type="stl")
        for kind in (ArchType.UPPER, ArchType.LOWER)
    }
    arches = [
        arch for data in sources.values() for arch in read_arches(data, "scan.stl", MeshLimits())
    ]
    importer = service.Importer(
        actor=Actor(ActorType.SYSTEM, None, clinic.id),
        clinic_id=clinic.id,
        user_id=None,
        source=ImageSource.UPLOAD,
    )
    with transaction(runtime.session_factory) as db:
        outcome = service.import_scan_set(
            db, runtime.store, importer, arches, db.get(Patient, patient.id)
        )
        by_arch = {image.category: image.id for image in outcome.images}
        for image in outcome.images:
            image.scanner_type = ScannerType.MEDIT.value
    return ScanSet(clinic, patient, by_arch["SCAN_UPPER"], by_arch["SCAN_LOWER"], sources)


@pytest.fixture
def scans(runtime: Runtime) -> ScanSet:
    clinic = create_clinic(runtime)
    patient = create_patient(runtime, clinic, first_name=FIRST_NAME, last_name=LAST_NAME)
    return import_scans(runtime, clinic, patient)


@pytest.fixture
def doctor(client: TestClient, runtime: Runtime, scans: ScanSet) -> dict[str, str]:
    return staff_headers(client, runtime, scans.clinic, Role.DOCTOR)


def request_export(
    client: TestClient, headers: dict[str, str], image_ids: list[uuid.UUID], **options: Any
) -> Any:
    body = {"imageIds": [str(i) for i in image_ids], "format": "STL", **options}
    return client.post("/api/imaging/3d/export", headers=headers, json=body)


def finished_export(
    client: TestClient,
    runtime: Runtime,
    headers: dict[str, str],
    image_ids: list[uuid.UUID],
    **options: Any,
) -> tuple[dict[str, Any], bytes]:
    """Ask, run the job, poll: (the export's status body, the downloaded bytes)."""
    response = request_export(client, headers, image_ids, **options)
    assert response.status_code == 202, response.text
    job_id = response.json()["jobId"]
    queued = client.get(f"/api/imaging/3d/exports/{job_id}", headers=headers).json()
    assert (queued["status"], queued["url"]) == ("queued", None)
    run_jobs(runtime, EXPORT_JOB)
    body = client.get(f"/api/imaging/3d/exports/{job_id}", headers=headers).json()
    assert body["status"] == "succeeded", body
    download = client.get(body["url"])  # signed: no sign-in needed, short-lived
    assert download.status_code == 200
    assert len(download.content) == body["size"]
    return body, download.content


def source_triangles(scans: ScanSet, arch: str) -> np.ndarray:
    return np.asarray(read_mesh_file(scans.sources[arch], "scan.stl")[0].mesh.triangles)


def in_scanner_frame(triangles: np.ndarray, up_axis: str, units: str) -> np.ndarray:
    """Undo the export's rotation and scaling: back to the scanner's mm, +Z up."""
    inverse = np.linalg.inv(export_transform(up_axis, units))  # type: ignore[arg-type]
    return np.asarray(triangles @ inverse[:3, :3].T)


def test_stl_zip_of_upper_and_lower_round_trips(
    client: TestClient, runtime: Runtime, scans: ScanSet, doctor: dict[str, str]
) -> None:
    run_jobs(runtime, service.DERIVE_JOB)
    with runtime.session_factory() as db:
        statuses = {db.get(Image, i).status for i in (scans.upper, scans.lower)}  # type: ignore[union-attr]
    assert statuses == {ImageStatus.READY}
    body, content = finished_export(
        client, runtime, doctor, [scans.upper, scans.lower], upAxis="Y", units="inch", zip=True
    )
    assert body["filename"] == "intraoral-scans.zip"
    assert (body["progress"], body["error"]) == (1.0, None)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert sorted(archive.namelist()) == ["lower.stl", "upper.stl"]
        files = {name: archive.read(name) for name in archive.namelist()}
    assert sorted(f["name"] for f in body["files"]) == ["lower.stl", "upper.stl"]
    for arch in ("upper", "lower"):
        original = source_triangles(scans, arch)
        exported = read_mesh_file(files[f"{arch}.stl"], f"{arch}.stl")[0].mesh
        assert len(exported.faces) == len(original)
        # Y up, inches: the raw coordinates differ, the geometry does not.
        assert not np.allclose(exported.triangles, original, atol=1.0)
        back = in_scanner_frame(np.asarray(exported.triangles), "Y", "inch")
        np.testing.assert_allclose(back, original, rtol=1e-6, atol=1e-4)
        header = files[f"{arch}.stl"][:80].decode("ascii")
        assert header.startswith("units=inch; up_axis=Y; format=STL;")


def test_3mf_round_trip_keeps_the_geometry_and_the_unit(
    client: TestClient, runtime: Runtime, scans: ScanSet, doctor: dict[str, str]
) -> None:
    body, content = finished_export(client, runtime, doctor, [scans.upper], format="3MF")
    assert body["filename"] == "upper.3mf"
    loaded = read_mesh_file(content, "upper.3mf")
    assert len(loaded) == 1
    assert loaded[0].scanner.units == "mm"
    original = source_triangles(scans, "upper")
    triangles = np.asarray(loaded[0].mesh.triangles)
    assert triangles.shape == original.shape
    # 3MF writes indexed vertices; compare triangles as sets of corners, order-free.
    np.testing.assert_allclose(
        np.sort(triangles.reshape(-1, 3), axis=0),
        np.sort(original.reshape(-1, 3), axis=0),
        rtol=1e-6,
        atol=1e-4,
    )


def test_decimation_respects_the_target(
    client: TestClient, runtime: Runtime, scans: ScanSet, doctor: dict[str, str]
) -> None:
    body, content = finished_export(client, runtime, doctor, [scans.lower], targetFaces=1500)
    mesh = read_mesh_file(content, "lower.stl")[0].mesh
    assert body["files"][0]["faces"] == len(mesh.faces)
    assert 1350 <= len(mesh.faces) <= 1500 < len(source_triangles(scans, "lower"))


def test_metadata_is_embedded_without_the_patients_name(
    client: TestClient, runtime: Runtime, scans: ScanSet, doctor: dict[str, str]
) -> None:
    _, content = finished_export(client, runtime, doctor, [scans.upper], format="PLY")
    header = content[: content.index(b"end_header")].decode("ascii")
    comments = dict(
        line.removeprefix("comment ").split(": ", 1)
        for line in header.splitlines()
        if line.startswith("comment ")
    )
    assert comments["arch"] == "upper"
    assert comments["scanner"] == "MEDIT"
    assert comments["software"] == "OrthoLens"
    assert (comments["format"], comments["units"], comments["up_axis"]) == ("PLY", "mm", "Z")
    assert comments["exported_at"].startswith(str(utcnow().year))
    assert set(comments) <= {
        "units",
        "up_axis",
        "format",
        "exported_at",
        "software",
        "arch",
        "scanner",
        "Application",
    }
    for secret in (FIRST_NAME, LAST_NAME, str(scans.patient.id)):
        assert secret.lower().encode() not in content.lower()


def test_the_link_is_audited_and_only_for_the_clinic(
    client: TestClient, runtime: Runtime, scans: ScanSet, doctor: dict[str, str]
) -> None:
    body, _ = finished_export(client, runtime, doctor, [scans.upper])
    job_id = uuid.UUID(body["jobId"])
    with runtime.session_factory() as db:
        actions = list(db.scalars(select(AuditEvent.action).where(AuditEvent.target_id == job_id)))
    assert {"scan.export_request", "scan.export_create", "scan.export_download"} <= set(actions)
    other = staff_headers(client, runtime, create_clinic(runtime), Role.DOCTOR)
    theirs = client.get(f"/api/imaging/3d/exports/{job_id}", headers=other)
    random = client.get(f"/api/imaging/3d/exports/{uuid.uuid4()}", headers=other)
    assert theirs.status_code == random.status_code == 404
    assert theirs.json()["detail"] == random.json()["detail"]


def test_another_clinics_scan_is_not_found_and_nothing_is_queued(
    client: TestClient, runtime: Runtime, scans: ScanSet
) -> None:
    other = staff_headers(client, runtime, create_clinic(runtime), Role.CLINIC_ADMIN)
    theirs = request_export(client, other, [scans.upper])
    random = request_export(client, other, [uuid.uuid4()])
    assert theirs.status_code == random.status_code == 404
    assert theirs.json()["detail"] == random.json()["detail"]
    with runtime.session_factory() as db:
        assert db.scalars(select(Job).where(Job.name == EXPORT_JOB)).first() is None


def test_roles_without_export_permission_are_refused(
    client: TestClient, runtime: Runtime, scans: ScanSet
) -> None:
    for role in (Role.BILLING, Role.FRONT_DESK, Role.READ_ONLY):
        headers = staff_headers(client, runtime, scans.clinic, role)
        assert request_export(client, headers, [scans.upper]).status_code == 403, role
    with runtime.session_factory() as db:
        assert db.scalars(select(Job).where(Job.name == EXPORT_JOB)).first() is None


def test_a_deleted_scan_cannot_be_exported_nor_downloaded(
    client: TestClient, runtime: Runtime, scans: ScanSet, doctor: dict[str, str]
) -> None:
    body, _ = finished_export(client, runtime, doctor, [scans.upper, scans.lower])
    with transaction(runtime.session_factory) as db:
        image = db.get(Image, scans.lower)
        assert image is not None
        image.deleted_at = utcnow()
    assert request_export(client, doctor, [scans.upper, scans.lower]).status_code == 404
    # The export made before the delete no longer hands out a link.
    assert client.get(f"/api/imaging/3d/exports/{body['jobId']}", headers=doctor).status_code == 409


def test_a_scan_deleted_after_the_request_fails_the_job(
    client: TestClient, runtime: Runtime, scans: ScanSet, doctor: dict[str, str]
) -> None:
    job_id = request_export(client, doctor, [scans.upper]).json()["jobId"]
    with transaction(runtime.session_factory) as db:
        image = db.get(Image, scans.upper)
        assert image is not None
        image.deleted_at = utcnow()
    run_jobs(runtime, EXPORT_JOB)
    body = client.get(f"/api/imaging/3d/exports/{job_id}", headers=doctor).json()
    assert (body["status"], body["url"]) == ("failed", None)
    assert "no longer available" in body["error"]
    exports = f"{scans.clinic.id}/{scans.patient.id}/{SCAN_EXPORT.key_kind}/"
    assert not list(runtime.store.iter_keys(exports))


def test_bad_requests_are_refused_with_422_and_queue_nothing(
    client: TestClient, runtime: Runtime, scans: ScanSet, doctor: dict[str, str]
) -> None:
    for options in (
        {"imageIds": []},
        {"imageIds": [str(scans.upper)] * 2},  # a repeat
        {"imageIds": [str(scans.upper)] + [str(uuid.uuid4()) for _ in range(10)]},  # over 10
        {"format": "FBX"},
        {"upAxis": "X"},
        {"units": "cm"},
        {"targetFaces": 2},
    ):
        body = {"imageIds": [str(scans.upper)], "format": "STL", **options}
        response = client.post("/api/imaging/3d/export", headers=doctor, json=body)
        assert response.status_code == 422, (options, response.text)
    with runtime.session_factory() as db:
        assert db.scalars(select(Job).where(Job.name == EXPORT_JOB)).first() is None


def test_a_download_spilled_to_disk_is_streamed_into_the_store_and_removed(
    runtime: Runtime, tmp_path: Path
) -> None:
    spilled = tmp_path / "ortholens-export-spill"
    content = bytes(range(256)) * 5000
    spilled.write_bytes(content)
    result = GeneratedFile("scans.zip", "application/zip", path=spilled)
    key = result_key(
        uuid.uuid4(), uuid.uuid4(), "scan-export", uuid.uuid4(), filename="scans.zip", attempt=1
    )
    assert store_file(runtime.store, key, result) == len(content)
    assert runtime.store.read(key) == content
    assert not spilled.exists()


def test_files_are_named_by_arch() -> None:
    categories = ["SCAN_UPPER", "SCAN_LOWER", "SCAN_BITE", None, "SCAN_UPPER"]
    assert item_names(categories) == ["upper", "lower", "bite", "scan-4", "upper-2"]


def test_an_expired_export_answers_410_export_again(
    client: TestClient, runtime: Runtime, scans: ScanSet, doctor: dict[str, str]
) -> None:
    body, _ = finished_export(client, runtime, doctor, [scans.upper])
    assert body["expiresAt"] is not None
    with transaction(runtime.session_factory) as db:
        job = db.get(Job, uuid.UUID(body["jobId"]))
        assert job is not None and job.finished_at is not None
        job.finished_at -= timedelta(hours=runtime.settings.export_retention_hours)
    expired = client.get(f"/api/imaging/3d/exports/{body['jobId']}", headers=doctor)
    assert expired.status_code == 410
    assert "export again" in expired.json()["detail"]
    assert client.get(body["url"]).status_code == 410
