"""Sign-in, access control, patients, invitations, staff, audit and account pages, through the app.

Pages use the same cookies as a browser: `client` talks https to the app, so the Secure cookies
come back. Redirects are checked with `follow_redirects=False`.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ortholens.auth import mfa
from ortholens.auth.deps import ACCESS_COOKIE, CSRF_COOKIE
from ortholens.kit.db import transaction, utcnow
from ortholens.models import AuditEvent, Clinic, Consent, Patient, Role, User
from ortholens.runtime import Runtime
from tests.factories import PASSWORD, create_clinic, create_patient, create_user
from tests.fixtures.pages import csrf, get, login, post_form, signed_in

PATIENT_PASSWORD = "brushing twice a day"
STAFF_PAGES = ["/", "/system", "/patients", "/patients/new", "/staff", "/audit", "/account"]


# ---- Helpers -------------------------------------------------------------------------------------


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


def count(runtime: Runtime, model: type[object]) -> int:
    with runtime.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


def enable_mfa(runtime: Runtime, user: User) -> str:
    secret = mfa.new_secret()
    with transaction(runtime.session_factory) as session:
        row = session.get(User, user.id)
        assert row is not None
        row.mfa_secret = mfa.seal_secret(runtime.secrets.storage_encryption_key, user.id, secret)
        row.mfa_enabled_at = utcnow()
    return secret


def require_mfa(runtime: Runtime, clinic: Clinic) -> None:
    with transaction(runtime.session_factory) as session:
        row = session.get(Clinic, clinic.id)
        assert row is not None
        row.settings = {**row.settings, "require_mfa": True}


@pytest.fixture
def admin(runtime: Runtime, clinic: Clinic) -> User:
    return create_user(runtime, clinic, Role.CLINIC_ADMIN)


# ---- Access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*STAFF_PAGES, f"/patients/{uuid.UUID(int=7)}"])
def test_staff_pages_send_strangers_to_sign_in(client: TestClient, path: str) -> None:
    response = get(client, path)
    assert response.status_code == 303
    expected = "/login" if path == "/" else f"/login?next={quote(path, safe='/')}"
    assert response.headers["location"] == expected


def test_portal_home_sends_strangers_to_portal_sign_in(client: TestClient) -> None:
    response = get(client, "/portal")
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/login?next=/portal"


def test_htmx_request_without_session_redirects_the_whole_page(client: TestClient) -> None:
    response = get(
        client,
        "/patients?cursor=x",
        **{"HX-Request": "true", "HX-Current-URL": "https://testserver/patients?q=an"},
    )
    assert response.headers["hx-redirect"] == "/login?next=/patients%3Fq%3Dan"


def test_public_pages_need_no_sign_in(client: TestClient) -> None:
    for path in ["/login", "/portal/login", "/portal/help", "/welcome/not-a-token"]:
        response = get(client, path)
        assert response.status_code in (200, 410), path
        assert response.headers["content-type"].startswith("text/html")


def test_doctor_gets_a_403_page_for_staff_and_audit(client: TestClient, doctor: User) -> None:
    signed_in(client, doctor)
    for path in ["/staff", "/audit"]:
        response = get(client, path)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
        assert "have access to this page" in response.text


def test_refused_page_is_audited(client: TestClient, runtime: Runtime, doctor: User) -> None:
    signed_in(client, doctor)
    get(client, "/audit")
    with runtime.session_factory() as session:
        denied = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "access.denied")
        ).all()
    assert [event.details["permission"] for event in denied] == ["audit:read"]


def test_nav_shows_admin_links_only_to_admins(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User, admin: User
) -> None:
    html = get(signed_in(client, doctor), "/").text
    assert 'href="/patients"' in html
    assert 'href="/staff"' not in html
    assert 'href="/audit"' not in html
    client.cookies.clear()
    html = get(signed_in(client, admin), "/").text
    assert 'class="topnav__link" href="/staff"' in html
    assert 'class="topnav__link" href="/audit"' in html


def test_unknown_patient_is_an_html_404(client: TestClient, doctor: User) -> None:
    response = get(signed_in(client, doctor), f"/patients/{uuid.uuid4()}")
    assert response.status_code == 404
    assert "find that" in response.text
    assert get(client, "/patients/not-a-uuid").status_code == 404


# ---- Sign-in -------------------------------------------------------------------------------------


def test_sign_in_sets_cookies_and_goes_to_next(client: TestClient, doctor: User) -> None:
    response = login(client, doctor, next_path="/patients?q=an")
    assert response.status_code == 303
    assert response.headers["location"] == "/patients?q=an"
    set_cookie = response.headers.get_list("set-cookie")
    assert any(c.startswith(f"{ACCESS_COOKIE}=") and "HttpOnly" in c for c in set_cookie)
    assert any(c.startswith("ol_refresh=") and "Path=/api/auth" in c for c in set_cookie)
    assert get(client, "/patients").status_code == 200


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
    ],
)
def test_next_only_leads_to_local_pages(client: TestClient, doctor: User, next_path: str) -> None:
    response = login(client, doctor, next_path=next_path)
    assert response.headers["location"] == "/"


def test_login_form_keeps_next(client: TestClient) -> None:
    html = get(client, "/login?next=/audit").text
    assert hidden(html, "next") == "/audit"
    assert hidden(get(client, "/login?next=//evil.example").text, "next") == ""


def test_wrong_password_shows_the_error(client: TestClient, doctor: User) -> None:
    response = post_form(client, "/login", {"email": doctor.email, "password": "not it at all"})
    assert response.status_code == 401
    assert "The e-mail or password is not right." in response.text
    assert ACCESS_COOKIE not in client.cookies
    assert f'value="{doctor.email}"' in response.text  # kept, so only the password is retyped


def test_throttled_sign_in_says_to_wait(client: TestClient, doctor: User) -> None:
    for _ in range(5):
        post_form(client, "/login", {"email": doctor.email, "password": "not it at all"})
    response = login(client, doctor)
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.text
    assert int(response.headers["retry-after"]) > 0


def test_two_step_sign_in_with_totp(client: TestClient, runtime: Runtime, doctor: User) -> None:
    secret = enable_mfa(runtime, doctor)
    first = login(client, doctor, next_path="/patients")
    assert first.status_code == 200
    assert "authenticator app" in first.text
    assert PASSWORD not in first.text  # the password is sealed, never echoed
    challenge = hidden(first.text, "challenge")
    assert ACCESS_COOKIE not in client.cookies
    second = post_form(
        client,
        "/login",
        {"challenge": challenge, "code": pyotp.TOTP(secret).now(), "next": "/patients"},
    )
    assert second.status_code == 303
    assert second.headers["location"] == "/patients"
    assert get(client, "/patients").status_code == 200


def test_wrong_totp_code_asks_again(client: TestClient, runtime: Runtime, doctor: User) -> None:
    secret = enable_mfa(runtime, doctor)
    challenge = hidden(login(client, doctor).text, "challenge")
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    response = post_form(client, "/login", {"challenge": challenge, "code": wrong})
    assert response.status_code == 401
    assert "The two-factor code is not right." in response.text
    assert hidden(response.text, "challenge") == challenge


def test_mfa_challenge_is_bound_to_the_browser(
    client: TestClient, runtime: Runtime, doctor: User
) -> None:
    secret = enable_mfa(runtime, doctor)
    challenge = hidden(login(client, doctor).text, "challenge")
    client.cookies.clear()  # another browser: another CSRF cookie
    response = post_form(
        client, "/login", {"challenge": challenge, "code": pyotp.TOTP(secret).now()}
    )
    assert response.status_code == 401
    assert "took too long" in response.text
    assert ACCESS_COOKIE not in client.cookies


def test_sign_out_ends_the_session(client: TestClient, doctor: User) -> None:
    signed_in(client, doctor)
    access = client.cookies[ACCESS_COOKIE]
    response = post_form(client, "/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/signed-out"
    assert "You have signed out." in get(client, "/signed-out").text
    # The old access token no longer works, even if someone kept a copy.
    reused = get(client, "/patients", Authorization=f"Bearer {access}")
    assert reused.headers["location"] == "/login?next=/patients"


def test_expired_access_cookie_is_refreshed_transparently(client: TestClient, doctor: User) -> None:
    signed_in(client, doctor)
    old_refresh = client.cookies["ol_refresh"]
    # The browser drops the access cookie when the token expires.
    client.cookies.delete(ACCESS_COOKIE)
    first = get(client, "/patients?q=an")
    assert first.status_code == 303
    assert first.headers["location"] == "/api/auth/web-refresh?next=/patients%3Fq%3Dan"
    hop = get(client, first.headers["location"])
    assert hop.status_code == 303
    assert hop.headers["location"] == "/patients?q=an"
    assert client.cookies["ol_refresh"] != old_refresh  # rotated
    assert get(client, "/patients?q=an").status_code == 200


def test_refresh_hop_without_a_session_goes_to_sign_in(client: TestClient) -> None:
    response = get(client, "/api/auth/web-refresh?next=/audit")
    assert response.headers["location"] == "/login?next=/audit"
    evil = get(client, "/api/auth/web-refresh?next=https://evil.example")
    assert evil.headers["location"] == "/login"


# ---- CSRF ----------------------------------------------------------------------------------------


def test_form_post_without_csrf_token_is_refused(
    client: TestClient, runtime: Runtime, doctor: User
) -> None:
    signed_in(client, doctor)
    response = post_form(client, "/patients", {"first_name": "A", "last_name": "B"}, token=False)
    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert count(runtime, Patient) == 0


def test_form_post_with_wrong_csrf_token_is_refused(
    client: TestClient, runtime: Runtime, doctor: User
) -> None:
    signed_in(client, doctor)
    response = client.post(
        "/patients",
        data={"first_name": "A", "last_name": "B", "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert count(runtime, Patient) == 0


def test_sign_in_form_needs_its_csrf_token(client: TestClient, doctor: User) -> None:
    response = client.post(
        "/login", data={"email": doctor.email, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    assert ACCESS_COOKIE not in client.cookies


def test_htmx_post_sends_the_token_as_a_header(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    patient = create_patient(runtime, clinic, first_name="Hana")
    signed_in(client, doctor)
    html = get(client, f"/patients/{patient.id}").text
    assert f'hx-headers=\'{{"X-CSRF-Token": "{client.cookies[CSRF_COOKIE]}"}}\'' in html
    response = client.post(
        f"/patients/{patient.id}/invite",
        headers={"HX-Request": "true", "X-CSRF-Token": client.cookies[CSRF_COOKIE]},
        follow_redirects=False,
    )
    assert response.status_code == 200
    assert "/register/" in response.text


# ---- Patients ------------------------------------------------------------------------------------


def test_patient_list_shows_only_this_clinics_patients(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    create_patient(runtime, clinic, first_name="Olivia", last_name="Ours")
    create_patient(runtime, create_clinic(runtime), first_name="Theo", last_name="Theirs")
    html = get(signed_in(client, doctor), "/patients").text
    assert "Ours, Olivia" in html
    assert "Theirs" not in html
    assert "Theirs" not in get(client, "/patients?q=Theo").text


def test_search_and_filters(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    create_patient(runtime, clinic, first_name="Mia", last_name="Moss", doctor=doctor)
    create_patient(runtime, clinic, first_name="Noah", last_name="Nash")
    signed_in(client, doctor)
    assert "Nash" not in get(client, "/patients?q=mia").text
    by_doctor = get(client, f"/patients?doctor={doctor.id}").text
    assert "Moss, Mia" in by_doctor
    assert "Nash" not in by_doctor
    assert "No patients match" in get(client, "/patients?status=PAUSED").text


def test_load_more_pages_with_htmx(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    for n in range(30):
        create_patient(runtime, clinic, first_name="P", last_name=f"Row{n:02d}")
    html = get(signed_in(client, doctor), "/patients").text
    assert html.count('class="table__primary"') == 25
    more = re.search(r'hx-get="(/patients\?cursor=[^"]+)"', html)
    assert more
    fragment = get(client, more.group(1).replace("&amp;", "&"), **{"HX-Request": "true"}).text
    assert "<html" not in fragment
    assert fragment.count('class="table__primary"') == 5
    assert 'hx-swap-oob="true"' in fragment
    assert "Load more patients" not in fragment


def test_new_patient_form_creates_and_opens_the_record(
    client: TestClient, runtime: Runtime, doctor: User
) -> None:
    signed_in(client, doctor)
    assert "New patient" in get(client, "/patients/new").text
    response = post_form(
        client,
        "/patients",
        {
            "first_name": "Lea",
            "last_name": "Lang",
            "date_of_birth": "2012-04-01",
            "doctor_id": str(doctor.id),
            "scan_frequency_days": "14",
            "guardian_name": "Mara Lang",
        },
    )
    assert response.status_code == 303
    record = get(client, response.headers["location"]).text
    assert "Lea Lang" in record
    assert "Minor" in record
    assert "The patient was added." in record


def test_new_patient_form_reports_missing_fields(
    client: TestClient, runtime: Runtime, doctor: User
) -> None:
    signed_in(client, doctor)
    response = post_form(client, "/patients", {"first_name": "Lea", "last_name": ""})
    assert response.status_code == 422
    assert "Check these fields: Last name." in response.text
    assert 'value="Lea"' in response.text
    assert count(runtime, Patient) == 0


def test_billing_cannot_add_patients(client: TestClient, runtime: Runtime, clinic: Clinic) -> None:
    signed_in(client, create_user(runtime, clinic, Role.BILLING))
    assert "New patient" not in get(client, "/patients").text
    assert get(client, "/patients/new").status_code == 403


def test_other_clinics_patient_is_not_found(
    client: TestClient, runtime: Runtime, doctor: User
) -> None:
    theirs = create_patient(runtime, create_clinic(runtime), first_name="Theo")
    signed_in(client, doctor)
    response = get(client, f"/patients/{theirs.id}")
    assert response.status_code == 404
    assert "Theo" not in response.text
    assert post_form(client, f"/patients/{theirs.id}/archive").status_code == 404


def test_record_and_revoke_consent(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    patient = create_patient(runtime, clinic, first_name="Kai", date_of_birth=None)
    signed_in(client, doctor)
    response = post_form(
        client, f"/patients/{patient.id}/consents", {"kind": "PHOTOGRAPHY", "granted_by": "PATIENT"}
    )
    assert response.status_code == 303
    html = get(client, response.headers["location"]).text
    assert "Photography" in html
    assert "badge--consent-active" in html
    with runtime.session_factory() as session:
        consent = session.scalars(select(Consent)).one()
    revoked = post_form(client, f"/patients/{patient.id}/consents/{consent.id}/revoke")
    assert revoked.status_code == 303
    assert "badge--consent-revoked" in get(client, f"/patients/{patient.id}").text


def test_minor_consent_needs_a_named_guardian(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    patient = create_patient(runtime, clinic, first_name="Tim")  # born 2010: a minor
    signed_in(client, doctor)
    response = post_form(
        client,
        f"/patients/{patient.id}/consents",
        {"kind": "PHOTOGRAPHY", "granted_by": "GUARDIAN", "guardian_name": ""},
    )
    assert response.status_code == 422
    assert "Name the guardian" in response.text
    ok = post_form(
        client,
        f"/patients/{patient.id}/consents",
        {"kind": "PHOTOGRAPHY", "granted_by": "GUARDIAN", "guardian_name": "Ada Parent"},
    )
    assert ok.status_code == 303
    assert "Ada Parent (guardian)" in get(client, f"/patients/{patient.id}").text


def test_archive_is_offered_to_doctors_only(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    patient = create_patient(runtime, clinic)
    signed_in(client, create_user(runtime, clinic, Role.FRONT_DESK))
    assert f"/patients/{patient.id}/archive" not in get(client, f"/patients/{patient.id}").text
    assert post_form(client, f"/patients/{patient.id}/archive").status_code == 403
    client.cookies.clear()
    signed_in(client, doctor)
    response = post_form(client, f"/patients/{patient.id}/archive")
    assert response.status_code == 303
    assert "The patient is archived." in get(client, response.headers["location"]).text


# ---- Invitation and registration --------------------------------------------------------------


def invite_link(client: TestClient, patient: Patient, *, htmx: bool = True) -> str:
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(
        f"/patients/{patient.id}/invite",
        data={"csrf_token": csrf(client), "email": ""},
        headers=headers,
        follow_redirects=False,
    )
    assert response.status_code == 200, response.text
    assert "Invitation link ready" in response.text
    match = re.search(r'value="(http://testserver/register/[0-9a-f]{64})"', response.text)
    assert match
    return match.group(1).removeprefix("http://testserver")


def test_invite_shows_the_link_and_its_expiry(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    patient = create_patient(runtime, clinic, first_name="Ines")
    signed_in(client, doctor)
    response = client.post(
        f"/patients/{patient.id}/invite",
        data={"csrf_token": csrf(client)},
        headers={"HX-Request": "true"},
        follow_redirects=False,
    )
    assert "<html" not in response.text  # an htmx fragment
    assert 'data-copy="#invite-url"' in response.text
    assert "<time datetime=" in response.text
    # Without scripts the whole record comes back with the link.
    assert (
        "Ines"
        in client.post(f"/patients/{patient.id}/invite", data={"csrf_token": csrf(client)}).text
    )


def test_invite_then_register_then_portal_home(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    patient = create_patient(runtime, clinic, first_name="Ines", date_of_birth=None)
    signed_in(client, doctor)
    link = invite_link(client, patient)
    client.cookies.clear()  # the patient's phone

    landing = get(client, link)
    assert landing.status_code == 200
    assert "Hello, Ines" in landing.text
    assert patient.last_name not in landing.text  # the first name only
    response = post_form(
        client,
        link,
        {"email": "ines@example.com", "password": PATIENT_PASSWORD, "confirm": PATIENT_PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/portal"
    assert "patient_refresh" in client.cookies
    home = get(client, "/portal")
    assert home.status_code == 200
    assert "Welcome, Ines" in home.text
    # Used once: the link now explains itself.
    used = get(client, link)
    assert used.status_code == 410
    assert "already been used" in used.text


def test_registration_checks_the_form(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    patient = create_patient(runtime, clinic)
    signed_in(client, doctor)
    link = invite_link(client, patient)
    client.cookies.clear()
    mismatch = post_form(
        client, link, {"email": "a@example.com", "password": PATIENT_PASSWORD, "confirm": "x"}
    )
    assert mismatch.status_code == 422
    assert "not the same" in mismatch.text
    bad_email = post_form(
        client, link, {"email": "nope", "password": PATIENT_PASSWORD, "confirm": PATIENT_PASSWORD}
    )
    assert "valid e-mail" in bad_email.text
    short = post_form(client, link, {"email": "a@example.com", "password": "x", "confirm": "x"})
    assert "at least 10 characters" in short.text


def test_unknown_invite_link_says_so(client: TestClient) -> None:
    response = get(client, "/register/" + "ab" * 32)
    assert response.status_code == 410
    assert "not valid" in response.text


def test_patient_signs_in_and_out_of_the_portal(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    patient = create_patient(runtime, clinic, first_name="Ola", date_of_birth=None)
    signed_in(client, doctor)
    link = invite_link(client, patient, htmx=False)
    client.cookies.clear()
    post_form(
        client,
        link,
        {"email": "ola@example.com", "password": PATIENT_PASSWORD, "confirm": PATIENT_PASSWORD},
    )
    signed_out = post_form(client, "/portal/logout")
    assert signed_out.headers["location"] == "/portal/signed-out"
    assert get(client, "/portal").status_code == 303
    wrong = post_form(client, "/portal/login", {"email": "ola@example.com", "password": "nope"})
    assert wrong.status_code == 401
    ok = post_form(
        client, "/portal/login", {"email": "ola@example.com", "password": PATIENT_PASSWORD}
    )
    assert ok.headers["location"] == "/portal"
    assert "Welcome, Ola" in get(client, "/portal").text


def test_staff_session_does_not_open_the_portal(client: TestClient, doctor: User) -> None:
    signed_in(client, doctor)
    assert get(client, "/portal").headers["location"].startswith("/portal/login")


# ---- Staff ---------------------------------------------------------------------------------------


def test_admin_adds_staff_who_sets_a_password_and_signs_in(
    client: TestClient, runtime: Runtime, admin: User
) -> None:
    signed_in(client, admin)
    page = post_form(
        client, "/staff", {"full_name": "Nora New", "email": "nora@example.com", "role": "doctor"}
    )
    assert page.status_code == 201
    match = re.search(r'value="http://testserver(/welcome/[^"]+)"', page.text)
    assert match
    welcome = match.group(1)
    client.cookies.clear()  # Nora's browser

    form = get(client, welcome)
    assert "Welcome, Nora New" in form.text
    done = post_form(
        client, welcome, {"password": "a long new password", "confirm": "a long new password"}
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/login?notice=password-set"
    signed = post_form(
        client, "/login", {"email": "nora@example.com", "password": "a long new password"}
    )
    assert signed.status_code == 303
    assert get(client, "/patients").status_code == 200
    # The link worked once.
    assert get(client, welcome).status_code == 410


def test_admin_changes_a_role_and_disables_an_account(
    client: TestClient, runtime: Runtime, admin: User, doctor: User
) -> None:
    signed_in(client, admin)
    changed = post_form(client, f"/staff/{doctor.id}/role", {"role": "front_desk"})
    assert changed.headers["location"] == "/staff?notice=role-changed"
    disabled = post_form(client, f"/staff/{doctor.id}/disable")
    assert disabled.status_code == 303
    html = get(client, "/staff").text
    assert "Disabled" in html
    with runtime.session_factory() as session:
        row = session.get(User, doctor.id)
        assert row is not None
        assert row.role is Role.FRONT_DESK
        assert row.disabled_at is not None


def test_admin_cannot_disable_the_last_admin(client: TestClient, admin: User) -> None:
    signed_in(client, admin)
    response = post_form(client, f"/staff/{admin.id}/role", {"role": "doctor"})
    assert response.status_code == 409
    assert "at least one active clinic admin" in response.text


def test_staff_page_lists_only_this_clinic(
    client: TestClient, runtime: Runtime, admin: User
) -> None:
    other = create_user(runtime, create_clinic(runtime), Role.DOCTOR, email="elsewhere@example.com")
    html = get(signed_in(client, admin), "/staff").text
    assert admin.email in html
    assert other.email not in html


def test_clinic_requirement_sends_staff_to_set_up_two_factor(
    client: TestClient, runtime: Runtime, clinic: Clinic, admin: User, doctor: User
) -> None:
    signed_in(client, admin)
    assert post_form(client, "/staff/mfa-requirement", {"required": "on"}).status_code == 303
    client.cookies.clear()
    signed_in(client, doctor)
    for path in ["/patients", "/"]:
        response = get(client, path)
        assert response.headers["location"] == "/account?notice=mfa-required"
    account = get(client, "/account?notice=mfa-required")
    assert account.status_code == 200
    assert "Your clinic requires two-factor sign-in" in account.text


# ---- Account -------------------------------------------------------------------------------------


def test_two_factor_enrollment_from_the_account_page(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    require_mfa(runtime, clinic)
    signed_in(client, doctor)
    assert post_form(client, "/account/mfa/setup").status_code == 303
    html = get(client, "/account").text
    assert "<svg" in html  # the QR code
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7 ]+)<', html)
    assert secret
    totp = pyotp.TOTP(secret.group(1).replace(" ", ""))
    assert post_form(client, "/account/mfa/enable", {"code": "12345x"}).status_code == 422
    enabled = post_form(client, "/account/mfa/enable", {"code": totp.now()})
    assert enabled.headers["location"] == "/account?notice=mfa-enabled"
    assert get(client, "/patients").status_code == 200  # no longer sent to /account
    client.cookies.clear()
    assert login(client, doctor).status_code == 200  # the code step now
    assert "authenticator app" in login(client, doctor).text


def test_change_password_keeps_this_browser_signed_in(
    client: TestClient, runtime: Runtime, doctor: User
) -> None:
    signed_in(client, doctor)
    old_access = client.cookies[ACCESS_COOKIE]
    wrong = post_form(
        client,
        "/account/password",
        {"current": "nope", "new": "another long password", "confirm": "another long password"},
    )
    assert wrong.status_code == 422
    assert "current password is not right" in wrong.text
    response = post_form(
        client,
        "/account/password",
        {"current": PASSWORD, "new": "another long password", "confirm": "another long password"},
    )
    assert response.headers["location"] == "/account?notice=password-changed"
    assert client.cookies[ACCESS_COOKIE] != old_access
    assert get(client, "/account").status_code == 200
    stale = get(client, "/account", Authorization=f"Bearer {old_access}")
    assert stale.status_code == 303  # the other sessions (and tokens) ended


# ---- Audit ---------------------------------------------------------------------------------------


def test_audit_trail_lists_and_filters_events(
    client: TestClient, runtime: Runtime, clinic: Clinic, admin: User, doctor: User
) -> None:
    patient = create_patient(runtime, clinic)
    signed_in(client, doctor)
    get(client, f"/patients/{patient.id}")
    client.cookies.clear()
    signed_in(client, admin)
    html = get(client, "/audit").text
    assert "patient.read</code>" in html
    assert "auth.login</code>" in html
    assert str(patient.id) in html
    only_reads = get(client, "/audit?action=patient.read").text
    assert "auth.login</code>" not in only_reads
    by_target = get(client, f"/audit?target={patient.id}").text
    assert "patient.read</code>" in by_target
    assert "auth.login</code>" not in by_target
    assert "must be a full id" in get(client, "/audit?actor=abc").text
    assert "No events match" in get(client, "/audit?since=2999-01-01").text


def test_audit_trail_pages_with_a_cursor(
    client: TestClient, runtime: Runtime, clinic: Clinic, admin: User
) -> None:
    signed_in(client, admin)
    for _ in range(60):
        get(client, "/account")  # nothing audited
        get(client, "/patients")  # one patient.list event each
    html = get(client, "/audit?action=patient.list").text
    assert html.count("patient.list</code>") == 50
    more = re.search(r'hx-get="(/audit\?[^"]+)"', html)
    assert more
    rest = get(client, more.group(1).replace("&amp;", "&"), **{"HX-Request": "true"}).text
    assert rest.count("patient.list</code>") == 10


def test_audit_trail_of_another_clinic_is_not_shown(
    client: TestClient, runtime: Runtime, admin: User
) -> None:
    other_clinic = create_clinic(runtime)
    outsider = create_user(runtime, other_clinic, Role.DOCTOR)
    signed_in(client, outsider)
    client.cookies.clear()
    html = get(signed_in(client, admin), "/audit").text
    assert str(outsider.id) not in html


# ---- Errors --------------------------------------------------------------------------------------


def test_overlong_form_field_is_a_422_page(client: TestClient) -> None:
    response = post_form(client, "/login", {"email": "x" * 400, "password": "p"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "too long or not valid" in response.text


def test_htmx_error_is_aimed_at_the_alert_area(
    client: TestClient, runtime: Runtime, clinic: Clinic
) -> None:
    patient = create_patient(runtime, clinic)
    signed_in(client, create_user(runtime, clinic, Role.BILLING))
    response = client.post(
        f"/patients/{patient.id}/invite",
        headers={"HX-Request": "true", "X-CSRF-Token": client.cookies[CSRF_COOKIE]},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert response.headers["hx-retarget"] == "#page-alerts"
    assert "<html" not in response.text
    assert 'class="alert alert--error"' in response.text
