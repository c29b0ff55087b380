"""Seed 004 section 6 end to end: subscribe, review -> `scan.reviewed` -> jobs -> an encrypted push
the test decrypts; doctor messages push too; gone subscriptions are pruned; reminders once a day."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ortholens.app import create_app
from ortholens.kit.db import transaction, utcnow
from ortholens.models import Patient, PushSubscription, Role
from ortholens.runtime import Runtime, build_runtime
from tests.conftest import make_settings
from tests.factories import (
    create_clinic,
    create_patient,
    create_scan_session,
    create_user,
    patient_token,
    sign_in,
)
from tests.fixtures.jobs import run_jobs
from tests.notify.push_service import (
    LocalPushService,
    decrypt,
    make_subscriber,
    running_push_service,
)

TAGS = {"overallTracking": 1, "oralHygiene": 2, "detailTags": []}


@pytest.fixture
def push_service() -> Iterator[LocalPushService]:
    with running_push_service() as service:
        yield service


@pytest.fixture
def push_runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = build_runtime(
        make_settings(tmp_path, database_url, push_allow_insecure_endpoints=True)
    )
    yield runtime
    runtime.close()


@pytest.fixture
def api(push_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(
        create_app(push_runtime), base_url="https://testserver", raise_server_exceptions=False
    ) as client:
        yield client


def subscribe(api: TestClient, headers: dict[str, str], target: object) -> dict[str, object]:
    body = {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}}  # type: ignore[attr-defined]
    response = api.post("/api/patient/push/subscribe", headers=headers, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_review_reaches_every_device_of_the_patient_encrypted(
    api: TestClient, push_runtime: Runtime, push_service: LocalPushService
) -> None:
    clinic = create_clinic(push_runtime)
    patient = create_patient(push_runtime, clinic)
    headers = patient_token(push_runtime, patient)
    config = api.get("/api/patient/push/config", headers=headers).json()
    assert config["applicationServerKey"] == push_runtime.vapid.public_key_b64url
    phone, tablet = make_subscriber(push_service, "phone"), make_subscriber(push_service, "tablet")
    first = subscribe(api, headers, phone.target)
    assert subscribe(api, headers, phone.target)["id"] == first["id"]  # upsert by endpoint
    subscribe(api, headers, tablet.target)
    scan = create_scan_session(push_runtime, patient)
    doctor = sign_in(api, create_user(push_runtime, clinic, Role.DOCTOR))
    assert (
        api.post(f"/api/tagging/sessions/{scan.id}/tags", headers=doctor, json=TAGS).status_code
        == 201
    )
    # Several rounds: the review's job fans out into one push job per device. Retries run at once.
    run_jobs(push_runtime, rounds=5, ignore_backoff=True)
    assert len(push_service.received) == 2
    by_endpoint = {push.subscription_id: push for push in push_service.received}
    for subscriber, name in ((phone, "phone"), (tablet, "tablet")):
        push = by_endpoint[name]
        message = json.loads(decrypt(push.body, subscriber))
        assert message == {
            "title": "Scan reviewed",
            "body": "Your orthodontist has reviewed your latest photos.",
            "url": "/home",
            "tag": "scan-reviewed",
        }
        assert push.vapid_public_key == push_runtime.vapid.public_key_b64url


def test_a_gone_subscription_is_pruned_and_a_failing_one_retried(
    api: TestClient, push_runtime: Runtime, push_service: LocalPushService
) -> None:
    clinic = create_clinic(push_runtime)
    patient = create_patient(push_runtime, clinic)
    headers = patient_token(push_runtime, patient)
    gone, flaky = make_subscriber(push_service, "gone"), make_subscriber(push_service, "flaky")
    subscribe(api, headers, gone.target)
    subscribe(api, headers, flaky.target)
    push_service.answer("gone", 410)
    push_service.answer("flaky", 503)
    doctor = sign_in(api, create_user(push_runtime, clinic, Role.DOCTOR))
    thread = api.post(
        "/api/messaging/threads",
        headers=doctor,
        json={"patientId": str(patient.id), "subject": "Elastics", "content": "Please wear them"},
    ).json()
    run_jobs(push_runtime, rounds=5, ignore_backoff=True)
    with push_runtime.session_factory() as db:
        endpoints = set(db.scalars(select(PushSubscription.endpoint)))
    assert endpoints == {flaky.target.endpoint}
    # The 503 was retried with backoff and then delivered once.
    delivered = [p for p in push_service.received if p.subscription_id == "flaky"]
    assert len(delivered) == 1
    message = json.loads(decrypt(delivered[0].body, flaky))
    assert message["url"] == f"/portal/messages/{thread['id']}"
    # The patient's own reply pushes nothing.
    count = len(push_service.received)
    api.post(
        "/api/patient/messages", headers=headers, json={"threadId": thread["id"], "content": "ok"}
    )
    run_jobs(push_runtime, rounds=5, ignore_backoff=True)
    assert len(push_service.received) == count


def test_subscribing_refuses_endpoints_we_must_not_call(
    client: TestClient, runtime: Runtime
) -> None:
    patient = create_patient(runtime, create_clinic(runtime))
    headers = patient_token(runtime, patient)
    keys = {"p256dh": "B" * 87, "auth": "A" * 22}
    for endpoint in (
        "http://127.0.0.1:9/push/x",
        "https://10.0.0.5/push/x",
        "https://169.254.169.254/x",
    ):
        response = client.post(
            "/api/patient/push/subscribe",
            headers=headers,
            json={"endpoint": endpoint, "keys": keys},
        )
        assert response.status_code == 422, endpoint
    with runtime.session_factory() as db:
        assert db.scalars(select(PushSubscription)).all() == []
    assert (
        client.post(
            "/api/patient/push/subscribe", json={"endpoint": "https://x.example/p", "keys": keys}
        ).status_code
        == 401
    )


def test_due_patients_are_reminded_at_most_once_a_day(
    api: TestClient, push_runtime: Runtime, push_service: LocalPushService
) -> None:
    clinic = create_clinic(push_runtime)
    due = create_patient(push_runtime, clinic)
    recent = create_patient(push_runtime, clinic)
    never = create_patient(push_runtime, clinic)  # onboarded 3 days ago, never scanned: not yet due
    create_scan_session(push_runtime, due, created_at=utcnow() - timedelta(days=15))
    create_scan_session(push_runtime, recent, created_at=utcnow() - timedelta(days=2))
    with transaction(push_runtime.session_factory) as db:
        db.execute(
            update(Patient)
            .where(Patient.id == never.id)
            .values(onboarded_at=utcnow() - timedelta(days=3))
        )
    subscribers = {}
    for patient in (due, recent, never):
        subscribers[patient.id] = make_subscriber(push_service, str(patient.id))
        subscribe(api, patient_token(push_runtime, patient), subscribers[patient.id].target)

    def remind() -> None:
        with transaction(push_runtime.session_factory) as db:
            from ortholens.kit.jobs import request_job

            request_job(db, "notify.scan_reminders", {"force": True})
        run_jobs(push_runtime, rounds=5, ignore_backoff=True)

    remind()
    assert [p.subscription_id for p in push_service.received] == [str(due.id)]
    assert (
        json.loads(decrypt(push_service.received[0].body, subscribers[due.id]))["title"]
        == "Time for your check-in"
    )
    remind()  # the same day: nothing more
    assert len(push_service.received) == 1
    with transaction(push_runtime.session_factory) as db:
        db.execute(
            update(Patient)
            .where(Patient.id == due.id)
            .values(last_scan_reminder_at=utcnow() - timedelta(days=1))
        )
    remind()  # a day later, still due: reminded again
    assert len(push_service.received) == 2
