"""Seed 004 section 3 through the API: queue, session, status, AI suggestion, tag set."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ortholens.app import create_app
from ortholens.kit.db import utcnow
from ortholens.kit.jobs import Job
from ortholens.models import AiTagSuggestion, AuditEvent, Clinic, Role, ScanSession, TagSet, User
from ortholens.runtime import Runtime, build_runtime
from tests.conftest import make_settings
from tests.factories import (
    create_clinic,
    create_consent,
    create_patient,
    create_scan_session,
    create_user,
    patient_token,
    sign_in,
)
from tests.review.messages_api_server import error_reply, running_messages_api, tool_use_reply

TAGS = {"overallTracking": 2, "oralHygiene": 1, "detailTags": ["ELASTICS_NOT_WORN"]}


def new_session(
    runtime: Runtime, clinic: Clinic, days_ago: float = 0, photos: int = 5
) -> ScanSession:
    patient = create_patient(runtime, clinic)
    create_consent(runtime, patient)
    return create_scan_session(
        runtime, patient, photos=photos, created_at=utcnow() - timedelta(days=days_ago)
    )


def test_the_queue_lists_pending_sessions_of_the_clinic_oldest_first(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    newer = new_session(runtime, clinic, days_ago=1)
    older = new_session(runtime, clinic, days_ago=3)
    new_session(runtime, clinic, photos=0)  # started, nothing sent: not in the queue
    new_session(runtime, create_clinic(runtime), days_ago=5)  # another clinic
    headers = sign_in(client, doctor)
    page = client.get("/api/scans/sessions?status=PENDING&limit=1", headers=headers).json()
    assert [item["id"] for item in page["items"]] == [str(older.id)]
    assert page["items"][0]["imageCount"] == 5 and page["items"][0]["patientName"]
    rest = client.get(
        f"/api/scans/sessions?status=PENDING&cursor={page['nextCursor']}", headers=headers
    ).json()
    assert [item["id"] for item in rest["items"]] == [str(newer.id)]
    assert rest["nextCursor"] is None
    assert client.get("/api/scans/sessions?status=REVIEWED", headers=headers).json()["items"] == []


def test_a_session_comes_with_photos_links_and_the_previous_session(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    first = new_session(runtime, clinic, days_ago=14)
    with runtime.session_factory() as db:
        patient = db.get(ScanSession, first.id).patient_id  # type: ignore[union-attr]
        from ortholens.models import Patient

        owner = db.get(Patient, patient)
    assert owner is not None
    second = create_scan_session(runtime, owner)
    body = client.get(f"/api/scans/sessions/{second.id}", headers=sign_in(client, doctor)).json()
    assert len(body["images"]) == 5
    assert {image["viewCode"] for image in body["images"]} == {
        "IV07",
        "IV01",
        "IV18",
        "IV25",
        "IV27",
    }
    assert all({"thumbnail", "preview"} <= set(image["urls"]) for image in body["images"])
    assert body["previousSessionId"] == str(first.id)
    assert body["tagSet"] is None and body["aiSuggestion"] is None


def test_another_clinics_session_is_not_found_and_the_attempt_audited(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    foreign = new_session(runtime, create_clinic(runtime))
    headers = sign_in(client, doctor)
    for method, path, body in (
        ("GET", f"/api/scans/sessions/{foreign.id}", None),
        ("PATCH", f"/api/scans/sessions/{foreign.id}/status", {"status": "REVIEWED"}),
        ("POST", f"/api/tagging/sessions/{foreign.id}/suggest", None),
        ("POST", f"/api/tagging/sessions/{foreign.id}/tags", TAGS),
    ):
        response = client.request(method, path, headers=headers, json=body)
        assert response.status_code == 404, (path, response.text)
        random = client.request(
            method, path.replace(str(foreign.id), str(uuid.uuid4())), headers=headers, json=body
        )
        assert random.json()["detail"] == response.json()["detail"]
    with runtime.session_factory() as db:
        denied = db.scalars(
            select(AuditEvent).where(
                AuditEvent.target_id == foreign.id, AuditEvent.outcome == "denied"
            )
        ).all()
        assert len(denied) == 4


def test_submitting_tags_reviews_the_session_once(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    scan = new_session(runtime, clinic)
    headers = sign_in(client, doctor)
    created = client.post(f"/api/tagging/sessions/{scan.id}/tags", headers=headers, json=TAGS)
    assert created.status_code == 201, created.text
    assert created.json()["detailTags"] == ["ELASTICS_NOT_WORN"]
    with runtime.session_factory() as db:
        reviewed = db.get(ScanSession, scan.id)
        assert reviewed is not None and reviewed.status.value == "REVIEWED"
        assert reviewed.reviewed_by_id == doctor.id and reviewed.reviewed_at is not None
    again = client.post(f"/api/tagging/sessions/{scan.id}/tags", headers=headers, json=TAGS)
    assert again.status_code == 409
    assert "already reviewed" in again.json()["detail"]
    detail = client.get(f"/api/scans/sessions/{scan.id}", headers=headers).json()
    assert detail["tagSet"]["overallTracking"] == 2 and detail["status"] == "REVIEWED"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        # declared in the schema (1 to 3): refused by validation, which names the field
        ({**TAGS, "overallTracking": 4}, "overallTracking"),
        ({**TAGS, "oralHygiene": 0}, "oralHygiene"),
        ({**TAGS, "detailTags": ["NOT_A_TAG"]}, "Unknown detail tag"),
        ({**TAGS, "aiSuggested": True}, "no AI suggestion"),
    ],
)
def test_an_invalid_tag_set_is_refused_and_changes_nothing(
    client: TestClient,
    runtime: Runtime,
    clinic: Clinic,
    doctor: User,
    body: dict[str, object],
    fragment: str,
) -> None:
    scan = new_session(runtime, clinic)
    response = client.post(
        f"/api/tagging/sessions/{scan.id}/tags", headers=sign_in(client, doctor), json=body
    )
    assert response.status_code == 422
    assert fragment in response.text  # the detail, or the field named in `errors`
    with runtime.session_factory() as db:
        assert db.scalars(select(TagSet)).all() == []
        assert db.get(ScanSession, scan.id).status.value == "PENDING"  # type: ignore[union-attr]


def test_two_doctors_reviewing_at_once_give_one_review_and_one_conflict(
    runtime: Runtime, clinic: Clinic
) -> None:
    scan = new_session(runtime, clinic)
    doctors = [create_user(runtime, clinic, Role.DOCTOR) for _ in range(2)]
    app = create_app(runtime)
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def review(user: User) -> None:
        with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
            headers = sign_in(c, user)
            barrier.wait()
            statuses.append(
                c.post(
                    f"/api/tagging/sessions/{scan.id}/tags", headers=headers, json=TAGS
                ).status_code
            )

    threads = [threading.Thread(target=review, args=(user,)) for user in doctors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409]
    with runtime.session_factory() as db:
        assert len(db.scalars(select(TagSet)).all()) == 1


def test_status_changes_and_who_may_make_them(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    scan = new_session(runtime, clinic)
    reader = create_user(runtime, clinic, Role.READ_ONLY)
    path = f"/api/scans/sessions/{scan.id}/status"
    assert (
        client.patch(path, headers=sign_in(client, reader), json={"status": "REVIEWED"}).status_code
        == 403
    )
    headers = sign_in(client, doctor)
    retake = client.patch(path, headers=headers, json={"status": "NEEDS_RETAKE"})
    assert retake.status_code == 200 and retake.json()["status"] == "NEEDS_RETAKE"
    assert retake.json()["reviewedById"] == str(doctor.id)
    back = client.patch(path, headers=headers, json={"status": "PENDING"})
    assert back.json()["status"] == "PENDING" and back.json()["reviewedAt"] is None
    assert client.patch(path, headers=headers, json={"status": "DONE"}).status_code == 422
    client.post(f"/api/tagging/sessions/{scan.id}/tags", headers=headers, json=TAGS)
    assert client.patch(path, headers=headers, json={"status": "PENDING"}).status_code == 409


def test_a_patient_cannot_use_the_staff_review_routes(
    client: TestClient, runtime: Runtime, clinic: Clinic
) -> None:
    scan = new_session(runtime, clinic)
    with runtime.session_factory() as db:
        from ortholens.models import Patient

        patient = db.get(Patient, db.get(ScanSession, scan.id).patient_id)  # type: ignore[union-attr]
    assert patient is not None
    headers = patient_token(runtime, patient)
    assert client.get(f"/api/scans/sessions/{scan.id}", headers=headers).status_code == 401
    assert (
        client.post(f"/api/tagging/sessions/{scan.id}/tags", headers=headers, json=TAGS).status_code
        == 401
    )


def test_the_local_provider_suggests_and_the_doctor_adjusts(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    scan = new_session(runtime, clinic)
    headers = sign_in(client, doctor)
    suggested = client.post(f"/api/tagging/sessions/{scan.id}/suggest", headers=headers)
    assert suggested.status_code == 200, suggested.text
    body = suggested.json()
    assert body["provider"] == "local"
    # The local provider judges photo quality and colour, never whether treatment is on track.
    assert body["overallTracking"] is None and body["cannotJudge"] is False
    assert body["oralHygiene"] in (1, 2, 3) and "tracking" in body["rationale"]
    detail = client.get(f"/api/scans/sessions/{scan.id}", headers=headers).json()
    assert detail["aiSuggestion"]["id"] == body["id"]
    same = {
        "overallTracking": body["overallTracking"] or 1,
        "oralHygiene": body["oralHygiene"] or 1,
        "detailTags": body["detailTags"],
        "aiSuggested": True,
        "aiOverridden": True,  # the server decides from the stored suggestion
    }
    tagged = client.post(f"/api/tagging/sessions/{scan.id}/tags", headers=headers, json=same).json()
    assert tagged["aiSuggested"] is True and tagged["aiSuggestionId"] == body["id"]
    assert tagged["aiOverridden"] is (
        body["overallTracking"] is None or body["oralHygiene"] is None
    )


@pytest.fixture
def anthropic_runtime(tmp_path: Path, database_url: str) -> object:
    with running_messages_api("test-key") as server:
        rt = build_runtime(
            make_settings(
                tmp_path,
                database_url,
                ai_provider="anthropic",
                anthropic_api_key="test-key",
                anthropic_base_url=server.base_url,
                ai_max_retries=0,
                ai_timeout_seconds=5,
            )
        )
        yield rt, server
        rt.close()


def test_claude_suggestion_through_the_sdk_is_clamped_stored_and_overridable(
    anthropic_runtime: tuple[Runtime, object],
) -> None:
    runtime, server = anthropic_runtime
    clinic = create_clinic(runtime)
    doctor = create_user(runtime, clinic, Role.DOCTOR)
    scan = new_session(runtime, clinic)
    server.then(  # type: ignore[attr-defined]
        tool_use_reply(
            {
                "overall_tracking": 7,
                "oral_hygiene": 2,
                "detail_tags": ["PLAQUE", "WINGS_MISSING"],
                "rationale": "Plaque along the lower incisors.",
                "confidence": 0.7,
                "cannot_judge": False,
            }
        ),
        error_reply(529, "overloaded_error", "Overloaded"),
    )
    with TestClient(
        create_app(runtime), base_url="https://testserver", raise_server_exceptions=False
    ) as client:
        headers = sign_in(client, doctor)
        answer = client.post(f"/api/tagging/sessions/{scan.id}/suggest", headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["overallTracking"], body["oralHygiene"]) == (3, 2)
        assert body["detailTags"] == ["PLAQUE"] and body["droppedTags"] == ["WINGS_MISSING"]
        sent = server.requests[-1]  # type: ignore[attr-defined]
        assert len(sent.images) == 5 and all(media == "image/jpeg" for media, _ in sent.images)
        failed = client.post(f"/api/tagging/sessions/{scan.id}/suggest", headers=headers)
        assert failed.status_code == 503
        assert "tag the session by hand" in failed.json()["detail"]
        changed = client.post(
            f"/api/tagging/sessions/{scan.id}/tags",
            headers=headers,
            json={
                "overallTracking": 2,
                "oralHygiene": 2,
                "detailTags": ["PLAQUE"],
                "aiSuggested": True,
            },
        ).json()
        assert changed["aiOverridden"] is True
    with runtime.session_factory() as db:
        assert len(db.scalars(select(AiTagSuggestion)).all()) == 1  # the failed call stored nothing
        assert (
            db.scalars(select(Job).where(Job.name == "notify.push")).all() == []
        )  # no subscriptions
