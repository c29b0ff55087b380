"""The photo page of a failed photo offers "Try again" and "Dismiss" to staff who capture photos,
and the buttons do what the API does."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ortholens.models import ImageStatus, Patient, Role
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_consent, create_patient, create_user, sign_in
from tests.fixtures.failed_photos import failed_upload, image_row


@pytest.fixture
def patient(runtime: Runtime) -> Patient:
    patient = create_patient(runtime, create_clinic(runtime))
    create_consent(runtime, patient)
    return patient


def _page(client: TestClient, runtime: Runtime, patient: Patient, role: Role, url: str) -> str:
    from ortholens.models import Clinic

    with runtime.session_factory() as session:
        clinic = session.get(Clinic, patient.clinic_id)
    assert clinic is not None
    client.cookies.clear()
    sign_in(client, create_user(runtime, clinic, role))  # keeps the session cookies
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response.text


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_the_buttons_show_for_capturing_roles_only(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    image_id, _ = failed_upload(client, runtime, patient)
    url = f"/patients/{patient.id}/photos/{image_id}"
    assert "data-failed-photo-actions" in _page(client, runtime, patient, Role.CLINICAL_STAFF, url)
    assert "data-failed-photo-actions" not in _page(client, runtime, patient, Role.READ_ONLY, url)


def test_dismiss_and_retry_through_the_page(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    first, _ = failed_upload(client, runtime, patient)
    second, _ = failed_upload(client, runtime, patient, "LEFT")
    html = _page(client, runtime, patient, Role.DOCTOR, f"/patients/{patient.id}/photos/{first}")
    token = _csrf(html)
    retried = client.post(
        f"/patients/{patient.id}/photos/{first}/retry",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert retried.status_code == 303
    assert retried.headers["location"].endswith("notice=retrying")
    assert image_row(runtime, first).status is ImageStatus.UPLOADED
    key = image_row(runtime, second).original_key
    dismissed = client.post(
        f"/patients/{patient.id}/photos/{second}/dismiss",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert dismissed.status_code == 303
    assert runtime.store.head(key) is None
    assert "dismissed" in client.get(dismissed.headers["location"]).text
