"""Seed 001 through the API: import, limits, metadata, matching, pending queue, bite links."""

from __future__ import annotations

import math
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ortholens.app import create_app
from ortholens.models import Clinic, Image, ImageStatus, Patient, PendingScan, Role, User
from ortholens.processing.meshes.types import ArchType
from ortholens.runtime import Runtime, build_runtime
from tests.conftest import make_settings
from tests.factories import create_clinic, create_patient, create_user, sign_in
from tests.fixtures.jobs import run_jobs
from tests.intraoral import scan_files
from tests.processing.meshes import mesh_files


@pytest.fixture
def patient(runtime: Runtime, clinic: Clinic) -> Patient:
    return create_patient(runtime, clinic)


def send(
    client: TestClient,
    headers: dict[str, str],
    data: bytes,
    name: str,
    patient: Patient | None = None,
    clinic: Clinic | None = None,
) -> object:
    form = {"patientId": str(patient.id)} if patient else {}
    if clinic is not None:
        form["clinicId"] = str(clinic.id)
    return client.post(
        "/api/imaging/3d/import", headers=headers, files={"file": (name, data)}, data=form
    )


def stored_objects(runtime: Runtime) -> list[str]:
    return list(runtime.store.iter_keys())


def test_an_stl_becomes_a_scan_with_metadata_web_mesh_and_thumbnail(
    client: TestClient, runtime: Runtime, doctor: User, patient: Patient
) -> None:
    headers = sign_in(client, doctor)
    response = send(client, headers, scan_files.stl(ArchType.LOWER), "scan-0001.stl", patient)
    assert response.status_code == 201, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["matchedBy"] == "given" and body["pending"] == []
    (scan,) = body["scans"]
    assert (scan["scanFormat"], scan["category"], scan["status"]) == (
        "STL",
        "SCAN_LOWER",
        "UPLOADED",
    )
    assert scan["archConfidence"] >= 0.6
    run_jobs(runtime)
    listed = client.get(f"/api/patients/{patient.id}/scans", headers=headers).json()
    assert listed[0]["status"] == "READY" and {"thumbnail", "web_mesh"} <= set(listed[0]["urls"])
    metadata = client.get(f"/api/imaging/3d/{scan['id']}/metadata", headers=headers).json()
    mesh = metadata["mesh"]
    assert mesh["faceCount" if "faceCount" in mesh else "face_count"] == scan["faceCount"]
    assert mesh["is_watertight"] is False and mesh["hole_count"] >= 1 and mesh["volume_mm3"] is None
    width = max(mesh["bbox_size_mm"])
    assert 40 < width < 80  # an arch is 45-65 mm wide
    assert metadata["archDetection"]["source"] == "geometry"
    assert metadata["webMesh"]["faces"] <= 150_000
    with runtime.session_factory() as db:
        image = db.get(Image, uuid.UUID(scan["id"]))
        assert image is not None
        assert runtime.store.read(image.original_key) == scan_files.stl(
            ArchType.LOWER
        )  # byte for byte
        thumb = runtime.store.read(image.variants["thumbnail"])
        assert thumb[:4] == b"RIFF"


def test_a_unit_cube_reports_known_metadata(
    client: TestClient, doctor: User, patient: Patient
) -> None:
    headers = sign_in(client, doctor)
    body = send(
        client, headers, mesh_files.binary_stl(mesh_files.cube()), "cube.stl", patient
    ).json()  # type: ignore[attr-defined]
    mesh = client.get(f"/api/imaging/3d/{body['scans'][0]['id']}/metadata", headers=headers).json()[
        "mesh"
    ]
    assert math.isclose(mesh["surface_area_mm2"], 6.0, rel_tol=1e-6)
    assert math.isclose(mesh["volume_mm3"], 1.0, rel_tol=1e-6)
    assert mesh["is_watertight"] is True and mesh["hole_count"] == 0
    assert body["scans"][0]["category"] is None  # not an arch: left for a person


