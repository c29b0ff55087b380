"""Issue 6's whole remote-monitoring loop in headless Chromium against a live server.

The doctor records a patient's photography consent and invites her; on her phone (a separate,
phone-sized context) she registers from the invitation and sends five photos through the Scan
Wizard; the photos are processed; the doctor opens the dashboard and the pending check-in, zooms a
photo, asks the (offline, `local`) AI provider for a suggestion, changes a value and submits the
review, then writes to her; she reloads her home, sees the review result and the unread message,
and opens the conversation. No console error, failed request or CSP violation on either side.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from ortholens.models import Clinic, Patient, ScanSession, ScanSessionStatus, TagSet, User
from ortholens.review.vocabulary import OralHygiene, OverallTracking
from ortholens.runtime import Runtime
from ortholens.web.portal import PATIENT_HYGIENE, PATIENT_TRACKING
from tests.factories import PASSWORD, create_patient
from tests.fixtures.jobs import run_jobs
from tests.fixtures.photos import jpeg
from tests.web.conftest import (
    PHONE,
    WatchedPage,
    sign_in_through_form,
    wait_for_js,
)

pytestmark = pytest.mark.browser

PATIENT_EMAIL = "ana.silva@example.com"
PATIENT_PASSWORD = "brushing twice a day"
VIEWS = ["FRONTAL", "RIGHT", "LEFT", "UPPER", "LOWER"]
MESSAGE = "Great progress, Ana. Keep wearing the aligners 22 hours a day."


def clean(page: WatchedPage) -> None:
    assert page.csp_violations() == []
    assert page.problems == []


def invite(page: WatchedPage, base: str, patient: Patient) -> str:
    """Record the photography consent and make the portal invitation on the patient's page."""
    page.goto(f"{base}/patients/{patient.id}")
    consent_form = page.locator("form.consent-form")
    consent_form.get_by_label("Kind").select_option("PHOTOGRAPHY")
    consent_form.get_by_label("The patient").check()
    consent_form.get_by_role("button", name="Record consent").click()
    page.get_by_text("The consent was recorded.").wait_for()
    page.get_by_role("button", name="Invite to the portal").click()
    link_field = page.get_by_test_id("invite-url")
    link_field.wait_for()
    return str(link_field.input_value())


def register_and_send_photos(phone: WatchedPage, base: str, invite_url: str, shots: Path) -> None:
    """Register from the invitation on the phone, then send the five photos with the wizard."""
    phone.goto(invite_url)
    phone.get_by_label("E-mail").fill(PATIENT_EMAIL)
    phone.get_by_label("Password", exact=True).fill(PATIENT_PASSWORD)
    phone.get_by_label("Repeat the password").fill(PATIENT_PASSWORD)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Create my account").click()
    assert phone.url == f"{base}/portal"
    assert phone.get_by_text("No review yet.").is_visible()
    assert phone.get_by_test_id("next-scan-due").is_visible()
    # The installable portal registers its service worker for the whole site.
    scope = phone.evaluate(
        "navigator.serviceWorker.ready.then((registration) => registration.scope)"
    )
    assert scope == f"{base}/"
    assert phone.get_by_role("button", name="Enable notifications").is_visible()
    phone.screenshot(path=shots / "phone-home-new.png", full_page=True)

    phone.get_by_role("link", name="Send progress photos").click()
    phone.wait_for_url(f"{base}/portal/scan")
    phone.get_by_text("Ready", exact=True).wait_for()
    for index, view in enumerate(VIEWS):
        phone.locator(f'input[type="file"][data-file="{view}"]').set_input_files(
            {
                "name": f"{view.lower()}.jpg",
                "mimeType": "image/jpeg",
                "buffer": jpeg(index, (1280, 960)),
            }
        )
        if index < len(VIEWS) - 1:
            phone.get_by_role("button", name="Next").click()
    phone.get_by_text("5/5 uploaded").wait_for()
    phone.get_by_role("button", name="Send photos").click()
    phone.get_by_role("heading", name="Thank you, Ana!").wait_for()
    clean(phone)


