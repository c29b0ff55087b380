"""A photo that failed processing (issue 12: "failed photos stay as clutter"): its reason is kept,
staff can dismiss it (file removed, record and reason kept, audited) or retry it, and it never
counts as the photo of its view (protocol completeness, the review)."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ortholens.kit.db import transaction
from ortholens.models import AuditEvent, ImageStatus, Patient, Role
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_consent, create_patient
from tests.fixtures.accounts import staff_headers_for
from tests.fixtures.failed_photos import failed_upload, image_row
from tests.fixtures.jobs import run_jobs
from tests.fixtures.photos import jpeg


@pytest.fixture
def patient(runtime: Runtime) -> Patient:
    patient = create_patient(runtime, create_clinic(runtime))
    create_consent(runtime, patient)
    return patient


def test_a_failed_photo_is_not_its_views_photo(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    image_id, session_id = failed_upload(client, runtime, patient)
    headers = staff_headers_for(client, runtime, patient, Role.DOCTOR)
    url = f"/api/patients/{patient.id}/protocols/builtin:remote-monitoring-5/completeness"
    body = client.get(url, headers=headers).json()
    assert "intraoral frontal" in body["missing"], body
    review = client.get(f"/api/scans/sessions/{session_id}", headers=headers)
    assert review.status_code == 200, review.text
    assert image_id not in review.text
    # Still in the gallery, with its reason, for staff to act on.
    item = client.get(f"/api/images/{image_id}", headers=headers).json()
    assert item["status"] == "FAILED" and item["failureReason"]


def test_dismissing_removes_the_bytes_and_keeps_the_record(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    image_id, _ = failed_upload(client, runtime, patient)
    before = image_row(runtime, image_id)
    headers = staff_headers_for(client, runtime, patient, Role.CLINICAL_STAFF)
    response = client.post(f"/api/images/{image_id}/dismiss", headers=headers)
    assert response.status_code == 200, response.text
    after = image_row(runtime, image_id)
    assert runtime.store.head(before.original_key) is None
    assert after.deleted_at is not None and after.variants == {}
    assert after.failure_reason == before.failure_reason
    assert after.info["dismissed"]["reason"] == before.failure_reason
    gallery = client.get(f"/api/patients/{patient.id}/images", headers=headers).json()["items"]
    assert image_id not in [i["id"] for i in gallery]
    with runtime.session_factory() as session:
        actions = list(
            session.scalars(
                select(AuditEvent.action).where(AuditEvent.target_id == uuid.UUID(image_id))
            )
        )
    assert "image.dismiss" in actions
    # Gone for good: no restore, no second dismissal.
    admin = staff_headers_for(client, runtime, patient, Role.CLINIC_ADMIN)
    assert client.post(f"/api/images/{image_id}/restore", headers=admin).status_code == 409
    assert client.post(f"/api/images/{image_id}/dismiss", headers=admin).status_code == 404


def test_the_storage_check_does_not_count_a_dismissed_photo(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    from ortholens.image.integrity import check_storage

    image_id, _ = failed_upload(client, runtime, patient)
    headers = staff_headers_for(client, runtime, patient, Role.DOCTOR)
    assert client.post(f"/api/images/{image_id}/dismiss", headers=headers).status_code == 200
    with transaction(runtime.session_factory) as session:
        report = check_storage(session, runtime.store)
    assert image_id not in report.missing_originals


def test_retrying_processes_the_photo_again(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    image_id, _ = failed_upload(client, runtime, patient)
    original_key = image_row(runtime, image_id).original_key
    runtime.store.delete(original_key)  # replace the damaged bytes by a readable photo
    runtime.store.put(original_key, jpeg(6), content_type="image/jpeg")
    headers = staff_headers_for(client, runtime, patient, Role.FRONT_DESK)
    response = client.post(f"/api/images/{image_id}/retry", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "UPLOADED"
    run_jobs(runtime)
    assert image_row(runtime, image_id).status is ImageStatus.READY
    # Only a failed photo can be retried or dismissed.
    assert client.post(f"/api/images/{image_id}/retry", headers=headers).status_code == 409
    assert client.post(f"/api/images/{image_id}/dismiss", headers=headers).status_code == 409


def test_roles_without_capture_cannot_dismiss(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    image_id, _ = failed_upload(client, runtime, patient)
    for role in (Role.BILLING, Role.READ_ONLY):
        headers = staff_headers_for(client, runtime, patient, role)
        assert client.post(f"/api/images/{image_id}/dismiss", headers=headers).status_code == 403
    other = create_clinic(runtime)
    from tests.fixtures.accounts import staff_headers

    stranger = staff_headers(client, runtime, other, Role.CLINIC_ADMIN)
    assert client.post(f"/api/images/{image_id}/dismiss", headers=stranger).status_code == 404
    assert runtime.store.head(image_row(runtime, image_id).original_key) is not None
