"""Control characters in text fields are refused with 422, the same on SQLite and PostgreSQL
(issue 12: NUL bytes in names and messages were stored by SQLite, while PostgreSQL refuses NUL in
text, so the backends differed). Line breaks stay allowed where a text has lines (messages)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ortholens.models import MessageThread, Patient, Role, User
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_patient, create_user, sign_in
from tests.fixtures.accounts import staff_headers

BAD = ["Ada\x00", "Ada\x07Byron", "\x1b[31mAda", "Ada\x7f"]


def _count(runtime: Runtime, model: type[object]) -> int:
    with runtime.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", BAD)
def test_patient_names_with_control_characters_are_refused(
    client: TestClient, runtime: Runtime, name: str
) -> None:
    headers = staff_headers(client, runtime, create_clinic(runtime), Role.DOCTOR)
    before = _count(runtime, Patient)
    response = client.post(
        "/api/patients", headers=headers, json={"firstName": name, "lastName": "Byron"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "firstName"]
    assert _count(runtime, Patient) == before


def test_a_patient_update_and_a_guardian_name_are_checked_too(
    client: TestClient, runtime: Runtime
) -> None:
    clinic = create_clinic(runtime)
    patient = create_patient(runtime, clinic)
    headers = staff_headers(client, runtime, clinic, Role.DOCTOR)
    url = f"/api/patients/{patient.id}"
    assert client.patch(url, headers=headers, json={"lastName": "B\x00"}).status_code == 422
    assert client.patch(url, headers=headers, json={"guardianName": "G\x00"}).status_code == 422
    assert client.patch(url, headers=headers, json={"lastName": "Line\nbreak"}).status_code == 422
    assert client.patch(url, headers=headers, json={"lastName": "Byron"}).status_code == 200


def test_message_subjects_and_texts_refuse_controls_but_keep_line_breaks(
    client: TestClient, runtime: Runtime
) -> None:
    clinic = create_clinic(runtime)
    patient = create_patient(runtime, clinic)
    headers = staff_headers(client, runtime, clinic, Role.DOCTOR)
    url = "/api/messaging/threads"
    before = _count(runtime, MessageThread)
    for body in (
        {"patientId": str(patient.id), "subject": "Hello\x00"},
        {"patientId": str(patient.id), "subject": "Hello", "content": "See you\x00"},
    ):
        assert client.post(url, headers=headers, json=body).status_code == 422
    assert _count(runtime, MessageThread) == before
    thread = client.post(
        url,
        headers=headers,
        json={"patientId": str(patient.id), "subject": "Hello", "content": "Line one\r\nLine two"},
    )
    assert thread.status_code == 201, thread.text
    message = client.post(
        "/api/messaging/messages",
        headers=headers,
        json={"threadId": thread.json()["id"], "content": "\x00"},
    )
    assert message.status_code == 422


def test_staff_names_are_checked(client: TestClient, runtime: Runtime) -> None:
    clinic = create_clinic(runtime)
    headers = staff_headers(client, runtime, clinic, Role.CLINIC_ADMIN)
    before = _count(runtime, User)
    response = client.post(
        "/api/clinic/staff",
        headers=headers,
        json={"email": "new@example.org", "fullName": "New\x00Person", "role": "doctor"},
    )
    assert response.status_code == 422, response.text
    assert _count(runtime, User) == before


def test_page_forms_refuse_control_characters(client: TestClient, runtime: Runtime) -> None:
    user = create_user(runtime, create_clinic(runtime), Role.DOCTOR)
    token = sign_in_with_cookies(client, user)
    before = _count(runtime, Patient)
    response = client.post(
        "/patients",
        data={"first_name": "Ada\x00", "last_name": "Byron", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert _count(runtime, Patient) == before
    ok = client.post(
        "/patients",
        data={"first_name": "Ada", "last_name": "Byron", "csrf_token": token},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def sign_in_with_cookies(client: TestClient, user: User) -> str:
    """Sign in through the API, keeping the cookies; returns the session's CSRF token."""
    sign_in(client, user)
    page = client.get("/patients/new").text
    marker = 'name="csrf_token" value="'
    return page.split(marker, 1)[1].split('"', 1)[0]
