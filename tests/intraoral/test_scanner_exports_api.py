"""Scanner exports into the record: patient matching from names in either order, birth dates and
chart numbers; an export folder sent as several files is one bundle; its images are kept and
served; duplicates by SHA-256 per patient reported like photo duplicates; the CLI imports an
unzipped export folder as one bundle and skips what the patient already has."""

from __future__ import annotations

import io
import uuid
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image as PILImage
from sqlalchemy import select

from ortholens.models import AuditEvent, Clinic, Image, Patient, User
from ortholens.processing.meshes.types import ArchType
from ortholens.runtime import Runtime
from tests.factories import create_patient, sign_in
from tests.intraoral import scan_files
from tests.processing.meshes import mesh_files


def export_xml(name: str, *, birth: str = "", chart: str = "") -> bytes:
    """An export XML shaped like iTero's: the vendor only in its root element."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<iTeroExport version="2.1">
  <ExportDate>2026-02-11</ExportDate><ExportTime>14:05:09</ExportTime>
  <Patient><Name>{name}</Name><DateOfBirth>{birth}</DateOfBirth><ChartNumber>{chart}</ChartNumber></Patient>
  <Models><Model Type="Upper" File="u1.stl"/><Model Type="Lower" File="l1.stl"/></Models>
</iTeroExport>""".encode()


def jpeg() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (40, 30), (210, 190, 180)).save(out, "JPEG")
    return out.getvalue()


def export_files(xml: bytes, seed: int = 3) -> dict[str, bytes]:
    return {
        "u1.stl": scan_files.stl(ArchType.UPPER, seed),
        "l1.stl": scan_files.stl(ArchType.LOWER, seed + 1),
        "export.xml": xml,
        "gallery/occlusal.jpg": jpeg(),
    }


def send_files(
    client: TestClient,
    headers: dict[str, str],
    files: dict[str, bytes],
    *,
    patient: Patient | None = None,
    folder: str = "ann-export",
) -> object:
    """Several `file` parts, named with their relative path as a browser's folder upload does."""
    parts = [("file", (f"{folder}/{path}", data)) for path, data in files.items()]
    form = {"patientId": str(patient.id)} if patient else {}
    return client.post("/api/imaging/3d/import", headers=headers, files=parts, data=form)


def bundle(xml: bytes) -> bytes:
    return mesh_files.zip_bytes({f"export/{k}": v for k, v in export_files(xml).items()})


