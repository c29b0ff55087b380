"""TOTP enrollment and two-factor sign-in, and a clinic that requires it."""

from __future__ import annotations

import pyotp
from fastapi.testclient import TestClient

from ortholens.models import Role, User
from ortholens.runtime import Runtime
from tests.factories import PASSWORD, create_clinic, create_user


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(client: TestClient, user: User, totp: str | None = None) -> object:
    response = client.post(
        "/api/auth/login", json={"email": user.email, "password": PASSWORD, "totp": totp}
    )
    client.cookies.clear()
    return response


def enroll(client: TestClient, user: User) -> str:
    access = token_for(client, user).json()["accessToken"]  # type: ignore[attr-defined]
    setup = client.post("/api/auth/mfa/setup", headers=bearer(access)).json()
    assert setup["otpauthUri"].startswith("otpauth://totp/OrthoLens")
    code = pyotp.TOTP(setup["secret"]).now()
    assert (
        client.post("/api/auth/mfa/enable", headers=bearer(access), json={"code": code}).status_code
        == 204
    )
    return str(setup["secret"])


def test_enrolled_user_needs_the_code(client: TestClient, runtime: Runtime) -> None:
    user = create_user(runtime, create_clinic(runtime))
    secret = enroll(client, user)
    without = token_for(client, user)
    assert without.status_code == 401  # type: ignore[attr-defined]
    assert without.json()["type"].endswith("/mfa-required")  # type: ignore[attr-defined]
    wrong = token_for(client, user, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert wrong.status_code == 401  # type: ignore[attr-defined]
    right = token_for(client, user, pyotp.TOTP(secret).now())
    assert right.status_code == 200  # type: ignore[attr-defined]


def test_wrong_code_at_enrollment_is_refused(client: TestClient, runtime: Runtime) -> None:
    user = create_user(runtime, create_clinic(runtime))
    access = token_for(client, user).json()["accessToken"]  # type: ignore[attr-defined]
    client.post("/api/auth/mfa/setup", headers=bearer(access))
    response = client.post("/api/auth/mfa/enable", headers=bearer(access), json={"code": "12345x"})
    assert response.status_code == 422


def test_secret_is_stored_encrypted(client: TestClient, runtime: Runtime) -> None:
    user = create_user(runtime, create_clinic(runtime))
    secret = enroll(client, user)
    with runtime.session_factory() as session:
        stored = session.get(User, user.id)
        assert stored is not None and stored.mfa_secret
        assert secret not in stored.mfa_secret


def test_clinic_requirement_blocks_unenrolled_staff_until_they_enroll(
    client: TestClient, runtime: Runtime
) -> None:
    clinic = create_clinic(runtime)
    admin = create_user(runtime, clinic, Role.CLINIC_ADMIN)
    doctor = create_user(runtime, clinic, Role.DOCTOR)
    admin_token = token_for(client, admin).json()["accessToken"]  # type: ignore[attr-defined]
    assert (
        client.put(
            "/api/clinic/settings/mfa", headers=bearer(admin_token), json={"required": True}
        ).status_code
        == 200
    )
    doctor_token = token_for(client, doctor).json()["accessToken"]  # type: ignore[attr-defined]
    me = client.get("/api/auth/me", headers=bearer(doctor_token)).json()
    assert me["mfaEnrollmentRequired"] is True
    assert client.get(f"/api/jobs/{doctor.id}", headers=bearer(doctor_token)).status_code == 403
    setup = client.post("/api/auth/mfa/setup", headers=bearer(doctor_token)).json()
    code = pyotp.TOTP(setup["secret"]).now()
    client.post("/api/auth/mfa/enable", headers=bearer(doctor_token), json={"code": code})
    assert client.get(f"/api/jobs/{doctor.id}", headers=bearer(doctor_token)).status_code == 404
