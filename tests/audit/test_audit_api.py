"""Clinic admins read their own clinic's audit trail; nobody else reads any."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ortholens.models import Role
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_user, sign_in


def test_clinic_admin_sees_only_their_clinic(client: TestClient, runtime: Runtime) -> None:
    mine, theirs = create_clinic(runtime), create_clinic(runtime)
    other_admin = create_user(runtime, theirs, Role.CLINIC_ADMIN)
    sign_in(client, other_admin)
    headers = sign_in(client, create_user(runtime, mine, Role.CLINIC_ADMIN))
    client.cookies.clear()
    items = client.get("/api/audit/events", headers=headers).json()["items"]
    assert items
    assert all(item["actorId"] != str(other_admin.id) for item in items)


def test_filters_and_cursor_paging(client: TestClient, runtime: Runtime) -> None:
    clinic = create_clinic(runtime)
    admin = create_user(runtime, clinic, Role.CLINIC_ADMIN)
    for _ in range(4):
        headers = sign_in(client, admin)
    client.cookies.clear()
    page = client.get(
        "/api/audit/events", headers=headers, params={"action": "auth.login", "limit": 3}
    ).json()
    assert [i["action"] for i in page["items"]] == ["auth.login"] * 3
    assert page["nextCursor"] is not None
    rest = client.get(
        "/api/audit/events",
        headers=headers,
        params={"action": "auth.login", "limit": 3, "cursor": page["nextCursor"]},
    ).json()
    assert len(rest["items"]) == 1
    assert rest["nextCursor"] is None
    seqs = [i["seq"] for i in page["items"] + rest["items"]]
    assert seqs == sorted(seqs, reverse=True)


def test_reading_the_trail_is_itself_audited(client: TestClient, runtime: Runtime) -> None:
    headers = sign_in(client, create_user(runtime, create_clinic(runtime), Role.CLINIC_ADMIN))
    client.cookies.clear()
    client.get("/api/audit/events", headers=headers)
    latest = client.get(
        "/api/audit/events", headers=headers, params={"action": "audit.read"}
    ).json()
    assert latest["items"]


def test_other_roles_are_refused_and_the_refusal_is_recorded(
    client: TestClient, runtime: Runtime
) -> None:
    clinic = create_clinic(runtime)
    for role in (Role.DOCTOR, Role.SUPER_ADMIN, Role.BILLING):
        headers = sign_in(client, create_user(runtime, clinic, role))
        client.cookies.clear()
        assert client.get("/api/audit/events", headers=headers).status_code == 403
    admin = sign_in(client, create_user(runtime, clinic, Role.CLINIC_ADMIN))
    client.cookies.clear()
    denied = client.get("/api/audit/events", headers=admin, params={"outcome": "denied"}).json()
    assert {i["details"]["permission"] for i in denied["items"]} == {"audit:read"}
    assert len(denied["items"]) == 3
