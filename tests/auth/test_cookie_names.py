"""Served over https, the sign-in cookies carry the `__Host-` / `__Secure-` prefixes (issue 12), so
a sibling subdomain or an http page cannot plant or overwrite them; over http (development) the
names stay plain, which the rest of the suite exercises."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ortholens.app import create_app
from ortholens.runtime import Runtime, build_runtime
from tests.conftest import make_settings
from tests.factories import PASSWORD, create_clinic, create_user


@pytest.fixture
def https_runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = build_runtime(
        make_settings(tmp_path, database_url, public_url="https://ortholens.example")
    )
    yield runtime
    runtime.close()


@pytest.fixture
def https_client(https_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(
        create_app(https_runtime), base_url="https://testserver", raise_server_exceptions=False
    ) as client:
        yield client


def _set_cookie_headers(response: object) -> dict[str, str]:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    return {h.split("=", 1)[0]: h for h in headers}


def test_api_sign_in_sets_prefixed_cookies(
    https_client: TestClient, https_runtime: Runtime
) -> None:
    user = create_user(https_runtime, create_clinic(https_runtime))
    response = https_client.post(
        "/api/auth/login", json={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    cookies = _set_cookie_headers(response)
    assert set(cookies) == {"__Host-ol_access", "__Secure-ol_refresh", "__Host-ol_csrf"}
    for name in ("__Host-ol_access", "__Host-ol_csrf"):  # what browsers require of __Host-
        assert "Path=/;" in cookies[name] + ";" and "Secure" in cookies[name]
        assert "Domain" not in cookies[name]
    assert "Path=/api/auth" in cookies["__Secure-ol_refresh"]
    # The prefixed cookies are the ones the server reads back.
    assert https_client.get("/api/auth/me").status_code == 200
    csrf = {"X-CSRF-Token": response.json()["csrfToken"]}
    assert https_client.post("/api/auth/refresh", headers=csrf).status_code == 200


def test_an_unprefixed_cookie_is_not_a_sign_in_on_https(
    https_client: TestClient, https_runtime: Runtime
) -> None:
    """A plain `ol_access` cookie (what an http page or a subdomain could set) is ignored."""
    user = create_user(https_runtime, create_clinic(https_runtime))
    token = https_client.post(
        "/api/auth/login", json={"email": user.email, "password": PASSWORD}
    ).json()["accessToken"]
    https_client.cookies.clear()
    https_client.cookies.set("ol_access", token)
    assert https_client.get("/api/auth/me").status_code == 401


def test_page_sign_in_sets_prefixed_cookies(
    https_client: TestClient, https_runtime: Runtime
) -> None:
    user = create_user(https_runtime, create_clinic(https_runtime))
    https_client.get("/login")
    assert "__Host-ol_csrf" in https_client.cookies
    form = {
        "email": user.email,
        "password": PASSWORD,
        "csrf_token": https_client.cookies["__Host-ol_csrf"],
    }
    response = https_client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert {"__Host-ol_access", "__Secure-ol_refresh", "__Host-ol_session"} <= set(
        _set_cookie_headers(response)
    )
    assert https_client.get("/patients", follow_redirects=False).status_code == 200
