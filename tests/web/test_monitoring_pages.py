"""Issue 6's pages through the ASGI app: the monitoring dashboard, the review screen (photos beside
the previous check-in's, the AI suggestion pre-filled and marked, submit, retake), messaging on
both sides, the portal home's status cards, /sw.js and /home; and the tenancy of each."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ortholens.kit.db import transaction, utcnow
from ortholens.models import (
    AiTagSuggestion,
    Clinic,
    Message,
    Patient,
    Role,
    ScanSession,
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
    patient_token,
)
from tests.fixtures.accounts import staff_headers

COMPARE_IMG = re.compile(r'<img class="compare__img" src="([^"]+)"')


@pytest.fixture
def patient(runtime: Runtime, clinic: Clinic) -> Patient:
    patient = create_patient(runtime, clinic, first_name="Ana", last_name="Silva")
    create_consent(runtime, patient)
    return patient


@pytest.fixture
def sessions(runtime: Runtime, patient: Patient) -> tuple[ScanSession, ScanSession]:
    """(previous, reviewed two weeks ago; current, pending) check-ins of five photos each."""
    previous = create_scan_session(
        runtime,
        patient,
        created_at=utcnow() - timedelta(days=14),
        status=ScanSessionStatus.REVIEWED,
    )
    with transaction(runtime.session_factory) as session:
        row = session.get(ScanSession, previous.id)
        assert row is not None
        row.reviewed_at = utcnow() - timedelta(days=13)
    current = create_scan_session(runtime, patient)
    return previous, current


def add_suggestion(runtime: Runtime, scan: ScanSession, **values: object) -> None:
    with transaction(runtime.session_factory) as session:
        session.add(
            AiTagSuggestion(
                clinic_id=scan.clinic_id,
                scan_session_id=scan.id,
                provider="test",
                model="fixed",
                **(
                    {
                        "overall_tracking": 2,
                        "oral_hygiene": 1,
                        "detail_tags": ["ATTACHMENT_MISSING"],
                        "rationale": "Attachment on 13 looks missing.",
                        "cannot_judge": False,
                    }
                    | values
                ),
            )
        )


def checked(html: str, name: str) -> list[str]:
    """The values of the checked inputs called `name`."""
    tags = re.findall(
        rf'<input type="(?:radio|checkbox)" name="{name}" value="([^"]+)"( checked)?', html
    )
    return [value for value, on in tags if on]


# ---- Dashboard ---------------------------------------------------------------------------------


def test_dashboard_shows_the_numbers_the_queue_the_feed_and_who_is_overdue(
    client: TestClient,
    runtime: Runtime,
    clinic: Clinic,
    patient: Patient,
    sessions: tuple[ScanSession, ScanSession],
    doctor_headers: dict[str, str],
) -> None:
    previous, current = sessions
    late = create_patient(runtime, clinic, first_name="Leo", last_name="Late")
    with transaction(runtime.session_factory) as session:
        row = session.get(Patient, late.id)
        assert row is not None
        row.created_at = utcnow() - timedelta(days=40)

    page = client.get("/monitoring", headers=doctor_headers)
    assert page.status_code == 200, page.text
    html = page.text
    assert 'href="/monitoring" aria-current="page"' in html  # in the staff nav

    def stat(name: str) -> str:
        match = re.search(
            rf'data-testid="stat-{name}">.*?stat-card__value">([^<]+)<', html, re.DOTALL
        )
        assert match, name
        return match.group(1).replace("&nbsp;", " ")

    assert stat("pending") == "1"
    assert stat("patients") == "2"
    assert stat("compliance") == "50.0 %"  # Ana scanned today, Leo never in 40 days
    assert stat("tagging") == "0.0 %"  # the reviewed check-in has no tag set
    queue = html.split('id="review-queue"')[1].split("</table>")[0]
    assert f"/monitoring/sessions/{current.id}" in queue
    assert f"/monitoring/sessions/{previous.id}" not in queue
    assert "Ana Silva" in queue
    feed = html.split('id="activity-feed"')[1].split("</ol>")[0]
    assert feed.count("sent progress photos") == 2
    overdue = html.split('id="overdue-patients"')[1].split("</ul>")[0]
    assert "Leo Late" in overdue and "Ana Silva" not in overdue
    assert "26 days overdue" in overdue  # 40 days since, every 14


def test_the_dashboard_needs_monitoring_read(
    client: TestClient, runtime: Runtime, clinic: Clinic
) -> None:
    billing = staff_headers(client, runtime, clinic, Role.BILLING)
    assert client.get("/monitoring", headers=billing).status_code == 403
    home = client.get("/", headers=billing)
    assert 'href="/monitoring"' not in home.text


# ---- Review screen -----------------------------------------------------------------------------


def test_the_review_screen_puts_each_photo_beside_the_previous_one(
    client: TestClient,
    patient: Patient,
    sessions: tuple[ScanSession, ScanSession],
    doctor_headers: dict[str, str],
) -> None:
    previous, current = sessions
    page = client.get(f"/monitoring/sessions/{current.id}", headers=doctor_headers)
    assert page.status_code == 200, page.text
    html = page.text
    rows = re.findall(r'<div class="compare__row" data-view="([^"]*)">', html)
    assert rows == ["IV07", "IV01", "IV18", "IV25", "IV27"]
    images = COMPARE_IMG.findall(html)
    assert len(images) == 10
    fetched = client.get(images[0].replace("&amp;", "&"))
    assert fetched.status_code == 200
    assert "data-zoom" in html and "js/review.js" in html
    assert f"previous check-in of {previous.created_at:%d %b %Y}" in html
    for field in ("overall_tracking", "oral_hygiene", "detail_tags", "notes"):
        assert f'name="{field}"' in html
    assert html.count('name="overall_tracking"') == 3
    assert html.count('name="detail_tags"') == 10
    assert "Get AI suggestion" in html and "Needs retake" in html
    assert "badge--ai" not in html  # nothing suggested yet


def test_a_suggestion_pre_fills_the_form_and_is_marked(
    client: TestClient,
    runtime: Runtime,
    sessions: tuple[ScanSession, ScanSession],
    doctor_headers: dict[str, str],
) -> None:
    _, current = sessions
    add_suggestion(runtime, current)
    html = client.get(f"/monitoring/sessions/{current.id}", headers=doctor_headers).text
    assert '<span class="badge badge--ai">AI suggestion</span>' in html
    assert "Attachment on 13 looks missing." in html
    assert checked(html, "overall_tracking") == ["2"]
    assert checked(html, "oral_hygiene") == ["1"]
    assert checked(html, "detail_tags") == ["ATTACHMENT_MISSING"]
    assert '<input type="hidden" name="ai_suggested" value="1">' in html
    assert html.count('title="AI suggestion">AI</span>') == 3  # one per suggested value


def test_a_provider_that_cannot_judge_says_why(
    client: TestClient,
    runtime: Runtime,
    sessions: tuple[ScanSession, ScanSession],
    doctor_headers: dict[str, str],
) -> None:
    _, current = sessions
    add_suggestion(
        runtime,
        current,
        overall_tracking=None,
        oral_hygiene=None,
        detail_tags=["POOR_PHOTO_QUALITY"],
        cannot_judge=True,
        cannot_judge_reason="Three photos are too blurred to read.",
    )
    html = client.get(f"/monitoring/sessions/{current.id}", headers=doctor_headers).text
    assert "Could not judge:</strong> Three photos are too blurred to read." in html
    assert checked(html, "overall_tracking") == [] and checked(html, "oral_hygiene") == []
    assert checked(html, "detail_tags") == ["POOR_PHOTO_QUALITY"]


def test_get_ai_suggestion_asks_the_local_provider(
    client: TestClient,
    runtime: Runtime,
    sessions: tuple[ScanSession, ScanSession],
    doctor_headers: dict[str, str],
) -> None:
    _, current = sessions
    answer = client.post(
        f"/monitoring/sessions/{current.id}/suggest", headers=doctor_headers, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(
        f"/monitoring/sessions/{current.id}?notice=suggested"
    )
    with runtime.session_factory() as session:
        stored = session.scalars(
            select(AiTagSuggestion).where(AiTagSuggestion.scan_session_id == current.id)
        ).one()
    assert stored.provider == "local"
    html = client.get(answer.headers["location"], headers=doctor_headers).text
    assert '<span class="badge badge--ai">AI suggestion</span>' in html
    assert "Check every value before you submit." in html
    if stored.cannot_judge:
        assert f"Could not judge:</strong> {stored.cannot_judge_reason}" in html
    hygiene = [str(stored.oral_hygiene)] if stored.oral_hygiene else []
    assert checked(html, "oral_hygiene") == hygiene


def test_submitting_the_review_records_the_tag_set(
    client: TestClient,
    runtime: Runtime,
    patient: Patient,
    sessions: tuple[ScanSession, ScanSession],
    doctor_headers: dict[str, str],
) -> None:
    _, current = sessions
    add_suggestion(runtime, current)
    answer = client.post(
        f"/monitoring/sessions/{current.id}/review",
        headers=doctor_headers,
        data={
            "overall_tracking": "1",
            "oral_hygiene": "1",
            "detail_tags": ["ATTACHMENT_MISSING", "PLAQUE"],
            "notes": "Keep going.",
            "ai_suggested": "1",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    with runtime.session_factory() as session:
        tag_set = session.scalars(select(TagSet).where(TagSet.scan_session_id == current.id)).one()
        scan = session.get(ScanSession, current.id)
        assert scan is not None
        assert scan.status is ScanSessionStatus.REVIEWED
    assert (tag_set.overall_tracking, tag_set.oral_hygiene) == (1, 1)
    assert tag_set.detail_tags == ["ATTACHMENT_MISSING", "PLAQUE"]
    assert tag_set.notes == "Keep going."
    assert tag_set.ai_suggested and tag_set.ai_overridden  # tracking 2 -> 1, PLAQUE added

    html = client.get(answer.headers["location"], headers=doctor_headers).text
    result = html.split('id="review-result"')[1].split("</dl>")[0]
    assert "On track (GO)" in result and "Plaque" in result and "changed by the reviewer" in result
    assert 'id="review-form"' not in html
    assert "The review was saved" in html

    again = client.post(
        f"/monitoring/sessions/{current.id}/review",
        headers=doctor_headers,
        data={"overall_tracking": "1", "oral_hygiene": "1"},
    )
    assert again.status_code == 409
    assert "already reviewed" in again.text


def test_an_incomplete_review_is_shown_again_with_what_was_chosen(
    client: TestClient, sessions: tuple[ScanSession, ScanSession], doctor_headers: dict[str, str]
) -> None:
    _, current = sessions
    answer = client.post(
        f"/monitoring/sessions/{current.id}/review",
        headers=doctor_headers,
        data={"oral_hygiene": "3", "detail_tags": ["PLAQUE"], "notes": "Brush more."},
    )
    assert answer.status_code == 422
    assert "Choose the overall tracking." in answer.text
    assert checked(answer.text, "oral_hygiene") == ["3"]
    assert checked(answer.text, "detail_tags") == ["PLAQUE"]
    assert "Brush more.</textarea>" in answer.text
    unknown = client.post(
        f"/monitoring/sessions/{current.id}/review",
        headers=doctor_headers,
        data={"overall_tracking": "2", "oral_hygiene": "2", "detail_tags": ["BROKEN_TOOTH"]},
    )
    assert unknown.status_code == 422
    assert "Unknown detail tag" in unknown.text


def test_needs_retake_marks_the_session(
    client: TestClient,
    runtime: Runtime,
    sessions: tuple[ScanSession, ScanSession],
    doctor_headers: dict[str, str],
) -> None:
    _, current = sessions
    answer = client.post(f"/monitoring/sessions/{current.id}/retake", headers=doctor_headers)
    assert answer.status_code == 200
    assert "The patient was asked to retake their photos." in answer.text
    with runtime.session_factory() as session:
        scan = session.get(ScanSession, current.id)
        assert scan is not None and scan.status is ScanSessionStatus.NEEDS_RETAKE


def test_read_only_staff_see_the_session_but_cannot_act(
    client: TestClient,
    runtime: Runtime,
    clinic: Clinic,
    sessions: tuple[ScanSession, ScanSession],
) -> None:
    _, current = sessions
    reader = staff_headers(client, runtime, clinic, Role.READ_ONLY)
    html = client.get(f"/monitoring/sessions/{current.id}", headers=reader).text
    assert len(COMPARE_IMG.findall(html)) == 10
    assert 'id="review-form"' not in html and "Get AI suggestion" not in html
    refused = client.post(
        f"/monitoring/sessions/{current.id}/review",
        headers=reader,
        data={"overall_tracking": "1", "oral_hygiene": "1"},
    )
    assert refused.status_code == 403


def test_another_clinics_session_is_not_found(
    client: TestClient, runtime: Runtime, sessions: tuple[ScanSession, ScanSession]
) -> None:
    _, current = sessions
    stranger = staff_headers(client, runtime, create_clinic(runtime, "Elsewhere"), Role.DOCTOR)
    assert client.get(f"/monitoring/sessions/{current.id}", headers=stranger).status_code == 404
    for action in ("suggest", "retake", "review"):
        answer = client.post(
            f"/monitoring/sessions/{current.id}/{action}",
            headers=stranger,
            data={"overall_tracking": "1", "oral_hygiene": "1"},
        )
        assert answer.status_code == 404, action
    with runtime.session_factory() as session:
        scan = session.get(ScanSession, current.id)
        assert scan is not None and scan.status is ScanSessionStatus.PENDING
    assert client.get(f"/monitoring/sessions/{uuid.uuid4()}", headers=stranger).status_code == 404


# ---- Messaging ---------------------------------------------------------------------------------


def test_staff_and_patient_write_to_each_other(
    client: TestClient, runtime: Runtime, patient: Patient, doctor_headers: dict[str, str]
) -> None:
    form = client.get(f"/messages/new?patient={patient.id}", headers=doctor_headers)
    assert form.status_code == 200
    assert f'name="patient_id" value="{patient.id}"' in form.text
    untitled = client.post(
        "/messages/new",
        headers=doctor_headers,
        data={"patient_id": str(patient.id), "subject": " ", "content": "Hello"},
    )
    assert untitled.status_code == 422 and "Give the conversation a subject." in untitled.text
    started = client.post(
        "/messages/new",
        headers=doctor_headers,
        data={
            "patient_id": str(patient.id),
            "subject": "Your aligners",
            "content": "Please wear them 22 hours a day.",
        },
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    thread_id = started.headers["location"].split("/messages/")[1].split("?")[0]

    me = patient_token(runtime, patient)
    home = client.get("/portal", headers=me).text
    assert 'data-testid="unread-total" aria-label="1 unread">1<' in home
    inbox = client.get("/portal/messages", headers=me).text
    assert "Your aligners" in inbox and 'aria-label="1 unread"' in inbox
    thread = client.get(f"/portal/messages/{thread_id}", headers=me)
    assert thread.status_code == 200
    assert "Please wear them 22 hours a day." in thread.text
    assert "badge--new" in thread.text  # new when opened ...
    assert "badge--new" not in client.get(f"/portal/messages/{thread_id}", headers=me).text
    assert 'aria-label="1 unread"' not in client.get("/portal/messages", headers=me).text

    empty = client.post(f"/portal/messages/{thread_id}", headers=me, data={"content": "  "})
    assert empty.status_code == 422 and "Write a message first." in empty.text
    replied = client.post(
        f"/portal/messages/{thread_id}",
        headers=me,
        data={"content": "Will do!"},
        follow_redirects=False,
    )
    assert replied.status_code == 303

    staff_inbox = client.get("/messages", headers=doctor_headers).text
    assert 'aria-label="1 unread"' in staff_inbox and "Ana Silva" in staff_inbox
    staff_thread = client.get(f"/messages/{thread_id}", headers=doctor_headers).text
    assert "Will do!" in staff_thread
    with runtime.session_factory() as session:
        reply = session.scalars(
            select(Message).where(Message.sender_type == SenderType.PATIENT)
        ).one()
        assert reply.read_at is not None  # opening the thread read it
    assert 'aria-label="1 unread"' not in client.get("/messages", headers=doctor_headers).text


def test_a_patient_cannot_open_another_patients_thread(
    client: TestClient,
    runtime: Runtime,
    clinic: Clinic,
    patient: Patient,
    doctor_headers: dict[str, str],
) -> None:
    started = client.post(
        "/messages/new",
        headers=doctor_headers,
        data={"patient_id": str(patient.id), "subject": "Private", "content": "Only for Ana."},
        follow_redirects=False,
    )
    thread_id = started.headers["location"].split("/messages/")[1].split("?")[0]
    other = patient_token(runtime, create_patient(runtime, clinic, first_name="Ben"))
    page = client.get(f"/portal/messages/{thread_id}", headers=other)
    assert page.status_code == 404
    assert "Only for Ana." not in page.text
    posted = client.post(f"/portal/messages/{thread_id}", headers=other, data={"content": "Hi"})
    assert posted.status_code == 404
    assert "Private" not in client.get("/portal/messages", headers=other).text
    stranger = staff_headers(client, runtime, create_clinic(runtime, "Elsewhere"), Role.DOCTOR)
    assert client.get(f"/messages/{thread_id}", headers=stranger).status_code == 404
    assert "Private" not in client.get("/messages", headers=stranger).text
    refused = client.post(
        "/messages/new",
        headers=stranger,
        data={"patient_id": str(patient.id), "subject": "Hi", "content": "Hello"},
    )
    assert refused.status_code == 404


# ---- Portal home, service worker, /home --------------------------------------------------------


def test_the_portal_home_shows_due_date_review_and_notifications(
    client: TestClient,
    runtime: Runtime,
    patient: Patient,
    sessions: tuple[ScanSession, ScanSession],
    doctor_headers: dict[str, str],
) -> None:
    _, current = sessions
    me = patient_token(runtime, patient)
    html = client.get("/portal", headers=me).text
    due = utcnow() + timedelta(days=14)
    assert f"Due {due:%d %b %Y}" in html
    assert 'data-testid="awaiting-review">Awaiting review' in html
    assert "data-push-enable" in html
    assert f'data-vapid-key="{runtime.vapid.public_key_b64url}"' in html
    assert "portal/push.js" in html and "portal/register-sw.js" in html
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html

    client.post(
        f"/monitoring/sessions/{current.id}/review",
        headers=doctor_headers,
        data={"overall_tracking": "2", "oral_hygiene": "3"},
    )
    html = client.get("/portal", headers=me).text
    result = html.split('data-testid="review-result"')[1].split("</dl>")[0]
    # Plain words for the patient, not the clinician's labels ("Minor issue (monitor)", "Poor").
    assert "Mostly on track, with a small thing" in result and "Needs care" in result
    assert "Minor issue (monitor)" not in result
    assert "Awaiting review" not in html


def test_a_patient_who_never_sent_photos_counts_from_onboarding(
    client: TestClient, runtime: Runtime, clinic: Clinic
) -> None:
    patient = create_patient(runtime, clinic, first_name="Nia")
    with transaction(runtime.session_factory) as session:
        row = session.get(Patient, patient.id)
        assert row is not None
        row.onboarded_at = utcnow() - timedelta(days=20)
    html = client.get("/portal", headers=patient_token(runtime, patient)).text
    assert "Overdue since" in html and "No photos sent yet" in html
    assert "No review yet." in html


def test_the_service_worker_is_served_from_the_root(client: TestClient) -> None:
    answer = client.get("/sw.js")
    assert answer.status_code == 200
    assert answer.headers["service-worker-allowed"] == "/"
    assert answer.headers["cache-control"] == "no-cache"
    assert "javascript" in answer.headers["content-type"]
    assert 'addEventListener("notificationclick"' in answer.text


def test_home_leads_to_the_portal_home(client: TestClient) -> None:
    answer = client.get("/home", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/portal"


def test_staff_nav_lists_monitoring_and_messages(
    client: TestClient, runtime: Runtime, clinic: Clinic
) -> None:
    front_desk = staff_headers(client, runtime, clinic, Role.FRONT_DESK)
    html = client.get("/", headers=front_desk).text
    assert 'href="/monitoring"' in html and 'href="/messages"' in html
    assert client.get("/messages", headers=front_desk).status_code == 200
    billing = staff_headers(client, runtime, clinic, Role.BILLING)
    assert client.get("/messages", headers=billing).status_code == 403
    assert 'href="/messages"' not in client.get("/", headers=billing).text
