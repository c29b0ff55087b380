"""The patient record API: create, list and search, get, update, archive; tenancy and audit."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from fastapi.testclient import TestClient

from ortholens.models import AuditOutcome, PatientStatus, Role
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_patient, create_user, sign_in
from tests.patient.portal import Practice, audit_events, practice, problem

NEW_PATIENT = {"firstName": "Ada", "lastName": "Lovelace", "dateOfBirth": "2011-03-04"}


@pytest.fixture
def home(client: TestClient, runtime: Runtime) -> Practice:
    return practice(client, runtime)


def test_create_returns_the_new_patient(client: TestClient, home: Practice) -> None:
    response = client.post(
        "/api/patients", json={**NEW_PATIENT, "doctorId": str(home.doctor.id)}, headers=home.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["firstName"] == "Ada"
    assert body["lastName"] == "Lovelace"
    assert body["dateOfBirth"] == "2011-03-04"
    assert body["doctorId"] == str(home.doctor.id)
    assert body["clinicId"] == str(home.clinic.id)
    assert body["status"] == "ACTIVE"
    assert body["scanFrequencyDays"] == 14
    assert not any("password" in key.lower() for key in body)


def test_create_is_audited(client: TestClient, runtime: Runtime, home: Practice) -> None:
    created = client.post("/api/patients", json=NEW_PATIENT, headers=home.headers).json()
    [event] = audit_events(runtime, "patient.create")
    assert str(event.target_id) == created["id"]
    assert event.actor_id == home.doctor.id
    assert event.clinic_id == home.clinic.id
    assert "Lovelace" not in str(event.details)


def test_create_refuses_a_doctor_of_another_clinic(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    stranger = create_user(runtime, create_clinic(runtime), Role.DOCTOR)
    response = client.post(
        "/api/patients", json={**NEW_PATIENT, "doctorId": str(stranger.id)}, headers=home.headers
    )
    assert response.status_code == 422
    assert "doctorId" in response.json()["detail"]


def test_create_refuses_a_non_doctor_as_doctor(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    desk = create_user(runtime, home.clinic, Role.FRONT_DESK)
    response = client.post(
        "/api/patients", json={**NEW_PATIENT, "doctorId": str(desk.id)}, headers=home.headers
    )
    assert response.status_code == 422


@pytest.mark.parametrize("days", [0, 366])
def test_create_refuses_a_scan_frequency_out_of_range(
    client: TestClient, home: Practice, days: int
) -> None:
    response = client.post(
        "/api/patients", json={**NEW_PATIENT, "scanFrequencyDays": days}, headers=home.headers
    )
    assert response.status_code == 422


def test_create_refuses_a_blank_name(client: TestClient, home: Practice) -> None:
    response = client.post(
        "/api/patients", json={**NEW_PATIENT, "lastName": "   "}, headers=home.headers
    )
    assert response.status_code == 422


def test_create_refuses_the_archived_status(client: TestClient, home: Practice) -> None:
    response = client.post(
        "/api/patients", json={**NEW_PATIENT, "status": "ARCHIVED"}, headers=home.headers
    )
    assert response.status_code == 422


def test_create_ignores_clinic_id_from_clinic_staff(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    other = create_clinic(runtime)
    response = client.post(
        "/api/patients", json={**NEW_PATIENT, "clinicId": str(other.id)}, headers=home.headers
    )
    assert response.status_code == 201
    assert response.json()["clinicId"] == str(home.clinic.id)


def test_super_admin_must_name_the_clinic(client: TestClient, runtime: Runtime) -> None:
    admin = sign_in(client, create_user(runtime, None, Role.SUPER_ADMIN))
    response = client.post("/api/patients", json=NEW_PATIENT, headers=admin)
    assert response.status_code == 422
    assert "clinicId" in response.json()["detail"]


def test_super_admin_creates_in_the_named_clinic(client: TestClient, runtime: Runtime) -> None:
    clinic = create_clinic(runtime)
    admin = sign_in(client, create_user(runtime, None, Role.SUPER_ADMIN))
    response = client.post(
        "/api/patients", json={**NEW_PATIENT, "clinicId": str(clinic.id)}, headers=admin
    )
    assert response.status_code == 201
    assert response.json()["clinicId"] == str(clinic.id)


def test_read_only_staff_cannot_create(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    reader = sign_in(client, create_user(runtime, home.clinic, Role.READ_ONLY))
    assert client.post("/api/patients", json=NEW_PATIENT, headers=reader).status_code == 403


def _names(client: TestClient, headers: dict[str, str], **params: str | int) -> list[str]:
    response = client.get("/api/patients", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [f"{p['firstName']} {p['lastName']}" for p in response.json()["items"]]


def test_list_pages_through_every_patient_in_name_order(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    for first, last in [("Zoe", "Adams"), ("amy", "baker"), ("Bea", "Baker"), ("Cy", "Cole")]:
        create_patient(runtime, home.clinic, first_name=first, last_name=last)
    create_patient(runtime, home.clinic, first_name="Al", last_name="Baker")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/patients", params=params, headers=home.headers).json()
        seen += [f"{p['firstName']} {p['lastName']}" for p in body["items"]]
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert seen == ["Zoe Adams", "Al Baker", "amy baker", "Bea Baker", "Cy Cole"]
    assert pages == 3


def test_list_refuses_a_page_size_above_100(client: TestClient, home: Practice) -> None:
    response = client.get("/api/patients", params={"limit": 101}, headers=home.headers)
    assert response.status_code == 422


def test_list_refuses_an_unknown_cursor(client: TestClient, home: Practice) -> None:
    response = client.get(
        "/api/patients", params={"cursor": str(uuid.uuid4())}, headers=home.headers
    )
    assert response.status_code == 422


@pytest.mark.parametrize("q", ["grace", "HOPPER", "Grace Hop", "race"])
def test_search_matches_first_last_or_full_name(
    client: TestClient, runtime: Runtime, home: Practice, q: str
) -> None:
    create_patient(runtime, home.clinic, first_name="Grace", last_name="Hopper")
    create_patient(runtime, home.clinic, first_name="Alan", last_name="Turing")
    assert _names(client, home.headers, q=q) == ["Grace Hopper"]


def test_search_treats_wildcards_as_text(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    create_patient(runtime, home.clinic, first_name="Grace", last_name="Hopper")
    assert _names(client, home.headers, q="%") == []
    assert _names(client, home.headers, q="G_ace") == []


def test_list_filters_by_status(client: TestClient, runtime: Runtime, home: Practice) -> None:
    create_patient(runtime, home.clinic, first_name="Active", last_name="One")
    create_patient(
        runtime, home.clinic, first_name="Paused", last_name="Two", status=PatientStatus.PAUSED
    )
    assert _names(client, home.headers, status="PAUSED") == ["Paused Two"]


def test_list_filters_by_doctor(client: TestClient, runtime: Runtime, home: Practice) -> None:
    other_doctor = create_user(runtime, home.clinic, Role.DOCTOR)
    create_patient(runtime, home.clinic, first_name="Mine", last_name="A", doctor=home.doctor)
    create_patient(runtime, home.clinic, first_name="Theirs", last_name="B", doctor=other_doctor)
    assert _names(client, home.headers, doctorId=str(home.doctor.id)) == ["Mine A"]


def test_list_never_shows_another_clinics_patients(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    create_patient(runtime, home.clinic, first_name="Ours", last_name="Here")
    create_patient(runtime, create_clinic(runtime), first_name="Ours", last_name="There")
    assert _names(client, home.headers) == ["Ours Here"]
    assert _names(client, home.headers, q="ours") == ["Ours Here"]


def test_super_admin_lists_every_clinic(client: TestClient, runtime: Runtime) -> None:
    create_patient(runtime, create_clinic(runtime), first_name="One", last_name="A")
    create_patient(runtime, create_clinic(runtime), first_name="Two", last_name="B")
    admin = sign_in(client, create_user(runtime, None, Role.SUPER_ADMIN))
    assert _names(client, admin) == ["One A", "Two B"]


def test_list_is_audited_with_its_count(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    create_patient(runtime, home.clinic)
    create_patient(runtime, home.clinic)
    client.get("/api/patients", headers=home.headers)
    [event] = audit_events(runtime, "patient.list")
    assert event.details["count"] == 2
    assert event.clinic_id == home.clinic.id


def test_get_returns_the_patient_and_is_audited(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    patient = create_patient(runtime, home.clinic, first_name="Grace")
    response = client.get(f"/api/patients/{patient.id}", headers=home.headers)
    assert response.status_code == 200
    assert response.json()["firstName"] == "Grace"
    [event] = audit_events(runtime, "patient.read")
    assert event.target_id == patient.id
    assert event.outcome is AuditOutcome.SUCCESS


def test_update_changes_only_the_fields_sent(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    patient = create_patient(runtime, home.clinic, first_name="Grace", last_name="Hopper")
    response = client.patch(
        f"/api/patients/{patient.id}",
        json={"scanFrequencyDays": 21, "doctorId": str(home.doctor.id)},
        headers=home.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["scanFrequencyDays"], body["doctorId"]) == (21, str(home.doctor.id))
    assert (body["firstName"], body["lastName"]) == ("Grace", "Hopper")
    [event] = audit_events(runtime, "patient.update")
    assert event.details["fields"] == ["doctor_id", "scan_frequency_days"]


def test_update_clears_an_optional_field_sent_as_null(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    patient = create_patient(runtime, home.clinic, date_of_birth=date(2010, 1, 1))
    response = client.patch(
        f"/api/patients/{patient.id}", json={"dateOfBirth": None}, headers=home.headers
    )
    assert response.json()["dateOfBirth"] is None


def test_update_refuses_null_for_a_required_field(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    patient = create_patient(runtime, home.clinic)
    response = client.patch(
        f"/api/patients/{patient.id}", json={"lastName": None}, headers=home.headers
    )
    assert response.status_code == 422


def test_update_refuses_to_archive(client: TestClient, runtime: Runtime, home: Practice) -> None:
    patient = create_patient(runtime, home.clinic)
    response = client.patch(
        f"/api/patients/{patient.id}", json={"status": "ARCHIVED"}, headers=home.headers
    )
    assert response.status_code == 422
    assert "archive" in response.json()["detail"]


def test_archive_sets_the_status(client: TestClient, runtime: Runtime, home: Practice) -> None:
    patient = create_patient(runtime, home.clinic)
    response = client.post(f"/api/patients/{patient.id}/archive", headers=home.headers)
    assert response.status_code == 200
    assert response.json()["status"] == "ARCHIVED"


def test_archive_twice_changes_nothing(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    patient = create_patient(runtime, home.clinic)
    first = client.post(f"/api/patients/{patient.id}/archive", headers=home.headers).json()
    second = client.post(f"/api/patients/{patient.id}/archive", headers=home.headers).json()
    assert second["updatedAt"] == first["updatedAt"]


def test_front_desk_cannot_archive(client: TestClient, runtime: Runtime, home: Practice) -> None:
    desk = sign_in(client, create_user(runtime, home.clinic, Role.FRONT_DESK))
    patient = create_patient(runtime, home.clinic)
    assert client.post(f"/api/patients/{patient.id}/archive", headers=desk).status_code == 403


def test_bringing_back_an_archived_patient_needs_the_archive_permission(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    desk = sign_in(client, create_user(runtime, home.clinic, Role.FRONT_DESK))
    patient = create_patient(runtime, home.clinic, status=PatientStatus.ARCHIVED)
    path, body = f"/api/patients/{patient.id}", {"status": "ACTIVE"}
    assert client.patch(path, json=body, headers=desk).status_code == 403
    assert client.patch(path, json=body, headers=home.headers).json()["status"] == "ACTIVE"


CROSS_CLINIC_CALLS = [
    ("GET", "", None),
    ("PATCH", "", {"firstName": "Mallory"}),
    ("POST", "/archive", None),
    ("POST", "/invite", {}),
]


@pytest.mark.parametrize(("method", "suffix", "body"), CROSS_CLINIC_CALLS)
def test_another_clinics_patient_answers_like_a_random_id(
    client: TestClient,
    runtime: Runtime,
    home: Practice,
    method: str,
    suffix: str,
    body: dict[str, str] | None,
) -> None:
    theirs = create_patient(runtime, create_clinic(runtime))
    foreign = client.request(
        method, f"/api/patients/{theirs.id}{suffix}", json=body, headers=home.headers
    )
    unknown = client.request(
        method, f"/api/patients/{uuid.uuid4()}{suffix}", json=body, headers=home.headers
    )
    assert foreign.status_code == unknown.status_code == 404
    assert problem(foreign) == problem(unknown)


def test_another_clinics_patient_is_left_unchanged(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    other = create_clinic(runtime)
    theirs = create_patient(runtime, other, first_name="Grace")
    client.patch(f"/api/patients/{theirs.id}", json={"firstName": "Mallory"}, headers=home.headers)
    their_doctor = sign_in(client, create_user(runtime, other, Role.DOCTOR))
    assert client.get(f"/api/patients/{theirs.id}", headers=their_doctor).json()["firstName"] == (
        "Grace"
    )


def test_a_cross_clinic_read_is_audited_as_denied(
    client: TestClient, runtime: Runtime, home: Practice
) -> None:
    theirs = create_patient(runtime, create_clinic(runtime))
    client.get(f"/api/patients/{theirs.id}", headers=home.headers)
    [event] = audit_events(runtime, "patient.read")
    assert event.outcome is AuditOutcome.DENIED
    assert event.target_id == theirs.id
    assert event.actor_id == home.doctor.id


def test_super_admin_reads_any_clinics_patient(client: TestClient, runtime: Runtime) -> None:
    patient = create_patient(runtime, create_clinic(runtime))
    admin = sign_in(client, create_user(runtime, None, Role.SUPER_ADMIN))
    assert client.get(f"/api/patients/{patient.id}", headers=admin).status_code == 200
