"""A check-in from the patient's side: it reaches the doctor's queue only when sent, the server's
verdict on each photo (with retake advice in plain words) can be read back, a half-done check-in
is resumed, and the portal home says what the review means and shows the doctor's note."""

from __future__ import annotations

import io
import uuid

import pytest
from fastapi.testclient import TestClient
from PIL import Image as PILImage
from PIL import ImageFilter

from ortholens.auth.deps import PATIENT_ACCESS_COOKIE
from ortholens.kit.db import transaction, utcnow
from ortholens.models import (
    AuditEvent,
    Clinic,
    Message,
    MessageThread,
    Patient,
    ScanSessionStatus,
    SenderType,
    TagSet,
)
from ortholens.runtime import Runtime
from tests.factories import (
    create_clinic,
    create_consent,
    create_patient,
    create_scan_session,
    create_user,
    patient_token,
    sign_in,
)
from tests.fixtures.jobs import run_jobs
from tests.fixtures.photos import jpeg
from tests.fixtures.uploads import upload


def dark_blurred_photo() -> bytes:
    """A photo taken in a dim room with a shaking hand: blurred and at a third of its light."""
    image = PILImage.open(io.BytesIO(jpeg(7, (1280, 960)))).convert("RGB")
    image = image.filter(ImageFilter.GaussianBlur(8)).point(lambda value: value // 3)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture
def patient(runtime: Runtime, clinic: Clinic) -> Patient:
    patient = create_patient(runtime, clinic, first_name="Mia")
    create_consent(runtime, patient)
    return patient


def queue_ids(client: TestClient, headers: dict[str, str]) -> list[str]:
    response = client.get("/api/scans/sessions?status=PENDING", headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_a_check_in_reaches_the_queue_only_when_sent(
    client: TestClient, runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    staff = sign_in(client, create_user(runtime, clinic))
    client.cookies.clear()
    headers = patient_token(runtime, patient)
    scan = client.post("/api/patient/scans/sessions", headers=headers).json()
    upload(client, headers, scan["id"], "FRONTAL", jpeg(1))
    assert scan["id"] not in queue_ids(client, staff)  # 1 of 5 and the patient left: not work yet

    sent = client.post(f"/api/patient/scans/sessions/{scan['id']}/submit", headers=headers)
    assert sent.status_code == 200, sent.text
    assert sent.json()["submittedAt"] is not None
    assert queue_ids(client, staff) == [scan["id"]]
    # Sending again changes nothing; more photos into a sent check-in are refused.
    again = client.post(f"/api/patient/scans/sessions/{scan['id']}/submit", headers=headers)
    assert again.json()["submittedAt"] == sent.json()["submittedAt"]
    more = client.post(
        "/api/patient/scans/upload-url",
        headers=headers,
        json={"sessionId": scan["id"], "imageType": "LEFT"},
    )
    assert more.status_code == 409
    assert "already sent" in more.json()["detail"]
    with runtime.session_factory() as session:
        actions = session.query(AuditEvent.action).filter(
            AuditEvent.target_id == uuid.UUID(scan["id"])
        )
        assert [a for (a,) in actions].count("scan_session.submit") == 1


def test_an_empty_check_in_cannot_be_sent_and_another_patients_is_unknown(
    client: TestClient, runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    headers = patient_token(runtime, patient)
    scan = client.post("/api/patient/scans/sessions", headers=headers).json()
    empty = client.post(f"/api/patient/scans/sessions/{scan['id']}/submit", headers=headers)
    assert empty.status_code == 422
    assert "at least one photo" in empty.json()["detail"]

    other = create_patient(runtime, create_clinic(runtime), first_name="Theo")
    create_consent(runtime, other)
    theirs = patient_token(runtime, other)
    for method, path in (
        ("POST", f"/api/patient/scans/sessions/{scan['id']}/submit"),
        ("GET", f"/api/patient/scans/sessions/{scan['id']}"),
    ):
        answer = client.request(method, path, headers=theirs)
        assert answer.status_code == 404
    unknown = client.get(f"/api/patient/scans/sessions/{uuid.uuid4()}", headers=theirs)
    assert unknown.status_code == 404 and unknown.json()["detail"] == answer.json()["detail"]


def test_a_half_done_check_in_is_resumed(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    headers = patient_token(runtime, patient)
    first = client.post("/api/patient/scans/sessions", headers=headers).json()
    upload(client, headers, first["id"], "FRONTAL", jpeg(1))
    again = client.post("/api/patient/scans/sessions", headers=headers).json()
    assert again["id"] == first["id"] and again["imageCount"] == 1
    client.post(f"/api/patient/scans/sessions/{first['id']}/submit", headers=headers)
    after_send = client.post("/api/patient/scans/sessions", headers=headers).json()
    assert after_send["id"] != first["id"] and after_send["imageCount"] == 0


def test_the_server_verdict_and_retake_advice_reach_the_patient(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    headers = patient_token(runtime, patient)
    scan = client.post("/api/patient/scans/sessions", headers=headers).json()
    good = upload(client, headers, scan["id"], "FRONTAL", jpeg(1, (1280, 960)))
    bad = upload(client, headers, scan["id"], "RIGHT", dark_blurred_photo())
    path = f"/api/patient/scans/sessions/{scan['id']}"

    before = client.get(path, headers=headers).json()
    assert {p["state"] for p in before["photos"]} == {"processing"}

    run_jobs(runtime)
    photos = {p["id"]: p for p in client.get(path, headers=headers).json()["photos"]}
    assert photos[good["id"]]["state"] == "good"
    assert photos[good["id"]]["advice"] is None
    verdict = photos[bad["id"]]
    assert verdict["state"] == "retake"
    assert {"blurred", "too dark"} <= set(verdict["reasons"])
    assert "Hold the phone still" in verdict["advice"]
    assert "more light" in verdict["advice"]
    assert verdict["viewCode"] == "IV01"


def _review(runtime: Runtime, patient: Patient, tracking: int, notes: str | None) -> None:
    scan = create_scan_session(runtime, patient, photos=5, status=ScanSessionStatus.REVIEWED)
    with transaction(runtime.session_factory) as session:
        row = session.get(type(scan), scan.id)
        assert row is not None
        row.reviewed_at = utcnow()
        session.add(
            TagSet(
                clinic_id=patient.clinic_id,
                scan_session_id=scan.id,
                overall_tracking=tracking,
                oral_hygiene=2,
                detail_tags=[],
                notes=notes,
            )
        )


def _portal_home(client: TestClient, runtime: Runtime, patient: Patient) -> str:
    with transaction(runtime.session_factory) as session:
        row = session.get(Patient, patient.id)
        assert row is not None
        row.portal_email, row.onboarded_at = "mia@example.org", utcnow()
    headers = patient_token(runtime, patient)
    token = headers["Authorization"].removeprefix("Bearer ")
    client.cookies.set(PATIENT_ACCESS_COOKIE, token)
    response = client.get("/portal", follow_redirects=False)
    assert response.status_code == 200, response.text
    return response.text


def test_the_portal_says_what_the_review_means_with_the_doctors_note(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    _review(runtime, patient, 3, "Elastic on the left came off.\nPlease call us.")
    html = _portal_home(client, runtime, patient)
    assert "Your orthodontist would like to see you" in html
    assert "NO-GO" not in html and "(GO)" not in html and "monitor)" not in html
    assert 'data-testid="review-note"' in html
    assert "Elastic on the left came off." in html
    assert "brush a little longer" in html


def test_the_portal_counts_unread_messages_on_the_bottom_bar(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    with transaction(runtime.session_factory) as session:
        thread = MessageThread(clinic_id=patient.clinic_id, patient_id=patient.id, subject="Hi")
        session.add(thread)
        session.flush()
        for sender in (SenderType.DOCTOR, SenderType.STAFF, SenderType.PATIENT):
            session.add(
                Message(
                    clinic_id=patient.clinic_id,
                    thread_id=thread.id,
                    sender_type=sender,
                    content="x",
                )
            )
    html = _portal_home(client, runtime, patient)
    assert 'data-testid="messages-badge">2<' in html
