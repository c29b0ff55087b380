"""Consents: recording, listing with status, revoking, the guardian rule for minors, and the
check capture features make (`require_valid_consent`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from ortholens.consent.service import ConsentMissing, require_valid_consent
from ortholens.kit.db import transaction, utcnow
from ortholens.models import Consent, ConsentKind, Patient, Role
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_patient, create_user, sign_in
from tests.patient.portal import Practice, audit_events, practice, problem

ADULT_BIRTHDAY = date(1990, 6, 1)
PHOTOS_BY_PATIENT = {"kind": "PHOTOGRAPHY", "grantedBy": "PATIENT"}
PHOTOS_BY_GUARDIAN = {"kind": "PHOTOGRAPHY", "grantedBy": "GUARDIAN", "guardianName": "Ann Lee"}


@pytest.fixture
def home(client: TestClient, runtime: Runtime) -> Practice:
    return practice(client, runtime)


@pytest.fixture
def adult(runtime: Runtime, home: Practice) -> Patient:
    return create_patient(runtime, home.clinic, date_of_birth=ADULT_BIRTHDAY)


@pytest.fixture
def minor(runtime: Runtime, home: Practice) -> Patient:
    twelve = date(utcnow().year - 12, 1, 1)
    return create_patient(runtime, home.clinic, date_of_birth=twelve)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _grant(
    client: TestClient, home: Practice, patient: Patient, body: dict[str, str]
) -> dict[str, str]:
    response = client.post(f"/api/patients/{patient.id}/consents", json=body, headers=home.headers)
    assert response.status_code == 201, response.text
    granted: dict[str, str] = response.json()
    return granted


def _statuses(client: TestClient, home: Practice, patient: Patient) -> list[str]:
    response = client.get(f"/api/patients/{patient.id}/consents", headers=home.headers)
    assert response.status_code == 200
    return [c["status"] for c in response.json()["items"]]


def test_a_granted_consent_is_listed_as_active(
    client: TestClient, home: Practice, adult: Patient
) -> None:
    granted = _grant(client, home, adult, PHOTOS_BY_PATIENT)
    assert (granted["status"], granted["recordedById"]) == ("active", str(home.doctor.id))
    assert _statuses(client, home, adult) == ["active"]


def test_grant_and_list_are_audited(
    client: TestClient, runtime: Runtime, home: Practice, adult: Patient
) -> None:
    granted = _grant(client, home, adult, PHOTOS_BY_PATIENT)
    _statuses(client, home, adult)
    [grant] = audit_events(runtime, "consent.grant")
    [listing] = audit_events(runtime, "consent.list")
    assert (grant.target_id, grant.details["consent_id"]) == (adult.id, granted["id"])
    assert listing.details["count"] == 1


def test_a_revoked_consent_is_listed_as_revoked(
    client: TestClient, home: Practice, adult: Patient
) -> None:
    granted = _grant(client, home, adult, PHOTOS_BY_PATIENT)
    response = client.post(
        f"/api/patients/{adult.id}/consents/{granted['id']}/revoke", headers=home.headers
    )
    assert response.status_code == 200
    assert response.json()["revokedAt"] is not None
    assert _statuses(client, home, adult) == ["revoked"]


def test_a_consent_past_its_expiry_is_listed_as_expired(
    client: TestClient, home: Practice, adult: Patient
) -> None:
    now = utcnow()
    body = {
        **PHOTOS_BY_PATIENT,
        "grantedAt": _iso(now - timedelta(days=400)),
        "expiresAt": _iso(now - timedelta(days=35)),
    }
    _grant(client, home, adult, body)
    assert _statuses(client, home, adult) == ["expired"]


def test_a_minor_cannot_consent_for_themself(
    client: TestClient, home: Practice, minor: Patient
) -> None:
    response = client.post(
        f"/api/patients/{minor.id}/consents", json=PHOTOS_BY_PATIENT, headers=home.headers
    )
    assert response.status_code == 422
    assert "guardian" in response.json()["detail"]


def test_a_guardians_consent_names_the_guardian(
    client: TestClient, home: Practice, minor: Patient
) -> None:
    body = {"kind": "PHOTOGRAPHY", "grantedBy": "GUARDIAN"}
    response = client.post(f"/api/patients/{minor.id}/consents", json=body, headers=home.headers)
    assert response.status_code == 422
    assert "guardianName" in response.json()["detail"]


def test_a_named_guardian_consents_for_a_minor(
    client: TestClient, home: Practice, minor: Patient
) -> None:
    granted = _grant(client, home, minor, PHOTOS_BY_GUARDIAN)
    assert (granted["grantedBy"], granted["guardianName"]) == ("GUARDIAN", "Ann Lee")


def test_expiry_must_come_after_the_grant(
    client: TestClient, home: Practice, adult: Patient
) -> None:
    now = utcnow()
    body = {**PHOTOS_BY_PATIENT, "grantedAt": _iso(now), "expiresAt": _iso(now)}
    response = client.post(f"/api/patients/{adult.id}/consents", json=body, headers=home.headers)
    assert response.status_code == 422


def test_a_grant_in_the_future_is_refused(
    client: TestClient, home: Practice, adult: Patient
) -> None:
    body = {**PHOTOS_BY_PATIENT, "grantedAt": _iso(utcnow() + timedelta(days=2))}
    response = client.post(f"/api/patients/{adult.id}/consents", json=body, headers=home.headers)
    assert response.status_code == 422


def test_a_time_without_zone_is_refused(client: TestClient, home: Practice, adult: Patient) -> None:
    body = {**PHOTOS_BY_PATIENT, "grantedAt": "2024-01-01T10:00:00"}
    response = client.post(f"/api/patients/{adult.id}/consents", json=body, headers=home.headers)
    assert response.status_code == 422


def test_read_only_staff_cannot_record_consent(
    client: TestClient, runtime: Runtime, home: Practice, adult: Patient
) -> None:
    reader = sign_in(client, create_user(runtime, home.clinic, Role.READ_ONLY))
    response = client.post(
        f"/api/patients/{adult.id}/consents", json=PHOTOS_BY_PATIENT, headers=reader
    )
    assert response.status_code == 403


def test_revoking_another_patients_consent_is_not_found(
    client: TestClient, runtime: Runtime, home: Practice, adult: Patient
) -> None:
    granted = _grant(client, home, adult, PHOTOS_BY_PATIENT)
    other = create_patient(runtime, home.clinic, date_of_birth=ADULT_BIRTHDAY)
    response = client.post(
        f"/api/patients/{other.id}/consents/{granted['id']}/revoke", headers=home.headers
    )
    assert response.status_code == 404


CROSS_CLINIC_CALLS = [
    ("GET", "/consents", None),
    ("POST", "/consents", PHOTOS_BY_PATIENT),
    ("POST", f"/consents/{uuid.UUID(int=1)}/revoke", None),
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
    theirs = create_patient(runtime, create_clinic(runtime), date_of_birth=ADULT_BIRTHDAY)
    foreign = client.request(
        method, f"/api/patients/{theirs.id}{suffix}", json=body, headers=home.headers
    )
    unknown = client.request(
        method, f"/api/patients/{uuid.uuid4()}{suffix}", json=body, headers=home.headers
    )
    assert foreign.status_code == unknown.status_code == 404
    assert problem(foreign) == problem(unknown)


def _require(
    runtime: Runtime, patient: Patient, kind: ConsentKind = ConsentKind.PHOTOGRAPHY
) -> Consent:
    with transaction(runtime.session_factory) as session:
        return require_valid_consent(session, patient.id, kind)


def test_require_valid_consent_refuses_a_patient_without_one(
    runtime: Runtime, adult: Patient
) -> None:
    with pytest.raises(ConsentMissing) as refused:
        _require(runtime, adult)
    assert refused.value.status_code == 422
    assert refused.value.slug == "consent-required"
    assert str(refused.value) == (
        "This patient has no valid photography consent; record one before adding photos."
    )


def test_require_valid_consent_refuses_an_expired_one(
    client: TestClient, runtime: Runtime, home: Practice, adult: Patient
) -> None:
    now = utcnow()
    body = {
        **PHOTOS_BY_PATIENT,
        "grantedAt": _iso(now - timedelta(days=10)),
        "expiresAt": _iso(now - timedelta(days=1)),
    }
    _grant(client, home, adult, body)
    with pytest.raises(ConsentMissing):
        _require(runtime, adult)


def test_require_valid_consent_refuses_a_revoked_one(
    client: TestClient, runtime: Runtime, home: Practice, adult: Patient
) -> None:
    granted = _grant(client, home, adult, PHOTOS_BY_PATIENT)
    client.post(f"/api/patients/{adult.id}/consents/{granted['id']}/revoke", headers=home.headers)
    with pytest.raises(ConsentMissing):
        _require(runtime, adult)


def test_require_valid_consent_refuses_another_kind(
    client: TestClient, runtime: Runtime, home: Practice, adult: Patient
) -> None:
    _grant(client, home, adult, {"kind": "MARKETING", "grantedBy": "PATIENT"})
    with pytest.raises(ConsentMissing):
        _require(runtime, adult)


def test_require_valid_consent_returns_the_consent_in_force(
    client: TestClient, runtime: Runtime, home: Practice, adult: Patient
) -> None:
    granted = _grant(client, home, adult, PHOTOS_BY_PATIENT)
    assert str(_require(runtime, adult).id) == granted["id"]