def test_a_bundle_gives_three_arches_from_the_order_xml_with_the_bite_linked(
    client: TestClient, runtime: Runtime, doctor: User, patient: Patient
) -> None:
    bundle = scan_files.itero_bundle()
    body = send(client, sign_in(client, doctor), bundle, "export.zip", patient).json()  # type: ignore[attr-defined]
    scans = {scan["category"]: scan for scan in body["scans"]}
    assert set(scans) == {"SCAN_UPPER", "SCAN_LOWER", "SCAN_BITE"}
    assert all(scan["scannerType"] == "ITERO" for scan in scans.values())
    bite = scans["SCAN_BITE"]
    assert (bite["biteUpperId"], bite["biteLowerId"]) == (
        scans["SCAN_UPPER"]["id"],
        scans["SCAN_LOWER"]["id"],
    )
    assert len({scan["scanSetId"] for scan in scans.values()}) == 1
    with runtime.session_factory() as db:
        upper = db.get(Image, uuid.UUID(scans["SCAN_UPPER"]["id"]))
        assert upper is not None and upper.info["scanner"]["order_ref"] == "ORD-991"
        bundle_key = upper.info["bundle_key"]
    assert runtime.store.read(bundle_key) == bundle


def test_a_later_bite_links_to_the_patients_latest_arches_and_a_correction_relinks(
    client: TestClient, doctor: User, patient: Patient
) -> None:
    headers = sign_in(client, doctor)
    upper = send(client, headers, scan_files.stl(ArchType.UPPER, 7), "u.stl", patient).json()[
        "scans"
    ][0]  # type: ignore[attr-defined]
    lower = send(client, headers, scan_files.stl(ArchType.LOWER, 8), "l.stl", patient).json()[
        "scans"
    ][0]  # type: ignore[attr-defined]
    bite = send(client, headers, scan_files.stl(ArchType.BITE, 9), "b.stl", patient).json()[
        "scans"
    ][0]  # type: ignore[attr-defined]
    assert (bite["biteUpperId"], bite["biteLowerId"]) == (upper["id"], lower["id"])
    corrected = client.patch(
        f"/api/imaging/3d/{lower['id']}/arch", headers=headers, json={"arch": "BITE"}
    )
    assert corrected.status_code == 200 and corrected.json()["category"] == "SCAN_BITE"
    assert corrected.json()["archSetByUser"] is True
    assert (
        client.patch(
            f"/api/imaging/3d/{lower['id']}/arch", headers=headers, json={"arch": "LEFT"}
        ).status_code
        == 422
    )


