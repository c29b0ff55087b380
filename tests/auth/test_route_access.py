"""Every route declares who may use it, and the policy table is what the app enforces.

Generated from the app's own routes: a new route without an access declaration fails
`test_every_route_declares_its_access`, and every permission-guarded route is called with a
token of each of the seven roles.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.routing import RouteContext, iter_route_contexts
from fastapi.testclient import TestClient

from ortholens.app import create_app
from ortholens.auth.deps import current_patient, current_staff, public
from ortholens.auth.policy import Permission, Scope, grant
from ortholens.models import Role
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_patient, create_user, patient_token, sign_in


def _calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:  # recursively, through sub-dependencies
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def declaration(route: RouteContext) -> tuple[str, Permission | None]:
    """('permission', p) | ('staff', None) | ('patient', None) | ('public', None) | ('none', None)."""
    calls = list(_calls(route.dependant))
    for call in calls:
        permission = getattr(call, "__ortholens_permission__", None)
        if permission is not None:
            return "permission", permission
    return _without_permission(calls)


def needs_full_scope(route: RouteContext) -> bool:
    return any(getattr(c, "__ortholens_full_scope__", False) for c in _calls(route.dependant))


def _without_permission(calls: list[Any]) -> tuple[str, Permission | None]:
    if public in calls:
        return "public", None
    if current_patient in calls:
        return "patient", None
    if current_staff in calls:
        return "staff", None
    return "none", None


def api_routes(runtime: Runtime) -> list[RouteContext]:
    """Every endpoint of the app (FastAPI's own /api/openapi.json and static mounts aside)."""
    contexts = iter_route_contexts(create_app(runtime).routes)
    return [r for r in contexts if getattr(r, "dependant", None) is not None]


def concrete_path(path: str) -> str:
    """Fill path parameters: ids get a random UUID, other segments a harmless word."""
    return re.sub(r"\{([^}:]+)(:[^}]+)?\}", lambda m: str(uuid.uuid4()), path)


def test_every_route_declares_its_access(runtime: Runtime) -> None:
    undeclared = [
        f"{sorted(r.methods or ())} {r.path}"
        for r in api_routes(runtime)
        if declaration(r)[0] == "none"
    ]
    assert undeclared == [], "routes without RequirePermission/CurrentStaff/CurrentPatient/Public"


def test_the_declarations_cover_the_sensitive_routes(runtime: Runtime) -> None:
    kinds = {r.path: declaration(r)[0] for r in api_routes(runtime)}
    assert kinds["/api/audit/events"] == "permission"
    assert kinds["/api/jobs/{job_id}"] == "permission"
    assert kinds["/api/auth/login"] == "public"
    assert kinds["/healthz"] == "public"


def _methods(route: RouteContext) -> list[str]:
    return sorted(m for m in (route.methods or ()) if m != "HEAD")


def is_unauthenticated(response: Any) -> bool:
    if response.status_code == 401:
        return True
    location = response.headers.get("location", "")
    return response.status_code in (302, 303, 307) and "login" in location


TokenFactory = Callable[[], dict[str, dict[str, str]]]


@pytest.fixture
def fresh_tokens(client: TestClient, runtime: Runtime) -> TokenFactory:
    """Signs in one member of each role (and a patient) and returns their bearer headers."""
    clinic = create_clinic(runtime)
    users = {role: create_user(runtime, clinic, role) for role in Role}
    patient = create_patient(runtime, clinic)

    def make() -> dict[str, dict[str, str]]:
        headers = {role.value: sign_in(client, user) for role, user in users.items()}
        headers["patient"] = patient_token(runtime, patient)
        client.cookies.clear()  # bearer tokens only: anonymous calls must carry no session cookie
        return headers

    return make


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    return client.request(
        method,
        path,
        headers=headers,
        json={} if method in ("POST", "PUT", "PATCH") else None,
        follow_redirects=False,
    )


def test_role_by_route_matrix(
    client: TestClient, runtime: Runtime, fresh_tokens: TokenFactory
) -> None:
    """Each role gets 403 exactly where the policy table says no, and is never refused elsewhere."""
    checked = 0
    mismatches: list[str] = []
    # Sign-outs end the sessions they are called with, so each gets sessions of its own.
    tokens, spent = fresh_tokens(), False
    for route in api_routes(runtime):
        kind, permission = declaration(route)
        if spent:
            tokens, spent = fresh_tokens(), False
        spent = (route.path or "").endswith("/logout")
        for method in _methods(route):
            path = concrete_path(route.path or "")
            anonymous = call(client, method, path, {})
            if kind in ("permission", "staff", "patient") and not is_unauthenticated(anonymous):
                mismatches.append(f"{method} {route.path}: anonymous got {anonymous.status_code}")
            for role in Role:
                response = call(client, method, path, tokens[role.value])
                if kind == "permission":
                    assert permission is not None
                    scope = grant(role, permission)
                    expect_refused = scope is None or (
                        needs_full_scope(route) and scope is not Scope.FULL
                    )
                    refused = response.status_code == 403
                    if refused != expect_refused or is_unauthenticated(response):
                        mismatches.append(
                            f"{method} {route.path} as {role.value}: {response.status_code}"
                        )
                elif kind == "staff" and (
                    is_unauthenticated(response) or response.status_code == 403
                ):
                    mismatches.append(
                        f"{method} {route.path} as {role.value}: {response.status_code}"
                    )
                elif kind == "patient" and not is_unauthenticated(response):
                    mismatches.append(
                        f"{method} {route.path} staff token got {response.status_code}"
                    )
                checked += 1
            if kind in ("permission", "staff"):
                as_patient = call(client, method, path, tokens["patient"])
                if not is_unauthenticated(as_patient):
                    mismatches.append(
                        f"{method} {route.path}: patient token got {as_patient.status_code}"
                    )
            if kind == "patient":
                as_patient = call(client, method, path, tokens["patient"])
                if is_unauthenticated(as_patient) or as_patient.status_code == 403:
                    mismatches.append(
                        f"{method} {route.path}: own patient got {as_patient.status_code}"
                    )
    assert mismatches == []
    assert checked > 50
