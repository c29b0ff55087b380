"""Staff multipart upload of many photos, and `ortholens import photos DIR --patient ID`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ortholens.models import Image, ImageSource, Patient, Role
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_consent, create_patient
from tests.fixtures.accounts import staff_headers_for
from tests.fixtures.photos import jpeg


@pytest.fixture
def patient(runtime: Runtime) -> Patient:
    patient = create_patient(runtime, create_clinic(runtime))
    create_consent(runtime, patient)
    return patient


def count_images(runtime: Runtime) -> int:
    with runtime.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Image)) or 0)


def test_many_photos_at_once_with_a_duplicate_reported(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    headers = staff_headers_for(client, runtime, patient, Role.CLINICAL_STAFF)
    files = [("files", (f"p{i}.jpg", jpeg(i), "image/jpeg")) for i in range(3)]
    files.append(("files", ("again.jpg", jpeg(0), "image/jpeg")))
    response = client.post(f"/api/patients/{patient.id}/images", headers=headers, files=files)
    assert response.status_code == 201, response.text
    body = response.json()
    assert [r["duplicateOf"] is None for r in body] == [True, True, True, False]
    assert body[3]["duplicateOf"] == body[0]["imageId"]
    assert count_images(runtime) == 4


def test_one_bad_file_refuses_the_whole_request_and_leaves_nothing(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    headers = staff_headers_for(client, runtime, patient, Role.CLINICAL_STAFF)
    files = [
        ("files", ("good.jpg", jpeg(1), "image/jpeg")),
        ("files", ("notes.jpg", b"just some text, not a photo", "image/jpeg")),
    ]
    response = client.post(f"/api/patients/{patient.id}/images", headers=headers, files=files)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("notes.jpg:")
    assert count_images(runtime) == 0
    assert list(runtime.store.iter_keys()) == []


def test_front_desk_may_upload_photos_billing_may_not(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    files = [("files", ("p.jpg", jpeg(2), "image/jpeg"))]
    desk = client.post(
        f"/api/patients/{patient.id}/images",
        headers=staff_headers_for(client, runtime, patient, Role.FRONT_DESK),
        files=files,
    )
    assert desk.status_code == 201
    billing = client.post(
        f"/api/patients/{patient.id}/images",
        headers=staff_headers_for(client, runtime, patient, Role.BILLING),
        files=files,
    )
    assert billing.status_code == 403


def test_import_a_folder_reports_duplicates_and_skips_non_photos(
    runtime: Runtime, patient: Patient, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    folder = tmp_path / "archive"
    (folder / "2019").mkdir(parents=True)
    (folder / "2019" / "a.jpg").write_bytes(jpeg(1))
    (folder / "2019" / "b.JPG").write_bytes(jpeg(2))
    (folder / "copy-of-a.jpeg").write_bytes(jpeg(1))
    (folder / "notes.txt").write_text("not a photo")
    result = run_cli("import", "photos", folder, "--patient", patient.id)
    assert result.exit_code == 0, result.output
    assert "Imported 2 photos; 1 duplicates and 1 other files skipped." in result.output
    with runtime.session_factory() as session:
        sources = list(session.scalars(select(Image.source)))
    assert sources == [ImageSource.IMPORT, ImageSource.IMPORT]
