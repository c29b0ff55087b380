"""Clinic admins manage their own staff, and only their own."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from ortholens.models import Role
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_user, sign_in


def admin_headers(client: TestClient, runtime: Runtime) -> tuple[object, dict[str, str]]:
    clinic = create_clinic(runtime)
    headers = sign_in(client, create_user(runtime, clinic, Role.CLINIC_ADMIN))
    client.cookies.clear()
    return clinic, headers


def test_add_staff_then_they_set_a_password_and_sign_in(
    client: TestClient, runtime: Runtime
) -> None:
    _, headers = admin_headers(client, runtime)
    created = client.post(
        "/api/clinic/staff",
        headers=headers,
        json={"email": "New.Doctor@Example.com", "fullName": "New Doctor", "role": "doctor"},
    )
    assert created.status_code == 201
    body = created.json()
    assert body["user"]["email"] == "new.doctor@example.com"
    token = body["inviteUrl"].rsplit("/welcome/", 1)[1]
    before = client.post(
        "/api/auth/login", json={"email": "new.doctor@example.com", "password": "!invite-pending"}
    )
    assert before.status_code == 401
    accepted = client.post(
        "/api/clinic/staff/accept-invite", json={"token": token, "password": "a fine passphrase"}
    )
    assert accepted.status_code == 204
    again = client.post(
        "/api/clinic/staff/accept-invite", json={"token": token, "password": "another passphrase"}
    )
    assert again.status_code == 422  # the link works once
    login = client.post(
        "/api/auth/login", json={"email": "new.doctor@example.com", "password": "a fine passphrase"}
    )
    assert login.status_code == 200


def test_duplicate_email_is_a_conflict(client: TestClient, runtime: Runtime) -> None:
    clinic, headers = admin_headers(client, runtime)
    existing = create_user(runtime, clinic)  # type: ignore[arg-type]
    response = client.post(
        "/api/clinic/staff",
        headers=headers,
        json={"email": existing.email, "fullName": "Dup", "role": "doctor"},
    )
    assert response.status_code == 409


def test_clinic_admin_cannot_create_a_super_admin(client: TestClient, runtime: Runtime) -> None:
    _, headers = admin_headers(client, runtime)
    response = client.post(
        "/api/clinic/staff",
        headers=headers,
        json={"email": "boss@example.com", "fullName": "Boss", "role": "super_admin"},
    )
    assert response.status_code == 403


def test_list_and_changes_are_limited_to_the_own_clinic(
    client: TestClient, runtime: Runtime
) -> None:
    _, headers = admin_headers(client, runtime)
    stranger = create_user(runtime, create_clinic(runtime), Role.DOCTOR)
    listed = client.get("/api/clinic/staff", headers=headers).json()
    assert str(stranger.id) not in {member["id"] for member in listed}
    theirs = client.patch(
        f"/api/clinic/staff/{stranger.id}", headers=headers, json={"role": "billing"}
    )
    random = client.patch(
        f"/api/clinic/staff/{uuid.uuid4()}", headers=headers, json={"role": "billing"}
    )
    assert theirs.status_code == random.status_code == 404
    assert theirs.json()["detail"] == random.json()["detail"]
    assert (
        client.post(f"/api/clinic/staff/{stranger.id}/disable", headers=headers).status_code == 404
    )


def test_the_last_clinic_admin_cannot_be_demoted_or_disabled(
    client: TestClient, runtime: Runtime
) -> None:
    _clinic, headers = admin_headers(client, runtime)
    me = client.get("/api/auth/me", headers=headers).json()["user"]
    demote = client.patch(f"/api/clinic/staff/{me['id']}", headers=headers, json={"role": "doctor"})
    assert demote.status_code == 409
    assert client.post(f"/api/clinic/staff/{me['id']}/disable", headers=headers).status_code == 409


def test_disable_and_enable(client: TestClient, runtime: Runtime) -> None:
    clinic, headers = admin_headers(client, runtime)
    doctor = create_user(runtime, clinic, Role.DOCTOR)  # type: ignore[arg-type]
    disabled = client.post(f"/api/clinic/staff/{doctor.id}/disable", headers=headers).json()
    assert disabled["disabledAt"] is not None
    enabled = client.post(f"/api/clinic/staff/{doctor.id}/enable", headers=headers).json()
    assert enabled["disabledAt"] is None