def test_metadata_naming_a_known_patient_matches_without_a_patient_id(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    ann = create_patient(runtime, clinic, first_name="Ann", last_name="Example")
    body = send(client, sign_in(client, doctor), scan_files.itero_bundle(), "x.zip").json()  # type: ignore[attr-defined]
    assert (body["patientId"], body["matchedBy"]) == (str(ann.id), "scanner metadata")
    assert len(body["scans"]) == 3


def test_unknown_patients_wait_in_the_pending_queue_until_assigned(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User, patient: Patient
) -> None:
    headers = sign_in(client, doctor)
    create_patient(runtime, clinic, first_name="Ann", last_name="Example")
    create_patient(runtime, clinic, first_name="Ann", last_name="Example")  # two: no match is safe
    body = send(client, headers, scan_files.itero_bundle(), "x.zip").json()  # type: ignore[attr-defined]
    assert body["patientId"] is None and body["scans"] == [] and len(body["pending"]) == 3
    queue = client.get("/api/imaging/3d/pending", headers=headers).json()
    assert {row["patientName"] for row in queue} == {"Ann Example"}
    assert {row["arch"] for row in queue} == {"UPPER", "LOWER", "BITE"}
    pending_keys = [key for key in stored_objects(runtime) if "/pending-scans/" in key]
    assert len(pending_keys) == 3
    assigned = client.post(
        f"/api/imaging/3d/pending/{queue[0]['id']}/assign",
        headers=headers,
        json={"patientId": str(patient.id)},
    )
    assert assigned.status_code == 200, assigned.text
    scans = {scan["category"]: scan for scan in assigned.json()}
    assert scans["SCAN_BITE"]["biteUpperId"] == scans["SCAN_UPPER"]["id"]
    assert client.get("/api/imaging/3d/pending", headers=headers).json() == []
    assert [key for key in stored_objects(runtime) if "/pending-scans/" in key] == []
    again = client.post(
        f"/api/imaging/3d/pending/{queue[0]['id']}/assign",
        headers=headers,
        json={"patientId": str(patient.id)},
    )
    assert again.status_code == 409


def test_discarding_a_pending_set_removes_its_files(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    headers = sign_in(client, doctor)
    body = send(client, headers, scan_files.stl(ArchType.UPPER), "u.stl", clinic=clinic).json()  # type: ignore[attr-defined]
    (row,) = body["pending"]
    other = sign_in(client, create_user(runtime, create_clinic(runtime), Role.DOCTOR))
    assert (
        client.post(f"/api/imaging/3d/pending/{row['id']}/discard", headers=other).status_code
        == 404
    )
    discarded = client.post(f"/api/imaging/3d/pending/{row['id']}/discard", headers=headers)
    assert discarded.json()[0]["status"] == "DISCARDED"
    assert stored_objects(runtime) == []


def nan_stl() -> bytes:
    mesh = mesh_files.cube()
    vertices = np.array(mesh.vertices)
    vertices[0, 0] = np.nan
    return mesh_files.binary_stl(type(mesh)(vertices=vertices, faces=mesh.faces, process=False))


@pytest.mark.parametrize(
    ("name", "data", "status", "fragment"),
    [
        ("empty.stl", b"", 422, "empty"),
        ("nan.stl", nan_stl(), 422, "NaN"),
        ("cut.stl", mesh_files.binary_stl(mesh_files.cube())[:-20], 422, ""),
        ("notes.txt", b"just some text, not a mesh", 422, ""),
        (
            "bomb.zip",
            mesh_files.zip_bytes({"huge.stl": b"\0" * 30_000_000}),
            413,
            "zip bomb",
        ),
        (
            "evil.zip",
            mesh_files.zip_with_info(
                zipfile.ZipInfo("../../etc/a.stl"), mesh_files.binary_stl(mesh_files.cube())
            ),
            422,
            "",
        ),
    ],
)
def test_bad_files_are_refused_and_leave_nothing_behind(
    client: TestClient,
    runtime: Runtime,
    doctor: User,
    patient: Patient,
    name: str,
    data: bytes,
    status: int,
    fragment: str,
) -> None:
    response = send(client, sign_in(client, doctor), data, name, patient)
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert fragment.lower() in response.json()["detail"].lower()  # type: ignore[attr-defined]
    with runtime.session_factory() as db:
        assert db.scalars(select(Image)).all() == [] and db.scalars(select(PendingScan)).all() == []
    assert stored_objects(runtime) == []


def test_roles_and_clinics(
    client: TestClient, runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    front = sign_in(client, create_user(runtime, clinic, Role.FRONT_DESK))
    assert send(client, front, scan_files.stl(ArchType.UPPER), "u.stl", patient).status_code == 403  # type: ignore[attr-defined]
    foreign = create_patient(runtime, create_clinic(runtime))
    doctor = sign_in(client, create_user(runtime, clinic, Role.DOCTOR))
    assert send(client, doctor, scan_files.stl(ArchType.UPPER), "u.stl", foreign).status_code == 404  # type: ignore[attr-defined]
    assert client.get(f"/api/patients/{foreign.id}/scans", headers=doctor).status_code == 404
    billing = sign_in(client, create_user(runtime, clinic, Role.BILLING))
    scan = send(client, doctor, scan_files.stl(ArchType.UPPER), "u.stl", patient).json()["scans"][0]  # type: ignore[attr-defined]
    # scan metadata needs imaging:3d_view (billing sees metadata of photos only)
    assert client.get(f"/api/imaging/3d/{scan['id']}/metadata", headers=billing).status_code == 403
    assert client.get(f"/api/patients/{patient.id}/scans", headers=billing).status_code == 403


def test_files_over_the_background_size_are_imported_by_a_job_with_progress(
    tmp_path: Path, database_url: str
) -> None:
    runtime = build_runtime(make_settings(tmp_path, database_url, scan_background_mb=0))
    try:
        clinic = create_clinic(runtime)
        patient = create_patient(runtime, clinic)
        doctor = create_user(runtime, clinic, Role.DOCTOR)
        with TestClient(
            create_app(runtime), base_url="https://testserver", raise_server_exceptions=False
        ) as client:
            headers = sign_in(client, doctor)
            queued = send(client, headers, scan_files.itero_bundle(), "big.zip", patient)
            assert queued.status_code == 202, queued.text  # type: ignore[attr-defined]
            job_id = queued.json()["jobId"]  # type: ignore[attr-defined]
            assert client.get(f"/api/jobs/{job_id}", headers=headers).json()["status"] == "queued"
            runtime.queue.execute(uuid.UUID(job_id))
            job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
            assert job["status"] == "succeeded" and job["progress"] == 1.0
            assert len(job["result"]["images"]) == 3
            run_jobs(runtime)
            scans = client.get(f"/api/patients/{patient.id}/scans", headers=headers).json()
            assert sorted(s["status"] for s in scans) == ["READY"] * 3
            assert [
                k for k in runtime.store.iter_keys() if "/pending-scans/" in k
            ] == []  # upload removed
            bad = send(client, headers, b"\x00" * 2000, "junk.stl", patient).json()  # type: ignore[attr-defined]
            runtime.queue.execute(uuid.UUID(bad["jobId"]))
            failed = client.get(f"/api/jobs/{bad['jobId']}", headers=headers).json()
            assert failed["status"] == "failed" and failed["error"]
            assert [k for k in runtime.store.iter_keys() if "/pending-scans/" in k] == []
    finally:
        runtime.close()


def test_the_cli_imports_a_folder_and_reports_pending_and_skipped(
    run_cli: object, runtime: Runtime, clinic: Clinic, patient: Patient, tmp_path: Path
) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "set1.zip").write_bytes(scan_files.itero_bundle())
    (folder / "lower.stl").write_bytes(scan_files.stl(ArchType.LOWER))
    (folder / "readme.txt").write_text("not a scan")
    result = run_cli("import", "scans", folder, "--patient", patient.id)  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    summary = " ".join(result.output.split())
    assert "Imported 4 arches; 0 wait in the pending queue; 0 duplicates and 1 files skipped." in (
        summary
    )
    unknown = run_cli("import", "scans", folder / "set1.zip", "--clinic", clinic.id)  # type: ignore[operator]
    assert "3 wait in the pending queue" in unknown.output
    missing = run_cli("import", "scans", folder, "--patient", uuid.uuid4())  # type: ignore[operator]
    assert missing.exit_code == 2 and "No patient" in missing.output


def test_storage_check_keeps_pending_scans_and_rebuilds_a_missing_web_mesh(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User, patient: Patient
) -> None:
    from ortholens.image.integrity import check_storage
    from ortholens.kit.db import transaction

    headers = sign_in(client, doctor)
    scan = send(client, headers, scan_files.stl(ArchType.UPPER), "u.stl", patient).json()["scans"][
        0
    ]  # type: ignore[attr-defined]
    send(client, headers, scan_files.stl(ArchType.LOWER), "l.stl", clinic=clinic)  # pending
    run_jobs(runtime)
    with runtime.session_factory() as db:
        image = db.get(Image, uuid.UUID(scan["id"]))
        assert image is not None
        web_key = image.variants["web_mesh"]
    runtime.store.delete(web_key)
    with transaction(runtime.session_factory) as db:
        report = check_storage(db, runtime.store, repair=True)
    assert report.orphan_objects == []  # the pending scan's file is not an orphan
    assert report.missing_variants == [scan["id"]]
    run_jobs(runtime)
    with runtime.session_factory() as db:
        image = db.get(Image, uuid.UUID(scan["id"]))
        assert image is not None and image.status is ImageStatus.READY
        assert runtime.store.head(image.variants["web_mesh"]) is not None