def send_zip(client: TestClient, headers: dict[str, str], data: bytes) -> dict[str, object]:
    response = client.post(
        "/api/imaging/3d/import", headers=headers, files={"file": ("export.zip", data)}
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("written", ["Ann, Example", "Example, Ann", "Ann Example", "ANN  EXAMPLE"])
def test_the_patient_is_matched_from_a_name_in_either_order(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User, written: str
) -> None:
    ann = create_patient(runtime, clinic, first_name="Ann", last_name="Example")
    body = send_zip(client, sign_in(client, doctor), bundle(export_xml(written)))
    assert body["matchedBy"] == "scanner metadata" and body["patientId"] == str(ann.id)


def test_a_name_that_reads_as_two_patients_waits_for_a_person(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    create_patient(runtime, clinic, first_name="Lee", last_name="Morgan")
    create_patient(runtime, clinic, first_name="Morgan", last_name="Lee")
    body = send_zip(client, sign_in(client, doctor), bundle(export_xml("Lee, Morgan")))
    assert body["patientId"] is None and len(body["pending"]) == 2  # type: ignore[arg-type]


def test_a_birth_date_decides_between_namesakes_and_refuses_a_contradiction(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    headers = sign_in(client, doctor)
    older = create_patient(
        runtime, clinic, first_name="Ann", last_name="Example", date_of_birth=date(1980, 1, 2)
    )
    create_patient(
        runtime, clinic, first_name="Ann", last_name="Example", date_of_birth=date(2011, 6, 30)
    )
    body = send_zip(client, headers, bundle(export_xml("Example, Ann", birth="1980-01-02")))
    assert body["patientId"] == str(older.id)
    none = send_zip(client, headers, bundle(export_xml("Example, Ann", birth="1999-09-09")))
    assert none["patientId"] is None and none["pending"]


def test_a_chart_number_that_is_a_patient_id_names_the_patient_unless_the_name_disagrees(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    headers = sign_in(client, doctor)
    ann = create_patient(runtime, clinic, first_name="Ann", last_name="Example")
    body = send_zip(client, headers, bundle(export_xml("", chart=str(ann.id))))
    assert body["patientId"] == str(ann.id)
    other = send_zip(client, headers, bundle(export_xml("Someone Else", chart=str(ann.id))))
    assert other["patientId"] is None


def test_an_export_folder_sent_as_files_is_one_bundle_with_its_metadata_and_renders(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    headers = sign_in(client, doctor)
    ann = create_patient(runtime, clinic, first_name="Ann", last_name="Example")
    files = export_files(export_xml("Ann, Example", birth="2010-05-17", chart="C-17"))
    response = send_files(client, headers, files)
    assert response.status_code == 201, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["patientId"] == str(ann.id)
    scans = {scan["category"]: scan for scan in body["scans"]}
    assert set(scans) == {"SCAN_UPPER", "SCAN_LOWER"}
    upper = scans["SCAN_UPPER"]
    assert upper["scannerType"] == "ITERO"
    assert upper["capturedAt"].startswith("2026-02-11T14:05:09")
    assert scans["SCAN_LOWER"]["scanSetId"] == upper["scanSetId"]
    metadata = client.get(f"/api/imaging/3d/{upper['id']}/metadata", headers=headers).json()
    fields = metadata["scanner"]["extra"]["export_fields"]["export.xml"]
    assert fields["iTeroExport/Patient/ChartNumber"] == "C-17"
    assert fields["iTeroExport/ExportTime"] == "14:05:09"
    (render,) = metadata["renders"]
    assert (render["name"], render["mediaType"]) == ("gallery/occlusal.jpg", "image/jpeg")
    served = client.get(f"/api/imaging/3d/{upper['id']}/renders/1", headers=headers)
    assert served.status_code == 200 and served.content == files["gallery/occlusal.jpg"]
    assert served.headers["content-type"] == "image/jpeg"
    assert (
        client.get(f"/api/imaging/3d/{upper['id']}/renders/2", headers=headers).status_code == 404
    )
    with runtime.session_factory() as db:
        viewed = db.scalars(
            select(AuditEvent.action).where(AuditEvent.target_id == uuid.UUID(upper["id"]))
        ).all()
    assert "image.view" in viewed


def test_a_folder_with_an_unsafe_path_is_refused_and_leaves_nothing(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    headers = sign_in(client, doctor)
    patient = create_patient(runtime, clinic)
    parts = [
        ("file", ("export/u1.stl", scan_files.stl(ArchType.UPPER))),
        ("file", ("../../etc/passwd", b"root")),
    ]
    response = client.post(
        "/api/imaging/3d/import", headers=headers, files=parts, data={"patientId": str(patient.id)}
    )
    assert response.status_code == 422 and "unsafe path" in response.json()["detail"]
    assert list(runtime.store.iter_keys()) == []


def test_the_same_scan_twice_is_reported_as_a_duplicate_like_a_photo(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    headers = sign_in(client, doctor)
    patient = create_patient(runtime, clinic)
    other = create_patient(runtime, clinic)
    stl = scan_files.stl(ArchType.UPPER, 9)

    def send(to: Patient) -> dict[str, object]:
        response = client.post(
            "/api/imaging/3d/import",
            headers=headers,
            files={"file": ("upper.stl", stl)},
            data={"patientId": str(to.id)},
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    first = send(patient)
    assert first["duplicateOf"] is None
    first_id = first["scans"][0]["id"]  # type: ignore[index]
    second = send(patient)
    assert second["duplicateOf"] == first_id
    assert second["scans"][0]["duplicateOf"] == first_id  # type: ignore[index]
    assert send(other)["duplicateOf"] is None  # per patient
    second_id = second["scans"][0]["id"]  # type: ignore[index]
    metadata = client.get(f"/api/imaging/3d/{second_id}/metadata", headers=headers).json()
    assert metadata["duplicateOf"] == first_id
    with runtime.session_factory() as db:
        event = db.scalars(
            select(AuditEvent).where(
                AuditEvent.target_id == uuid.UUID(second_id), AuditEvent.action == "image.create"
            )
        ).one()
        assert event.details["duplicate_of"] == first_id


def test_renders_of_a_pending_set_follow_it_when_assigned(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    headers = sign_in(client, doctor)
    patient = create_patient(runtime, clinic)
    body = send_zip(client, headers, bundle(export_xml("Nobody Known")))
    pending = body["pending"]
    assert len(pending) == 2  # type: ignore[arg-type]
    assigned = client.post(
        f"/api/imaging/3d/pending/{pending[0]['id']}/assign",  # type: ignore[index]
        headers=headers,
        json={"patientId": str(patient.id)},
    )
    assert assigned.status_code == 200, assigned.text
    scans = assigned.json()
    with_renders = [
        client.get(f"/api/imaging/3d/{scan['id']}/metadata", headers=headers).json()["renders"]
        for scan in scans
    ]
    assert [len(r) for r in with_renders].count(1) == 1
    owner = next(s for s, r in zip(scans, with_renders, strict=True) if r)
    served = client.get(f"/api/imaging/3d/{owner['id']}/renders/1", headers=headers)
    assert served.status_code == 200 and served.content[:3] == b"\xff\xd8\xff"
    assert [k for k in runtime.store.iter_keys() if "/pending-scans/" in k] == []


def test_the_cli_imports_an_unzipped_export_folder_as_one_bundle_and_skips_duplicates(
    run_cli: object, runtime: Runtime, clinic: Clinic, tmp_path: Path
) -> None:
    ann = create_patient(runtime, clinic, first_name="Ann", last_name="Example")
    top = tmp_path / "exports"
    export = top / "ann-2026-02-11"
    for path, data in export_files(export_xml("Ann, Example")).items():
        (export / path).parent.mkdir(parents=True, exist_ok=True)
        (export / path).write_bytes(data)
    (top / "loose.stl").write_bytes(scan_files.stl(ArchType.LOWER, 12))
    result = run_cli("import", "scans", top, "--patient", ann.id)  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    summary = " ".join(result.output.split())
    assert "ann-2026-02-11/ (one scanner export)" in summary
    assert "Imported 3 arches; 0 wait in the pending queue; 0 duplicates and 0 files skipped." in (
        summary
    )
    with runtime.session_factory() as db:
        images = db.scalars(select(Image).where(Image.patient_id == ann.id)).all()
        by_set: dict[uuid.UUID | None, list[str]] = {}
        for image in images:
            by_set.setdefault(image.scan_set_id, []).append(str(image.category))
        assert sorted(sorted(arches) for arches in by_set.values()) == [
            ["SCAN_LOWER"],
            ["SCAN_LOWER", "SCAN_UPPER"],
        ]
        exported = next(i for i in images if i.category == "SCAN_UPPER")
        assert exported.scanner_type == "ITERO" and exported.info["renders"]
    again = run_cli("import", "scans", top, "--patient", ann.id)  # type: ignore[operator]
    summary = " ".join(again.output.split())
    assert "Imported 0 arches; 0 wait in the pending queue; 3 duplicates" in summary
    with runtime.session_factory() as db:
        assert len(db.scalars(select(Image).where(Image.patient_id == ann.id)).all()) == 3


def test_the_scans_page_takes_an_export_folder_as_one_bundle(
    client: TestClient, runtime: Runtime, clinic: Clinic
) -> None:
    from ortholens.models import Role
    from tests.fixtures.accounts import staff_headers

    ann = create_patient(runtime, clinic, first_name="Ann", last_name="Example")
    headers = staff_headers(client, runtime, clinic, Role.DOCTOR)
    page = client.get(f"/patients/{ann.id}/scans", headers=headers)
    assert "webkitdirectory" in page.text and "data-import-folder" in page.text
    files = export_files(export_xml("Example, Ann"))
    # the folder input's files, named with their relative paths as Chromium sends them
    parts = [("file", (f"ann-export/{path}", data)) for path, data in files.items()]
    sent = client.post(
        f"/patients/{ann.id}/scans/import", headers=headers, files=parts, follow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    with runtime.session_factory() as db:
        images = db.scalars(select(Image).where(Image.patient_id == ann.id)).all()
    assert sorted(str(i.category) for i in images) == ["SCAN_LOWER", "SCAN_UPPER"]
    assert len({i.scan_set_id for i in images}) == 1
    assert sent.headers["location"].startswith(
        f"/patients/{ann.id}/scans?set={images[0].scan_set_id}"
    )
