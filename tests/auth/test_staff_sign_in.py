"""Staff sign-in: cookies, identical answers for unknown and wrong, throttling, audit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ortholens.kit.db import transaction, utcnow
from ortholens.models import AuditEvent, AuditOutcome, RateLimitBucket, Role
from ortholens.runtime import Runtime
from tests.factories import PASSWORD, create_clinic, create_user


def login(client: TestClient, email: str, password: str) -> object:
    return client.post("/api/auth/login", json={"email": email, "password": password})


def test_sign_in_returns_tokens_and_sets_secure_cookies(
    client: TestClient, runtime: Runtime
) -> None:
    user = create_user(runtime, create_clinic(runtime), Role.DOCTOR)
    response = client.post(
        "/api/auth/login", json={"email": user.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["email"] == user.email
    assert body["accessToken"] and body["refreshToken"] and body["csrfToken"]
    cookies = {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}
    for name in ("ol_access", "ol_refresh"):
        assert "HttpOnly" in cookies[name]
        assert "Secure" in cookies[name]
        assert "SameSite" in cookies[name]
    assert "Path=/api/auth" in cookies["ol_refresh"]
    assert "Max-Age=2592000" in cookies["ol_refresh"] or "Max-Age=259199" in cookies["ol_refresh"]
    assert "HttpOnly" not in cookies["ol_csrf"]


def test_unknown_user_and_wrong_password_get_the_same_answer(
    client: TestClient, runtime: Runtime
) -> None:
    user = create_user(runtime, create_clinic(runtime))
    wrong = client.post("/api/auth/login", json={"email": user.email, "password": "wrong-password"})
    unknown = client.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": "wrong-password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda r: {k: v for k, v in r.json().items() if k != "request_id"}  # noqa: E731
    assert strip(wrong) == strip(unknown)


@pytest.mark.parametrize("known", [True, False])
def test_account_is_throttled_after_five_failures(
    client: TestClient, runtime: Runtime, known: bool
) -> None:
    email = create_user(runtime, create_clinic(runtime)).email if known else "ghost@example.com"
    for _ in range(5):
        assert (
            client.post(
                "/api/auth/login", json={"email": email, "password": "nope-nope"}
            ).status_code
            == 401
        )
    blocked = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many sign-in attempts" in blocked.json()["detail"]
    assert int(blocked.headers["retry-after"]) > 0


def test_throttle_rows_hold_no_email(client: TestClient, runtime: Runtime) -> None:
    client.post("/api/auth/login", json={"email": "someone@example.com", "password": "nope-nope"})
    with runtime.session_factory() as session:
        keys = list(session.scalars(select(RateLimitBucket.key)))
    assert keys
    assert all("someone" not in key for key in keys)


def test_address_is_throttled_across_accounts(client: TestClient, runtime: Runtime) -> None:
    for i in range(30):
        client.post("/api/auth/login", json={"email": f"u{i}@example.com", "password": "nope-nope"})
    user = create_user(runtime, create_clinic(runtime))
    assert (
        client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).status_code
        == 429
    )


def test_success_clears_the_account_failures(client: TestClient, runtime: Runtime) -> None:
    user = create_user(runtime, create_clinic(runtime))
    for _ in range(4):
        client.post("/api/auth/login", json={"email": user.email, "password": "nope-nope"})
    assert (
        client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).status_code
        == 200
    )
    for _ in range(4):
        client.post("/api/auth/login", json={"email": user.email, "password": "nope-nope"})
    assert (
        client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).status_code
        == 200
    )


def test_disabled_user_cannot_sign_in(client: TestClient, runtime: Runtime) -> None:
    user = create_user(runtime, create_clinic(runtime))
    with transaction(runtime.session_factory) as session:
        session.get(type(user), user.id).disabled_at = utcnow()  # type: ignore[union-attr]
    response = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_sign_ins_and_failures_are_audited_without_secrets(
    client: TestClient, runtime: Runtime
) -> None:
    clinic = create_clinic(runtime)
    user = create_user(runtime, clinic)
    client.post("/api/auth/login", json={"email": user.email, "password": "Secret-Wrong-1"})
    client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    with runtime.session_factory() as session:
        events = list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == "auth.login").order_by(AuditEvent.seq)
            )
        )
    assert [e.outcome for e in events] == [AuditOutcome.FAILURE, AuditOutcome.SUCCESS]
    assert all(e.actor_id == user.id and e.clinic_id == clinic.id for e in events)
    dumped = repr([(e.details, e.ip, e.action) for e in events])
    assert PASSWORD not in dumped and "Secret-Wrong-1" not in dumped and user.email not in dumped
