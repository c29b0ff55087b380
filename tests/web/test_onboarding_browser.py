"""Patient onboarding in headless Chromium against a live server: a doctor signs in, adds a patient,
records their photography consent and makes a portal invitation; the patient opens the link on
their phone (a separate browser context), registers and lands on the portal home."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ortholens.models import User
from tests.factories import PASSWORD
from tests.web.conftest import PHONE, WatchedPage, sign_in_through_form

pytestmark = pytest.mark.browser

PATIENT_EMAIL = "ana.silva@example.com"
PATIENT_PASSWORD = "brushing twice a day"


def test_invite_register_and_open_the_portal(
    page: WatchedPage,
    phone: WatchedPage,
    live_server: str,
    live_doctor: User,
    screenshot_dir: Path,
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)

    # The doctor signs in (through the sign-in page a stranger is sent to) ...
    page.goto(f"{live_server}/patients")
    assert re.search(r"/login\?next=/patients$", page.url)
    page.get_by_label("E-mail").fill(live_doctor.email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url == f"{live_server}/patients"
    # At 1280 px the bar shows the avatar, whose tooltip names who is signed in.
    assert page.get_by_role("banner").get_by_title("Dr. Jonas Weber · Doctor").is_visible()

    # ... adds a patient ...
    page.get_by_role("link", name="New patient").first.click()
    page.get_by_label("First name").fill("Ana")
    page.get_by_label("Last name").fill("Silva")
    page.get_by_label("Date of birth").fill("1994-03-04")
    page.get_by_label("Doctor").select_option(label="Dr. Jonas Weber")
    page.get_by_role("button", name="Save patient").click()
    page.get_by_role("heading", name="Ana Silva").wait_for()
    assert page.get_by_text("The patient was added.").is_visible()

    # ... records her photography consent ...
    consent_form = page.locator("form.consent-form")
    consent_form.get_by_label("Kind").select_option("PHOTOGRAPHY")
    consent_form.get_by_label("The patient").check()
    consent_form.get_by_role("button", name="Record consent").click()
    page.get_by_text("The consent was recorded.").wait_for()
    consent = page.locator(".consent").first
    assert consent.locator(".consent__kind").inner_text() == "Photography"
    assert consent.locator(".badge").inner_text() == "Active"

    # ... and makes the portal invitation (htmx swaps the link in).
    page.get_by_role("button", name="Invite to the portal").click()
    link_field = page.get_by_test_id("invite-url")
    link_field.wait_for()
    invite_url = link_field.input_value()
    assert re.fullmatch(rf"{re.escape(live_server)}/register/[0-9a-f]{{64}}", invite_url)
    assert page.locator("#invite-result time").is_visible()  # its expiry
    page.get_by_role("button", name="Copy link").click()
    page.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == invite_url
    page.evaluate("window.scrollTo(0, 0)")  # the sticky bar belongs at the top of the shot
    page.screenshot(path=screenshot_dir / "staff-patient-invited.png", full_page=True)
    assert page.csp_violations() == []
    assert page.problems == []

    # The patient opens the link on their phone and registers.
    phone.goto(invite_url)
    assert phone.get_by_role("heading", name="Hello, Ana").is_visible()
    assert "Silva" not in phone.content()  # the first name only
    phone.screenshot(path=screenshot_dir / "phone-register.png", full_page=True)
    phone.get_by_label("E-mail").fill(PATIENT_EMAIL)
    phone.get_by_label("Password", exact=True).fill(PATIENT_PASSWORD)
    phone.get_by_label("Repeat the password").fill(PATIENT_PASSWORD)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Create my account").click()

    assert phone.url == f"{live_server}/portal"
    assert phone.get_by_role("heading", name="Welcome, Ana").is_visible()
    assert phone.get_by_text(PATIENT_EMAIL).is_visible()
    consents = phone.locator(".consent")
    assert consents.count() == 1
    assert consents.first.locator(".consent__kind").inner_text() == "Photography"
    assert phone.get_by_role("button", name="Sign out").is_visible()
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=screenshot_dir / "phone-portal-home.png", full_page=True)
    assert phone.csp_violations() == []
    assert phone.problems == []

    # The doctor's record now shows the portal account.
    page.reload()
    assert page.locator("#portal").get_by_text(PATIENT_EMAIL).is_visible()


def test_signed_in_staff_pages_load_cleanly(
    admin_page: WatchedPage, live_server: str, screenshot_dir: Path
) -> None:
    """Each staff page renders under the CSP with its scripts, and nothing fails to load."""
    for path, heading in [
        ("/patients", "Patients"),
        ("/patients/new", "New patient"),
        ("/staff", "Staff"),
        ("/audit", "Audit trail"),
        ("/account", "Your account"),
    ]:
        admin_page.goto(f"{live_server}{path}", wait_until="networkidle")
        assert admin_page.get_by_role("heading", name=heading, exact=True).is_visible()
        name = path.strip("/").replace("/", "-")
        admin_page.screenshot(path=screenshot_dir / f"staff-{name}.png", full_page=True)
    assert admin_page.csp_violations() == []
    assert admin_page.problems == []


def test_sign_in_page_then_sign_out(
    page: WatchedPage, live_server: str, clinic_admin: Any, screenshot_dir: Path
) -> None:
    page.goto(f"{live_server}/login")
    page.screenshot(path=screenshot_dir / "login.png", full_page=True)
    sign_in_through_form(page, live_server, clinic_admin.email, PASSWORD)
    assert page.url == f"{live_server}/"
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert page.url == f"{live_server}/signed-out"
    assert page.get_by_text("You have signed out.").is_visible()
    page.goto(f"{live_server}/patients")
    assert "/login?next=/patients" in page.url
    assert page.problems == []
