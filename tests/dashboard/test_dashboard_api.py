"""Seed 004 section 5 through the API: summary, feed, overdue list, tagging analytics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from ortholens.kit.db import transaction, utcnow
from ortholens.models import Clinic, Patient, PatientStatus, Role, User
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_patient, create_scan_session, create_user, sign_in

TAGS = {"overallTracking": 1, "oralHygiene": 1, "detailTags": []}


def onboard(runtime: Runtime, patient: Patient, days_ago: int) -> None:
    with transaction(runtime.session_factory) as db:
        db.execute(
            update(Patient)
            .where(Patient.id == patient.id)
            .values(onboarded_at=utcnow() - timedelta(days=days_ago))
        )


def test_summary_overdue_and_feed_of_one_clinic(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    on_time = create_patient(runtime, clinic, last_name="Ontime")
    late = create_patient(runtime, clinic, last_name="Late")
    never = create_patient(runtime, clinic, last_name="Never")
    fresh = create_patient(runtime, clinic, last_name="Fresh")
    create_patient(runtime, clinic, status=PatientStatus.PAUSED)  # not active: not counted
    onboard(runtime, never, 30)
    onboard(runtime, fresh, 2)
    create_scan_session(runtime, on_time, created_at=utcnow() - timedelta(days=3))
    late_scan = create_scan_session(runtime, late, created_at=utcnow() - timedelta(days=20))
    other = create_clinic(runtime)
    create_scan_session(runtime, create_patient(runtime, other))  # another clinic: never counted
    headers = sign_in(client, doctor)
    client.post(f"/api/tagging/sessions/{late_scan.id}/tags", headers=headers, json=TAGS)
    client.post(
        "/api/messaging/threads",
        headers=headers,
        json={"patientId": str(late.id), "subject": "Hello", "content": "Please send new photos"},
    )

    summary = client.get("/api/dashboard/summary", headers=headers).json()
    assert summary == {
        "pendingScans": 1,
        "totalPatients": 4,
        "compliancePercentage": 50.0,  # on time and fresh; late and never are overdue
        "taggingRate": 50.0,  # 1 of the 2 check-ins of the last 30 days
    }
    overdue = client.get("/api/dashboard/overdue", headers=headers).json()
    assert [row["patientId"] for row in overdue] == [
        str(never.id),
        str(late.id),
    ]  # most overdue first
    assert overdue[0]["lastScanAt"] is None and overdue[0]["daysOverdue"] == 16
    feed = client.get("/api/dashboard/feed", headers=headers).json()
    assert [item["type"] for item in feed] == ["message", "tag_set", "scan", "scan"]
    assert feed[0]["preview"] == "Please send new photos"
    assert all(item["patientName"] for item in feed)
    times = [item["at"] for item in feed]
    assert times == sorted(times, reverse=True)


def tagged_sessions(
    runtime: Runtime,
    clinic: Clinic,
    doctor_headers: dict[str, str],
    client: TestClient,
    total: int,
    tagged: int,
) -> None:
    patient = create_patient(runtime, clinic)
    for index in range(total):
        scan = create_scan_session(
            runtime, patient, created_at=utcnow() - timedelta(days=1, minutes=index)
        )
        if index < tagged:
            assert (
                client.post(
                    f"/api/tagging/sessions/{scan.id}/tags", headers=doctor_headers, json=TAGS
                ).status_code
                == 201
            )


@pytest.mark.parametrize(
    ("total", "tagged", "rate", "tier"), [(10, 4, 40.0, 0), (10, 5, 50.0, 10), (20, 17, 85.0, 30)]
)
def test_tagging_analytics_are_saved_on_the_clinic(
    client: TestClient,
    runtime: Runtime,
    clinic: Clinic,
    doctor: User,
    total: int,
    tagged: int,
    rate: float,
    tier: int,
) -> None:
    headers = sign_in(client, doctor)
    tagged_sessions(runtime, clinic, headers, client, total, tagged)
    old = create_scan_session(
        runtime, create_patient(runtime, clinic), created_at=utcnow() - timedelta(days=31)
    )
    assert old  # outside the 30-day window
    analytics = client.get("/api/tagging/analytics", headers=headers).json()
    assert (analytics["totalSessions"], analytics["taggedSessions"]) == (total, tagged)
    assert (analytics["taggingRate"], analytics["discountTier"]) == (rate, tier)
    with runtime.session_factory() as db:
        saved = db.get(Clinic, clinic.id)
        assert saved is not None and (saved.tagging_rate, saved.discount_tier) == (rate, tier)


def test_who_sees_the_dashboard_and_analytics(
    client: TestClient, runtime: Runtime, clinic: Clinic
) -> None:
    billing = sign_in(client, create_user(runtime, clinic, Role.BILLING))
    front = sign_in(client, create_user(runtime, clinic, Role.FRONT_DESK))
    assert client.get("/api/dashboard/summary", headers=billing).status_code == 403
    assert client.get("/api/tagging/analytics", headers=billing).status_code == 200
    assert client.get("/api/dashboard/feed", headers=front).status_code == 200
    assert client.get("/api/tagging/analytics", headers=front).status_code == 403
    admin = sign_in(client, create_user(runtime, None, Role.SUPER_ADMIN))
    assert client.get("/api/tagging/analytics", headers=admin).status_code == 422  # which clinic?
    assert (
        client.get(f"/api/tagging/analytics?clinicId={clinic.id}", headers=admin).status_code == 200
    )