def test_photos_review_message_and_back_to_the_patient(
    page: WatchedPage,
    phone: WatchedPage,
    live_server: str,
    live_runtime: Runtime,
    live_doctor: User,
    screenshot_dir: Path,
) -> None:
    with live_runtime.session_factory() as session:
        clinic = session.get(Clinic, live_doctor.clinic_id)
        assert clinic is not None
    patient = create_patient(
        live_runtime, clinic, first_name="Ana", last_name="Silva", date_of_birth=date(1994, 3, 4)
    )

    # The doctor records the consent and invites Ana; she registers and sends her photos.
    sign_in_through_form(page, live_server, live_doctor.email, PASSWORD)
    invite_url = invite(page, live_server, patient)
    register_and_send_photos(phone, live_server, invite_url, screenshot_dir)
    run_jobs(live_runtime)  # the live server runs no worker: process the photos here
    with live_runtime.session_factory() as session:
        scan = session.scalars(
            select(ScanSession).where(ScanSession.patient_id == patient.id)
        ).one()
    assert scan.image_count == 5

    # The dashboard shows the check-in at the front of the queue.
    page.get_by_role("link", name="Monitoring").click()
    page.wait_for_url(f"{live_server}/monitoring")
    assert page.get_by_test_id("stat-pending").locator(".stat-card__value").inner_text() == "1"
    assert page.locator("#activity-feed").get_by_text("sent progress photos").is_visible()
    page.screenshot(path=screenshot_dir / "dashboard.png", full_page=True)
    page.locator("#review-queue").get_by_role("link", name="Ana Silva").click()
    page.wait_for_url(f"{live_server}/monitoring/sessions/{scan.id}")
    wait_for_js(
        page,
        "Array.from(document.querySelectorAll('img.compare__img'))"
        ".every((img) => img.complete && img.naturalWidth > 0)",
    )
    assert page.locator("img.compare__img").count() == 5  # her first check-in: nothing before

    # Zoom: the photo opens large in a dialog, twice the size on "Zoom in".
    page.locator("a[data-zoom]").first.click()
    dialog = page.locator("dialog#zoom")
    dialog.wait_for()
    wait_for_js(
        page,
        "(() => { const img = document.querySelector('[data-zoom-img]');"
        " return img.complete && img.naturalWidth > 0; })()",
    )
    dialog.get_by_role("button", name="Zoom in").click()
    assert dialog.get_by_role("button", name="Zoom out").get_attribute("aria-pressed") == "true"
    page.screenshot(path=screenshot_dir / "review-zoom.png")
    dialog.get_by_role("button", name="Close").click()
    assert not dialog.is_visible()

    # The AI suggestion fills in the form, marked as such.
    with page.expect_navigation():
        page.get_by_role("button", name="Get AI suggestion").click()
    note = page.locator("#ai-suggestion")
    assert note.get_by_text("AI suggestion", exact=True).is_visible()
    assert page.get_by_text("Check every value before you submit.").is_visible()
    page.screenshot(path=screenshot_dir / "review-suggested.png", full_page=True)
    form = page.locator("#review-form")
    suggested = form.locator('input[name="oral_hygiene"]:checked')
    picked = suggested.get_attribute("value") if suggested.count() else None
    hygiene = OralHygiene.FAIR if picked != str(OralHygiene.FAIR.value) else OralHygiene.GOOD
    # The doctor decides: on track, and a different hygiene score from the AI's.
    form.get_by_label("1 · On track (GO)").check()
    form.get_by_label(f"{hygiene.value} · {hygiene.label}").check()
    form.get_by_label("Notes").fill("Nice and even.")
    with page.expect_navigation():
        form.get_by_role("button", name="Submit review").click()
    result = page.locator("#review-result")
    assert result.get_by_text("On track (GO)").is_visible()
    assert result.get_by_text("changed by the reviewer").is_visible()
    assert page.get_by_test_id("session-status").inner_text() == "Reviewed"
    page.screenshot(path=screenshot_dir / "review-submitted.png", full_page=True)
    with live_runtime.session_factory() as session:
        tag_set = session.scalars(select(TagSet).where(TagSet.scan_session_id == scan.id)).one()
        status = session.get(ScanSession, scan.id).status  # type: ignore[union-attr]
    assert (tag_set.overall_tracking, tag_set.oral_hygiene) == (1, hygiene.value)
    assert tag_set.ai_suggested and tag_set.ai_overridden
    assert status is ScanSessionStatus.REVIEWED

    # The doctor writes to Ana from the review screen.
    page.get_by_label("Message", exact=True).fill(MESSAGE)
    with page.expect_navigation():
        page.get_by_role("button", name="Send message").click()
    assert re.fullmatch(
        rf"{re.escape(live_server)}/messages/[0-9a-f-]{{36}}\?notice=created", page.url
    )
    thread_path = (
        page.url.removeprefix(live_server).split("?")[0].replace("/messages/", "/portal/messages/")
    )
    assert page.get_by_text(MESSAGE).is_visible()
    page.screenshot(path=screenshot_dir / "staff-thread.png", full_page=True)
    clean(page)

    # Later Ana opens the portal again (a new tab of the same phone: Chromium reports the wizard's
    # finished photo PUTs as aborted once their page navigates away, which the wizard's own page
    # checks above have already covered).
    phone = WatchedPage(phone.context.new_page())
    phone.page.set_default_timeout(15_000)
    phone.goto(f"{live_server}/home")
    assert phone.url == f"{live_server}/portal"
    review = phone.get_by_test_id("review-result")
    # In the patient's words, not the clinician's ("On track (GO)").
    assert review.get_by_text(PATIENT_TRACKING[OverallTracking.ON_TRACK]).is_visible()
    assert review.get_by_text(PATIENT_HYGIENE[hygiene], exact=True).is_visible()
    assert "(GO)" not in review.inner_text()
    assert phone.get_by_test_id("unread-total").inner_text() == "1"
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=screenshot_dir / "phone-home-reviewed.png", full_page=True)
    phone.locator("#home-messages").get_by_role("link", name=re.compile("Your check-in")).click()
    phone.wait_for_url(f"{live_server}{thread_path}")
    assert phone.get_by_text(MESSAGE).is_visible()
    assert phone.get_by_text("Dr. Jonas Weber").is_visible()
    phone.screenshot(path=screenshot_dir / "phone-thread.png", full_page=True)
    phone.get_by_label("Your reply").fill("Thank you!")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Send").click()
    assert phone.get_by_text("Your message was sent.").is_visible()
    phone.goto(f"{live_server}/portal")
    assert phone.get_by_test_id("unread-total").count() == 0
    clean(phone)
