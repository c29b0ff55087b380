"""The CSRF token is bound to the sign-in session (issue 12).

What the probe did: set its own `ol_csrf` cookie and echo the same value in the header or form
field; `POST /api/patients` and the form `POST /patients` accepted it, and the cookie-based
`POST /api/auth/refresh` rotated the session with no CSRF echo at all.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ortholens.auth.deps import CSRF_COOKIE
from ortholens.models import Patient, Role
from ortholens.runtime import Runtime
from tests.factories import PASSWORD, create_clinic, create_user

PLANTED = "attacker-chosen-value"


def _sign_in(client: TestClient, runtime: Runtime, role: Role = Role.DOCTOR) -> str:
    """Sign in through the API with cookies; returns the session's CSRF token."""
    user = create_user(runtime, create_clinic(runtime), role)
    body = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).json()
    token: str = body["csrfToken"]
    return token


def _plant(client: TestClient, value: str = PLANTED) -> None:
    client.cookies.delete(CSRF_COOKIE)
    client.cookies.set(CSRF_COOKIE, value)


def _patients(runtime: Runtime) -> int:
    with runtime.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Patient)) or 0)


def test_a_planted_cookie_echoed_in_the_header_is_refused(
    client: TestClient, runtime: Runtime
) -> None:
    token = _sign_in(client, runtime)
    _plant(client)
    before = _patients(runtime)
    body = {"firstName": "Ada", "lastName": "Byron"}
    refused = client.post("/api/patients", json=body, headers={"X-CSRF-Token": PLANTED})
    assert refused.status_code == 403
    assert _patients(runtime) == before
    # The session's own token works, whatever the cookie holds.
    accepted = client.post("/api/patients", json=body, headers={"X-CSRF-Token": token})
    assert accepted.status_code == 201, accepted.text
    assert _patients(runtime) == before + 1


def test_a_planted_cookie_echoed_in_a_form_field_is_refused(
    client: TestClient, runtime: Runtime
) -> None:
    _sign_in(client, runtime)
    page = client.get("/patients/new")
    assert page.status_code == 200
    _plant(client)
    before = _patients(runtime)
    form = {"first_name": "Ada", "last_name": "Byron", "csrf_token": PLANTED}
    refused = client.post("/patients", data=form, follow_redirects=False)
    assert refused.status_code == 403
    assert _patients(runtime) == before


def test_the_page_form_carries_the_sessions_token(client: TestClient, runtime: Runtime) -> None:
    token = _sign_in(client, runtime)
    _plant(client)  # the page does not take the cookie's word for it
    html = client.get("/patients/new").text
    assert f'value="{token}"' in html and PLANTED not in html
    form = {"first_name": "Ada", "last_name": "Byron", "csrf_token": token}
    created = client.post("/patients", data=form, follow_redirects=False)
    assert created.status_code == 303, created.text


def test_one_sessions_token_does_not_open_another(client: TestClient, runtime: Runtime) -> None:
    first = _sign_in(client, runtime)
    client.cookies.clear()
    _sign_in(client, runtime)  # a second session in this browser
    refused = client.post(
        "/api/patients", json={"firstName": "A", "lastName": "B"}, headers={"X-CSRF-Token": first}
    )
    assert refused.status_code == 403


def test_a_cookie_refresh_needs_the_csrf_echo(client: TestClient, runtime: Runtime) -> None:
    token = _sign_in(client, runtime)
    refresh_cookie = client.cookies["ol_refresh"]
    assert client.post("/api/auth/refresh").status_code == 403
    _plant(client)
    assert client.post("/api/auth/refresh", headers={"X-CSRF-Token": PLANTED}).status_code == 403
    assert client.cookies["ol_refresh"] == refresh_cookie  # nothing rotated
    rotated = client.post("/api/auth/refresh", headers={"X-CSRF-Token": token})
    assert rotated.status_code == 200
    assert rotated.json()["csrfToken"] == token  # same session, same token
    assert client.cookies["ol_refresh"] != refresh_cookie


def test_a_refresh_token_in_the_body_needs_no_echo(client: TestClient, runtime: Runtime) -> None:
    """API clients that hold their refresh token send it in the body: no ambient credential."""
    user = create_user(runtime, create_clinic(runtime))
    body = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).json()
    client.cookies.clear()
    response = client.post("/api/auth/refresh", json={"refreshToken": body["refreshToken"]})
    assert response.status_code == 200
