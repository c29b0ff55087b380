"""The staff gallery pages through the ASGI app: a patient's photos for a doctor, metadata only
for billing, filters, "load more", the image detail with its quality verdict, soft delete, and
another clinic's patient."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ortholens.models import Image, ImageStatus, Patient, Role
from ortholens.runtime import Runtime
from tests.factories import (
    create_clinic,
    create_consent,
    create_patient,
    create_user,
    patient_token,
    sign_in,
)
from tests.fixtures.accounts import staff_headers_for
from tests.fixtures.jobs import run_jobs
from tests.fixtures.photos import jpeg
from tests.fixtures.uploads import upload

SIGNED_IMG = re.compile(r'<img class="photo-card__img" src="([^"]+)"[^>]*loading="lazy"')


@pytest.fixture
def patient(runtime: Runtime) -> Patient:
    patient = create_patient(runtime, create_clinic(runtime, "Bright Smiles"), first_name="Ana")
    create_consent(runtime, patient)
    return patient


@pytest.fixture
def photos(client: TestClient, runtime: Runtime, patient: Patient) -> dict[str, str]:
    """Three processed photos of one scan session: image type -> image id."""
    headers = patient_token(runtime, patient)
    scan = client.post("/api/patient/scans/sessions", headers=headers).json()
    ids = {
        image_type: str(upload(client, headers, scan["id"], image_type, jpeg(seed))["id"])
        for seed, image_type in enumerate(["FRONTAL", "RIGHT", "LEFT"])
    }
    run_jobs(runtime)
    client.cookies.clear()
    return ids | {"session": scan["id"]}


def test_a_doctor_sees_the_thumbnails_and_the_detail(
    client: TestClient, runtime: Runtime, patient: Patient, photos: dict[str, str]
) -> None:
    doctor = staff_headers_for(client, runtime, patient, Role.DOCTOR)

    record = client.get(f"/patients/{patient.id}", headers=doctor)
    assert record.status_code == 200
    assert f'href="/patients/{patient.id}/photos"' in record.text

    page = client.get(f"/patients/{patient.id}/photos", headers=doctor)
    assert page.status_code == 200, page.text
    thumbnails = SIGNED_IMG.findall(page.text)
    assert len(thumbnails) == 3
    assert all("signature" in url or "sig=" in url or "?" in url for url in thumbnails)
    fetched = client.get(thumbnails[0].replace("&amp;", "&"))
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/webp"
    for image_id in (photos["FRONTAL"], photos["RIGHT"], photos["LEFT"]):
        assert f"/patients/{patient.id}/photos/{image_id}" in page.text
    assert "Intraoral frontal" in page.text and "Right buccal" in page.text

    filtered = client.get(f"/patients/{patient.id}/photos?view=IV01", headers=doctor)
    assert len(SIGNED_IMG.findall(filtered.text)) == 1
    by_session = client.get(
        f"/patients/{patient.id}/photos?session={photos['session']}", headers=doctor
    )
    assert len(SIGNED_IMG.findall(by_session.text)) == 3
    none = client.get(f"/patients/{patient.id}/photos?type=XRAY", headers=doctor)
    assert "No photos match" in none.text

    detail = client.get(f"/patients/{patient.id}/photos/{photos['FRONTAL']}", headers=doctor)
    assert detail.status_code == 200, detail.text
    text = detail.text
    assert "Intraoral frontal" in text and "IV07" in text
    assert "Set by a person" in text  # the patient named the view in the wizard
    assert "Quality" in text and "Focus" in text and "Exposure" in text and "Resolution" in text
    assert re.search(r'<img class="photo-detail__img" src="[^"]+"', text)
    assert "1200 \u00d7 900 px" in text
    assert "Request deletion" in text  # a doctor's delete is a request (IMAGING_DELETE scope)


def test_load_more_pages_with_a_cursor(
    client: TestClient,
    runtime: Runtime,
    patient: Patient,
    photos: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ortholens.web import photos as photo_pages

    monkeypatch.setattr(photo_pages, "PAGE_SIZE", 2)
    doctor = staff_headers_for(client, runtime, patient, Role.DOCTOR)
    first = client.get(f"/patients/{patient.id}/photos", headers=doctor)
    assert len(SIGNED_IMG.findall(first.text)) == 2
    more = re.search(r'hx-get="([^"]+cursor=[^"]+)"', first.text)
    assert more is not None
    rest = client.get(more.group(1).replace("&amp;", "&"), headers={**doctor, "HX-Request": "true"})
    assert rest.status_code == 200
    assert "<html" not in rest.text
    assert len(SIGNED_IMG.findall(rest.text)) == 1
    assert 'id="photos-more"' in rest.text and "Load more photos" not in rest.text


def test_billing_sees_metadata_without_images(
    client: TestClient, runtime: Runtime, patient: Patient, photos: dict[str, str]
) -> None:
    billing = staff_headers_for(client, runtime, patient, Role.BILLING)
    page = client.get(f"/patients/{patient.id}/photos", headers=billing)
    assert page.status_code == 200, page.text
    assert SIGNED_IMG.findall(page.text) == []
    assert "/objects/" not in page.text and "photo-card__img" not in page.text
    assert "Image hidden for your role" in page.text
    detail = client.get(f"/patients/{patient.id}/photos/{photos['LEFT']}", headers=billing)
    assert detail.status_code == 200
    assert "photo-detail__img" not in detail.text and "/objects/" not in detail.text
    assert "Left buccal" in detail.text
    assert "Request deletion" not in detail.text and ">Delete<" not in detail.text


def test_a_clinic_admin_soft_deletes_an_image(
    client: TestClient, runtime: Runtime, patient: Patient, photos: dict[str, str]
) -> None:
    admin = staff_headers_for(client, runtime, patient, Role.CLINIC_ADMIN)
    detail = client.get(f"/patients/{patient.id}/photos/{photos['RIGHT']}", headers=admin)
    assert ">Delete<" in detail.text
    deleted = client.post(
        f"/patients/{patient.id}/photos/{photos['RIGHT']}/delete",
        headers=admin,
        follow_redirects=False,
    )
    assert deleted.status_code == 303
    assert deleted.headers["location"].endswith("/photos?notice=deleted")
    with runtime.session_factory() as session:
        image = session.get(Image, uuid.UUID(photos["RIGHT"]))
        assert image is not None and image.deleted_at is not None
        ready = session.scalars(
            select(Image).where(Image.patient_id == patient.id, Image.deleted_at.is_(None))
        ).all()
        assert {i.status for i in ready} == {ImageStatus.READY}
    page = client.get(f"/patients/{patient.id}/photos", headers=admin)
    assert len(SIGNED_IMG.findall(page.text)) == 2


def test_another_clinics_patient_is_not_found(
    client: TestClient, runtime: Runtime, patient: Patient, photos: dict[str, str]
) -> None:
    other = sign_in(client, create_user(runtime, create_clinic(runtime, "Elsewhere"), Role.DOCTOR))
    client.cookies.clear()
    page = client.get(f"/patients/{patient.id}/photos", headers=other)
    assert page.status_code == 404
    assert "<html" in page.text and "photo-card" not in page.text
    detail = client.get(f"/patients/{patient.id}/photos/{photos['FRONTAL']}", headers=other)
    assert detail.status_code == 404
