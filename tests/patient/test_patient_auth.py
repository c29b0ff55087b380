"""Patient portal sign-in: login, refresh, logout, throttling, and what a patient token reaches."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ortholens.models import AuditOutcome, Patient, Role
from ortholens.runtime import Runtime
from tests.factories import PASSWORD, create_consent, create_user
from tests.patient.portal import (
    PATIENT_PASSWORD,
    Practice,
    audit_events,
    onboard,
    practice,
    problem,
)

EMAIL = "grace@example.com"
LOGIN = "/api/patient-auth/login"


@pytest.fixture
def home(client: TestClient, runtime: Runtime) -> Practice:
    return practice(client, runtime)


@pytest.fixture
def grace(client: TestClient, runtime: Runtime, home: Practice) -> Patient:
    patient, _ = onboard(client, runtime, home, email=EMAIL)
    return patient


def _login(client: TestClient, email: str = EMAIL, password: str = PATIENT_PASSWORD) -> Any:
    return client.post(LOGIN, json={"email": email, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_login_answers_tokens_and_the_patients_profile(client: TestClient, grace: Patient) -> None:
    response = _login(client, email="Grace@Example.com")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["patient"]["id"] == str(grace.id)
    client.cookies.clear()
    assert (
        client.get("/api/patient-auth/me", headers=_bearer(body["accessToken"])).status_code == 200
    )


def test_login_is_audited(client: TestClient, runtime: Runtime, grace: Patient) -> None:
    _login(client)
    [event] = audit_events(runtime, "patient.login")
    assert event.actor_id == grace.id
    assert event.outcome is AuditOutcome.SUCCESS


def test_unknown_email_and_wrong_password_get_the_same_answer(
    client: TestClient, grace: Patient
) -> None:
    wrong_password = _login(client, password="not the password")
    unknown_email = _login(client, email="nobody@example.com")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert problem(wrong_password) == problem(unknown_email)


@pytest.mark.parametrize("email", [EMAIL, "nobody@example.com"])
def test_five_failures_block_the_account_whether_or_not_it_exists(
    client: TestClient, grace: Patient, email: str
) -> None:
    for _ in range(5):
        assert _login(client, email=email, password="not the password").status_code == 401
    blocked = _login(client, email=email, password=PATIENT_PASSWORD)
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers


def test_refresh_with_the_cookie_rotates_the_token(client: TestClient, grace: Patient) -> None:
    first = _login(client).json()
    assert client.post("/api/patient-auth/refresh").status_code == 403  # no CSRF echo
    csrf = {"X-CSRF-Token": first["csrfToken"]}
    response = client.post("/api/patient-auth/refresh", headers=csrf)
    assert response.status_code == 200, response.text
    assert response.json()["refreshToken"] != first["refreshToken"]


def test_a_reused_refresh_token_ends_the_session(client: TestClient, grace: Patient) -> None:
    first = _login(client).json()
    client.cookies.clear()
    refresh = "/api/patient-auth/refresh"
    newer = client.post(refresh, json={"refreshToken": first["refreshToken"]}).json()
    assert client.post(refresh, json={"refreshToken": first["refreshToken"]}).status_code == 401
    assert client.post(refresh, json={"refreshToken": newer["refreshToken"]}).status_code == 401


def test_a_staff_refresh_token_is_refused(client: TestClient, runtime: Runtime) -> None:
    user = create_user(runtime, None, Role.SUPER_ADMIN)
    staff = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    client.cookies.clear()
    response = client.post(
        "/api/patient-auth/refresh", json={"refreshToken": staff.json()["refreshToken"]}
    )
    assert response.status_code == 401


def test_logout_ends_the_session_at_once(client: TestClient, grace: Patient) -> None:
    token = _login(client).json()["accessToken"]
    client.cookies.clear()
    assert client.post("/api/patient-auth/logout", headers=_bearer(token)).status_code == 204
    assert client.get("/api/patient-auth/me", headers=_bearer(token)).status_code == 401


def test_a_patient_token_is_refused_on_staff_routes(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    patient, headers = onboard(client, runtime, home)
    assert client.get("/api/patients", headers=headers).status_code == 401
    assert client.get(f"/api/patients/{patient.id}", headers=headers).status_code == 401


def test_a_staff_token_is_refused_on_patient_routes(client: TestClient, home: Practice) -> None:
    assert client.get("/api/patient-auth/me", headers=home.headers).status_code == 401
    assert client.get("/api/patient/consents", headers=home.headers).status_code == 401


def test_a_patient_sees_only_their_own_consents(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    ada, ada_headers = onboard(client, runtime, home)
    bob, _ = onboard(client, runtime, home)
    create_consent(runtime, ada)
    create_consent(runtime, bob)
    own = client.get("/api/patient/consents", headers=ada_headers)
    assert [c["patientId"] for c in own.json()["items"]] == [str(ada.id)]
    others = client.get(f"/api/patients/{bob.id}/consents", headers=ada_headers)
    assert others.status_code == 401


def test_an_archived_patients_token_stops_working_at_once(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    patient, headers = onboard(client, runtime, home)
    assert client.get("/api/patient-auth/me", headers=headers).status_code == 200
    client.post(f"/api/patients/{patient.id}/archive", headers=home.headers)
    assert client.get("/api/patient-auth/me", headers=headers).status_code == 401


def test_an_archived_patient_cannot_sign_in(
    client: TestClient, home: Practice, grace: Patient
) -> None:
    client.post(f"/api/patients/{grace.id}/archive", headers=home.headers)
    archived = _login(client)
    unknown = _login(client, email="nobody@example.com")
    assert archived.status_code == 401
    assert problem(archived) == problem(unknown)


def test_me_answers_the_patients_own_profile(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    patient, headers = onboard(client, runtime, home, email="me@example.com")
    body = client.get("/api/patient-auth/me", headers=headers).json()
    assert (body["id"], body["email"]) == (str(patient.id), "me@example.com")
    assert not any("password" in key.lower() for key in body)
