"""The Scan Wizard on a 390x844 phone, after each photo is uploaded: the server's quality verdict
and retake advice reach the step as soon as the photo is processed (a dark, blurred photo is not
left at a green "Uploaded"), a check-in left half done stays out of the doctor's queue and is
resumed, and "Send photos" is what puts it in the queue."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image as PILImage
from PIL import ImageFilter
from sqlalchemy import select

from ortholens.kit.db import transaction, utcnow
from ortholens.kit.passwords import hash_password
from ortholens.models import Patient, ScanSession, ScanSessionStatus
from ortholens.review import repository as review_repository
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_consent, create_patient
from tests.fixtures.jobs import run_jobs
from tests.fixtures.photos import jpeg
from tests.web.conftest import WatchedPage, wait_for_js

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "mia.lopez@example.com", "smile for the camera"
VIEWS = ["FRONTAL", "RIGHT", "LEFT", "UPPER", "LOWER"]


def dark_blurred_photo() -> bytes:
    """A photo taken in a dim room with a shaking hand: blurred and at a third of its light."""
    image = PILImage.open(io.BytesIO(jpeg(7, (1280, 960)))).convert("RGB")
    image = image.filter(ImageFilter.GaussianBlur(8)).point(lambda value: value // 3)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def portal_patient(runtime: Runtime) -> Patient:
    patient = create_patient(
        runtime, create_clinic(runtime, "Bright Smiles"), first_name="Mia", last_name="Lopez"
    )
    with transaction(runtime.session_factory) as session:
        row = session.get(Patient, patient.id)
        assert row is not None
        row.portal_email, row.portal_password_hash = EMAIL, hash_password(PASSWORD)
        row.onboarded_at = utcnow()
    create_consent(runtime, patient)
    return patient


def sign_in(phone: WatchedPage, base_url: str) -> None:
    phone.goto(f"{base_url}/portal/login?next=/portal/scan")
    phone.get_by_label("E-mail").fill(EMAIL)
    phone.get_by_label("Password").fill(PASSWORD)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Sign in").click()


def take(phone: WatchedPage, view: str, data: bytes) -> None:
    phone.locator(f'input[type="file"][data-file="{view}"]').set_input_files(
        {"name": f"{view.lower()}.jpg", "mimeType": "image/jpeg", "buffer": data}
    )


def status_of(phone: WatchedPage, index: int) -> tuple[str, str]:
    status = phone.locator(f'[data-step="{index}"] [data-status]')
    return str(status.get_attribute("data-state")), status.inner_text()


def in_queue(runtime: Runtime, patient: Patient) -> list[ScanSession]:
    with runtime.session_factory() as session:
        rows = review_repository.list_sessions(
            session,
            patient.clinic_id,
            status=ScanSessionStatus.PENDING,
            patient_id=patient.id,
            after=None,
            limit=10,
        )
        return [scan for scan, _ in rows]


def test_quality_feedback_resume_and_send(
    phone: WatchedPage, live_server: str, live_runtime: Runtime, screenshot_dir: Path
) -> None:
    patient = portal_patient(live_runtime)
    sign_in(phone, live_server)
    phone.get_by_text("Ready", exact=True).wait_for()

    take(phone, "FRONTAL", jpeg(1, (1280, 960)))
    phone.get_by_role("button", name="Next").click()
    take(phone, "RIGHT", dark_blurred_photo())
    phone.get_by_text("2/5 uploaded").wait_for()
    assert status_of(phone, 1)[0] == "checking"  # uploaded, not yet judged: no green tick yet

    # The worker processes the photos; the phone is told without a reload.
    run_jobs(live_runtime)
    wait_for_js(
        phone,
        "document.querySelector('[data-step=\"1\"] [data-status]').dataset.state === 'retake'",
    )
    state, text = status_of(phone, 1)
    assert state == "retake"
    assert "Please retake" in text and "blurred" in text and "more light" in text
    assert phone.get_by_role("button", name="Retake photo").is_visible()  # the step's main action
    phone.screenshot(path=str(screenshot_dir / "wizard-retake-advice.png"), full_page=True)
    phone.get_by_role("button", name="Back").click()
    wait_for_js(
        phone, "document.querySelector('[data-step=\"0\"] [data-status]').dataset.state === 'good'"
    )
    assert "looks good" in status_of(phone, 0)[1]

    # The patient leaves half way: the check-in is not the doctor's work yet.
    assert in_queue(live_runtime, patient) == []
    phone.goto(f"{live_server}/portal")
    phone.get_by_text("Finish and send your photos").wait_for()
    phone.screenshot(path=str(screenshot_dir / "portal-unsent.png"), full_page=True)

    # Back in the wizard, the two photos are there; the rest are taken and the check-in is sent.
    phone.goto(f"{live_server}/portal/scan")
    phone.get_by_text("Continuing where you left off").wait_for()
    phone.get_by_text("2/5 uploaded").wait_for()
    for index, view in enumerate(VIEWS):
        if index >= 2:
            phone.locator(f'[data-goto="{index}"]').click()
            take(phone, view, jpeg(10 + index, (1280, 960)))
    phone.get_by_text("5/5 uploaded").wait_for()
    run_jobs(live_runtime)
    wait_for_js(
        phone,
        "Array.from(document.querySelectorAll('[data-status]'))"
        ".every((s) => ['good', 'retake'].includes(s.dataset.state))",
    )
    assert "may be hard to read" in phone.locator("[data-send-hint]").inner_text()
    phone.screenshot(path=str(screenshot_dir / "wizard-ready-to-send.png"), full_page=True)
    phone.get_by_role("button", name="Send photos").click()
    phone.get_by_role("heading", name="Thank you, Mia!").wait_for()

    queued = in_queue(live_runtime, patient)
    assert len(queued) == 1 and queued[0].image_count == 5
    assert queued[0].submitted_at is not None
    with live_runtime.session_factory() as session:
        sessions = session.scalars(select(ScanSession).where(ScanSession.patient_id == patient.id))
        assert len(list(sessions)) == 1  # resumed, not a second check-in
    assert phone.problems == []
    assert phone.csp_violations() == []
