"""Portal invitations (seed 004 section 1): issuing, checking, and registering with them once."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update

from ortholens.auth.tokens import token_digest
from ortholens.kit.db import transaction, utcnow
from ortholens.models import AuthSession, Patient, PatientInvite, PatientStatus
from ortholens.runtime import Runtime
from tests.factories import create_patient
from tests.patient.portal import (
    PATIENT_PASSWORD,
    Practice,
    audit_events,
    invite,
    practice,
    register,
)


@pytest.fixture
def home(client: TestClient, runtime: Runtime) -> Practice:
    return practice(client, runtime)


@pytest.fixture
def patient(runtime: Runtime, home: Practice) -> Patient:
    return create_patient(runtime, home.clinic, first_name="Grace", last_name="Hopper")


def _invite_row(runtime: Runtime, token: str) -> PatientInvite:
    with transaction(runtime.session_factory) as session:
        row = session.scalar(
            select(PatientInvite).where(PatientInvite.token_hash == token_digest(token))
        )
    assert row is not None
    return row


def _validate(client: TestClient, token: str) -> dict[str, object]:
    response = client.get(f"/api/patient-auth/validate-invite/{token}")
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def test_invite_answers_token_url_and_expiry(
    client: TestClient, home: Practice, patient: Patient
) -> None:
    body = invite(client, home.headers, patient.id, email="grace@example.com")
    assert re.fullmatch(r"[0-9a-f]{64}", body["token"])
    assert body["inviteUrl"] == f"http://testserver/register/{body['token']}"
    expires = body["expiresAt"]
    delta = datetime.fromisoformat(expires) - (utcnow() + timedelta(days=7))
    assert abs(delta.total_seconds()) < 60


def test_only_the_tokens_hash_is_stored(
    client: TestClient, runtime: Runtime, home: Practice, patient: Patient
) -> None:
    token = invite(client, home.headers, patient.id)["token"]
    with transaction(runtime.session_factory) as session:
        rows = session.execute(text("SELECT * FROM patient_invites")).all()
    assert len(rows) == 1
    assert token not in " ".join(str(value) for value in rows[0])
    assert _invite_row(runtime, token).token_hash == token_digest(token)


def test_invite_is_audited_without_the_token(
    client: TestClient, runtime: Runtime, home: Practice, patient: Patient
) -> None:
    token = invite(client, home.headers, patient.id)["token"]
    [event] = audit_events(runtime, "patient.invite")
    assert event.target_id == patient.id
    assert token not in str(event.details)


def test_a_valid_invite_names_the_patient_by_first_name(
    client: TestClient, home: Practice, patient: Patient
) -> None:
    token = invite(client, home.headers, patient.id, email="Grace@Example.com")["token"]
    assert _validate(client, token) == {
        "valid": True,
        "patientName": "Grace",
        "email": "grace@example.com",
        "reason": None,
    }


def test_an_unknown_invite_is_not_valid(client: TestClient) -> None:
    assert _validate(client, "ab" * 32) == {
        "valid": False,
        "patientName": None,
        "email": None,
        "reason": "unknown",
    }


def test_an_expired_invite_is_not_valid(
    client: TestClient, runtime: Runtime, home: Practice, patient: Patient
) -> None:
    token = invite(client, home.headers, patient.id)["token"]
    with transaction(runtime.session_factory) as session:
        session.execute(update(PatientInvite).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert _validate(client, token)["reason"] == "expired"
    assert register(client, token, "grace@example.com").status_code == 410


def test_a_used_invite_is_not_valid(client: TestClient, home: Practice, patient: Patient) -> None:
    token = invite(client, home.headers, patient.id)["token"]
    assert register(client, token, "grace@example.com").status_code == 200
    assert _validate(client, token) == {
        "valid": False,
        "patientName": None,
        "email": None,
        "reason": "used",
    }


def test_a_new_invite_voids_the_old_one(
    client: TestClient, home: Practice, patient: Patient
) -> None:
    old = invite(client, home.headers, patient.id)["token"]
    new = invite(client, home.headers, patient.id)["token"]
    assert _validate(client, old)["reason"] == "revoked"
    assert register(client, old, "grace@example.com").status_code == 410
    assert _validate(client, new)["valid"] is True


def test_archiving_voids_open_invites(client: TestClient, home: Practice, patient: Patient) -> None:
    token = invite(client, home.headers, patient.id)["token"]
    client.post(f"/api/patients/{patient.id}/archive", headers=home.headers)
    assert _validate(client, token)["reason"] == "revoked"


def test_an_archived_patient_cannot_be_invited(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    archived = create_patient(runtime, home.clinic, status=PatientStatus.ARCHIVED)
    response = client.post(f"/api/patients/{archived.id}/invite", headers=home.headers)
    assert response.status_code == 409


def test_a_registered_patient_cannot_be_invited_again(
    client: TestClient, home: Practice, patient: Patient
) -> None:
    token = invite(client, home.headers, patient.id)["token"]
    register(client, token, "grace@example.com")
    response = client.post(f"/api/patients/{patient.id}/invite", headers=home.headers)
    assert response.status_code == 409


def _refresh_cookie(response: Any) -> str:
    cookies: list[str] = response.headers.get_list("set-cookie")
    [cookie] = [c for c in cookies if c.startswith("patient_refresh=")]
    return cookie


def test_register_sets_the_refresh_cookie(
    client: TestClient, home: Practice, patient: Patient
) -> None:
    token = invite(client, home.headers, patient.id)["token"]
    response = register(client, token, "grace@example.com")
    assert response.status_code == 200, response.text
    cookie = _refresh_cookie(response)
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "secure" in attributes
    assert "samesite=strict" in attributes
    [max_age] = [int(a.split("=")[1]) for a in attributes if a.startswith("max-age=")]
    assert abs(max_age - 30 * 24 * 3600) < 60


def test_register_answers_a_token_that_reaches_the_patients_profile(
    client: TestClient, home: Practice, patient: Patient
) -> None:
    token = invite(client, home.headers, patient.id)["token"]
    body = register(client, token, "Grace@Example.com").json()
    assert body["patient"]["id"] == str(patient.id)
    assert body["csrfToken"]
    client.cookies.clear()
    me = client.get(
        "/api/patient-auth/me", headers={"Authorization": f"Bearer {body['accessToken']}"}
    )
    assert me.status_code == 200
    assert me.json()["email"] == "grace@example.com"


def test_register_stores_an_argon2_hash(
    client: TestClient, runtime: Runtime, home: Practice, patient: Patient
) -> None:
    token = invite(client, home.headers, patient.id)["token"]
    register(client, token, "grace@example.com")
    with transaction(runtime.session_factory) as session:
        stored = session.get(Patient, patient.id)
        assert stored is not None
        assert stored.portal_password_hash is not None
        assert stored.portal_password_hash.startswith("$argon2id$")
        assert stored.onboarded_at is not None


def test_register_is_audited(
    client: TestClient, runtime: Runtime, home: Practice, patient: Patient
) -> None:
    token = invite(client, home.headers, patient.id)["token"]
    register(client, token, "grace@example.com")
    [event] = audit_events(runtime, "patient.register")
    assert (event.actor_id, event.target_id) == (patient.id, patient.id)
    assert "grace" not in str(event.details).lower()


def test_an_invite_registers_only_once(
    client: TestClient, home: Practice, patient: Patient
) -> None:
    token = invite(client, home.headers, patient.id)["token"]
    assert register(client, token, "grace@example.com").status_code == 200
    second = register(client, token, "mallory@example.com")
    assert second.status_code == 409
    assert "already been used" in second.json()["detail"]


def test_an_unknown_invite_cannot_register(client: TestClient) -> None:
    assert register(client, "cd" * 32, "grace@example.com").status_code == 404


def test_two_concurrent_registrations_with_one_invite_one_wins(
    client: TestClient, runtime: Runtime, home: Practice, patient: Patient
) -> None:
    token = invite(client, home.headers, patient.id)["token"]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def attempt(email: str) -> None:
        own = TestClient(client.app, base_url="https://testserver")
        barrier.wait()
        statuses.append(register(own, token, email).status_code)

    threads = [threading.Thread(target=attempt, args=(f"racer{i}@example.com",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 409]
    with transaction(runtime.session_factory) as session:
        sessions = session.scalar(
            select(func.count())
            .select_from(AuthSession)
            .where(AuthSession.patient_id == patient.id)
        )
    assert sessions == 1


def test_a_weak_password_is_refused_and_changes_nothing(
    client: TestClient, runtime: Runtime, home: Practice, patient: Patient
) -> None:
    token = invite(client, home.headers, patient.id)["token"]
    response = register(client, token, "grace@example.com", password="short")
    assert response.status_code == 422
    assert _invite_row(runtime, token).used_at is None
    with transaction(runtime.session_factory) as session:
        stored = session.get(Patient, patient.id)
        assert stored is not None
        assert (stored.portal_email, stored.portal_password_hash) == (None, None)


def test_an_email_in_use_by_another_patient_is_refused(
    client: TestClient, runtime: Runtime, home: Practice, patient: Patient
) -> None:
    first = invite(client, home.headers, patient.id)["token"]
    register(client, first, "family@example.com")
    sibling = create_patient(runtime, home.clinic)
    second = invite(client, home.headers, sibling.id)["token"]
    response = register(client, second, "Family@example.com")
    assert response.status_code == 409
    assert _invite_row(runtime, second).used_at is None


def test_registering_leaves_the_password_out_of_the_response(
    client: TestClient, home: Practice, patient: Patient
) -> None:
    token = invite(client, home.headers, patient.id)["token"]
    response = register(client, token, "grace@example.com")
    assert PATIENT_PASSWORD not in response.text
    assert "argon2" not in response.text
