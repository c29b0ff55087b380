"""Refresh rotation, replay detection, and revocation that takes effect on the next request."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ortholens.models import Clinic, Role, User
from ortholens.runtime import Runtime
from tests.factories import PASSWORD, create_clinic, create_user


def sign_in_full(client: TestClient, user: User) -> dict[str, Any]:
    body: dict[str, Any] = client.post(
        "/api/auth/login", json={"email": user.email, "password": PASSWORD}
    ).json()
    client.cookies.clear()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refresh(client: TestClient, token: str) -> Any:
    response = client.post("/api/auth/refresh", json={"refreshToken": token})
    client.cookies.clear()
    return response


def test_refresh_rotates_and_each_token_works_once(client: TestClient, runtime: Runtime) -> None:
    first = sign_in_full(client, create_user(runtime, create_clinic(runtime)))
    second = refresh(client, first["refreshToken"])
    assert second.status_code == 200
    assert second.json()["refreshToken"] != first["refreshToken"]
    assert (
        client.get("/api/auth/me", headers=bearer(second.json()["accessToken"])).status_code == 200
    )
    third = refresh(client, second.json()["refreshToken"])
    assert third.status_code == 200


def test_replayed_refresh_token_revokes_the_whole_family(
    client: TestClient, runtime: Runtime
) -> None:
    first = sign_in_full(client, create_user(runtime, create_clinic(runtime)))
    second = refresh(client, first["refreshToken"]).json()
    replay = refresh(client, first["refreshToken"])
    assert replay.status_code == 401
    # Both the thief's and the owner's tokens of that family are now dead.
    assert refresh(client, second["refreshToken"]).status_code == 401
    assert client.get("/api/auth/me", headers=bearer(second["accessToken"])).status_code == 401


def test_refresh_through_the_cookie(client: TestClient, runtime: Runtime) -> None:
    user = create_user(runtime, create_clinic(runtime))
    login = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    # The cookie is an ambient credential: the refresh echoes the session's CSRF token.
    response = client.post("/api/auth/refresh", headers={"X-CSRF-Token": login.json()["csrfToken"]})
    assert response.status_code == 200
    assert client.cookies.get("ol_refresh") == response.json()["refreshToken"]


def test_logout_ends_the_access_token_at_once(client: TestClient, runtime: Runtime) -> None:
    tokens = sign_in_full(client, create_user(runtime, create_clinic(runtime)))
    assert client.post("/api/auth/logout", headers=bearer(tokens["accessToken"])).status_code == 204
    assert client.get("/api/auth/me", headers=bearer(tokens["accessToken"])).status_code == 401
    assert refresh(client, tokens["refreshToken"]).status_code == 401


def test_password_change_ends_other_sessions(client: TestClient, runtime: Runtime) -> None:
    user = create_user(runtime, create_clinic(runtime))
    laptop, phone = sign_in_full(client, user), sign_in_full(client, user)
    changed = client.post(
        "/api/auth/password",
        headers=bearer(laptop["accessToken"]),
        json={"currentPassword": PASSWORD, "newPassword": "a much better passphrase"},
    )
    client.cookies.clear()
    assert changed.status_code == 200
    assert client.get("/api/auth/me", headers=bearer(phone["accessToken"])).status_code == 401
    assert client.get("/api/auth/me", headers=bearer(laptop["accessToken"])).status_code == 401
    assert (
        client.get("/api/auth/me", headers=bearer(changed.json()["accessToken"])).status_code == 200
    )
    assert refresh(client, phone["refreshToken"]).status_code == 401


def test_weak_new_password_is_refused_and_nothing_changes(
    client: TestClient, runtime: Runtime
) -> None:
    user = create_user(runtime, create_clinic(runtime))
    tokens = sign_in_full(client, user)
    response = client.post(
        "/api/auth/password",
        headers=bearer(tokens["accessToken"]),
        json={"currentPassword": PASSWORD, "newPassword": "short"},
    )
    assert response.status_code == 422
    assert client.get("/api/auth/me", headers=bearer(tokens["accessToken"])).status_code == 200


def admin_and_doctor(client: TestClient, runtime: Runtime) -> tuple[Clinic, str, User, str]:
    clinic = create_clinic(runtime)
    admin = sign_in_full(client, create_user(runtime, clinic, Role.CLINIC_ADMIN))["accessToken"]
    doctor = create_user(runtime, clinic, Role.CLINIC_ADMIN)
    return clinic, admin, doctor, sign_in_full(client, doctor)["accessToken"]


def test_role_change_takes_effect_on_the_next_request(client: TestClient, runtime: Runtime) -> None:
    _, admin, other, other_token = admin_and_doctor(client, runtime)
    assert client.get("/api/audit/events", headers=bearer(other_token)).status_code == 200
    demoted = client.patch(
        f"/api/clinic/staff/{other.id}", headers=bearer(admin), json={"role": "doctor"}
    )
    assert demoted.status_code == 200
    assert client.get("/api/audit/events", headers=bearer(other_token)).status_code == 403


def test_disabling_a_user_ends_their_access_at_once(client: TestClient, runtime: Runtime) -> None:
    _, admin, other, other_token = admin_and_doctor(client, runtime)
    assert (
        client.post(f"/api/clinic/staff/{other.id}/disable", headers=bearer(admin)).status_code
        == 200
    )
    assert client.get("/api/auth/me", headers=bearer(other_token)).status_code == 401
    again = client.post("/api/auth/login", json={"email": other.email, "password": PASSWORD})
    assert again.status_code == 401


def test_cookie_writes_need_the_csrf_token(client: TestClient, runtime: Runtime) -> None:
    user = create_user(runtime, create_clinic(runtime))
    body = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).json()
    assert client.get("/api/auth/me").status_code == 200  # cookie auth, safe method
    assert client.post("/api/auth/mfa/setup").status_code == 403
    assert client.post("/api/auth/mfa/setup", headers={"X-CSRF-Token": "forged"}).status_code == 403
    ok = client.post("/api/auth/mfa/setup", headers={"X-CSRF-Token": body["csrfToken"]})
    assert ok.status_code == 200
