"""The patient portal's own pages: registration from an invitation (`/register/{token}`), sign-in
and sign-out, the refresh hop, and the portal home (also at `/home`, where notifications lead).
Mobile first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from ortholens.auth.deps import Public, SignerDep
from ortholens.clinic import repository as clinic_repository
from ortholens.consent import service as consent_service
from ortholens.dashboard.rules import patient_compliance
from ortholens.http.deps import RuntimeDep, SessionDep, writes
from ortholens.kit.db import utcnow
from ortholens.kit.errors import OrthoLensError, TooManyRequests, Unauthorized
from ortholens.messaging import service as messaging
from ortholens.models import ConsentKind, Patient, ScanSessionStatus, TagSet
from ortholens.notify.deps import VapidDep
from ortholens.patient_auth import service as patient_auth
from ortholens.review import repository as review_repository
from ortholens.review.vocabulary import OralHygiene, OverallTracking
from ortholens.upload import checkin
from ortholens.web.auth import FormCsrf, PageCsrf, PatientPage, refresh_hop
from ortholens.web.routing import PATIENT_LOGIN, PageResponse, PortalRoute, redirect, safe_next
from ortholens.web.scan_wizard import ARCH, WIZARD_STEPS
from ortholens.web.session import end_session, start_session
from ortholens.web.templating import render

router = APIRouter(include_in_schema=False, route_class=PortalRoute, dependencies=[PageCsrf])

Password = Annotated[str, Form(max_length=256)]
Email = Annotated[str, Form(max_length=320)]
InviteToken = Annotated[str, Path(max_length=128)]
_EMAIL = TypeAdapter(EmailStr)

NOTICES = {"signed-out": "You have signed out."}


def _portal_target(next_path: str) -> str:
    """Where to go after signing in: a portal page only."""
    target = safe_next(next_path, "/portal")
    return target if target == "/portal" or target.startswith("/portal/") else "/portal"


# ---- Sign-in -------------------------------------------------------------------------------------


def _login_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "portal/login.html",
        {"next": next_path, "email": email, "error": error, "notice": notice},
        status_code=status_code,
    )


@router.get("/portal/login", dependencies=[Public])
def login_form(request: Request, next: str = "", notice: str = "") -> Response:
    """Patient sign-in form."""
    return _login_page(request, next_path=_portal_target(next), notice=NOTICES.get(notice))


@router.post("/portal/login", dependencies=[Public, FormCsrf])
def login(
    *,
    request: Request,
    db: SessionDep,
    signer: SignerDep,
    runtime: RuntimeDep,
    email: Email = "",
    password: Password = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Check a patient's e-mail and password; on success set the portal's session cookies."""
    target = _portal_target(next)
    try:
        if not email.strip() or not password:
            raise Unauthorized("Enter your e-mail address and password.")
        _patient, tokens = patient_auth.sign_in_patient(
            db,
            signer,
            throttle_secret=runtime.secrets.token_signing_key,
            email=email.strip(),
            password=password,
        )
    except (Unauthorized, TooManyRequests) as refused:
        page = _login_page(
            request,
            next_path=target,
            email=email,
            error=refused.detail,
            status_code=refused.status_code,
        )
        raise PageResponse(page) from None
    response = RedirectResponse(target, status_code=303)
    start_session(request, response, tokens, patient=True)
    return response


@router.post("/portal/logout")
def logout(request: Request, db: SessionDep, principal: PatientPage) -> Response:
    """Sign out of the portal on this phone."""
    patient_auth.sign_out(db, principal)
    response = redirect(request, "/portal/signed-out")
    end_session(request, response, patient=True)
    return response


@router.get("/portal/signed-out", dependencies=[Public])
def signed_out(request: Request) -> Response:
    """Confirms the sign-out, with the form to sign in again."""
    return _login_page(request, next_path="/portal", notice=NOTICES["signed-out"])


@router.get("/api/patient-auth/web-refresh", dependencies=[Public])
@writes  # rotates the refresh token
def refresh_session(
    request: Request, db: SessionDep, signer: SignerDep, next: str = "/portal"
) -> Response:
    """The portal's refresh hop (under the refresh cookie's path): new tokens, then back."""
    target = _portal_target(next)
    login = f"{PATIENT_LOGIN}?next={quote(target, safe='/')}"
    return refresh_hop(
        request,
        lambda token: patient_auth.refresh_patient(db, signer, token),
        patient=True,
        target=target,
        login=login,
    )


# ---- Registration from an invitation -----------------------------------------------------------


@router.get("/register/{token}", dependencies=[Public])
def register_form(request: Request, token: InviteToken, db: SessionDep) -> Response:
    """The invitation's landing page: who it is for, and the form to create the account."""
    check = patient_auth.check_invite(db, token)
    return render(
        request,
        "portal/register.html",
        {
            "check": check,
            "reason": patient_auth.PROBLEM_DETAILS.get(check.reason) if check.reason else None,
            "email": check.email or "",
            "error": None,
        },
        status_code=200 if check.valid else 410,
    )


@router.post("/register/{token}", dependencies=[Public, FormCsrf])
def register(
    *,
    request: Request,
    token: InviteToken,
    db: SessionDep,
    signer: SignerDep,
    email: Email = "",
    password: Password = "",
    confirm: Password = "",
) -> Response:
    """Create the portal account, sign the patient in and open the portal."""

    def again(error: str, status_code: int = 422) -> PageResponse:
        check = patient_auth.check_invite(db, token)
        reason = patient_auth.PROBLEM_DETAILS.get(check.reason) if check.reason else None
        page = render(
            request,
            "portal/register.html",
            {"check": check, "reason": reason, "email": email, "error": error},
            status_code=status_code,
        )
        return PageResponse(page)

    try:
        address = str(_EMAIL.validate_python(email.strip()))
    except ValidationError:
        raise again("Enter a valid e-mail address.") from None
    if password != confirm:
        raise again("The two passwords are not the same.")
    try:
        _patient, tokens = patient_auth.register(
            db, signer, token=token, email=address, password=password
        )
    except OrthoLensError as refused:
        raise again(refused.detail, refused.status_code) from None
    response = RedirectResponse("/portal", status_code=303)
    start_session(request, response, tokens, patient=True)
    return response


# ---- Home ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextScan:
    """When the next progress photos are due: the last check-in (or the onboarding) plus the
    patient's scan frequency, as the clinic's compliance figure counts it."""

    due_at: datetime
    days_left: int  # negative when overdue
    last_scan_at: datetime | None


# The review vocabulary (DOMAIN.md) as a patient reads it: no GO / NO-GO, a sentence that says
# what it means for them and what to do.
PATIENT_TRACKING = {
    OverallTracking.ON_TRACK: "Your treatment is on track.",
    OverallTracking.MINOR_ISSUE: "Mostly on track, with a small thing your orthodontist is "
    "keeping an eye on.",
    OverallTracking.NEEDS_ATTENTION: "Your orthodontist would like to see you. Please contact "
    "the practice to book a visit.",
}
PATIENT_HYGIENE = {
    OralHygiene.GOOD: "Good: keep it up.",
    OralHygiene.FAIR: "Fair: brush a little longer around your braces or attachments.",
    OralHygiene.POOR: "Needs care: brush twice a day and clean between your teeth.",
}


@dataclass(frozen=True)
class ReviewResult:
    """The practice's latest verdict on the patient's photos, in the patient's words."""

    reviewed_at: datetime | None
    needs_retake: bool
    tracking: str | None
    hygiene: str | None
    tracking_level: int | None = None  # 1 on track .. 3 needs attention, for the card's colour
    note: str | None = None  # the doctor's note on the review


@dataclass(frozen=True)
class Monitoring:
    next_scan: NextScan
    last_review: ReviewResult | None
    awaiting_since: datetime | None  # photos sent and not reviewed yet
    unsent_photos: int = 0  # photos of a check-in the patient started and has not sent


def _awaiting_since(db: Session, patient_id: uuid.UUID) -> datetime | None:
    """When the latest photos that wait for review were sent (None when nothing waits)."""
    latest = review_repository.latest_session_with_photos(db, patient_id)
    pending = latest is not None and latest.status is ScanSessionStatus.PENDING
    if latest is None or not pending:
        return None
    return latest.submitted_at or latest.created_at


def _last_review(db: Session, patient_id: uuid.UUID) -> ReviewResult | None:
    scan = review_repository.latest_reviewed_session(db, patient_id)
    if scan is None:
        return None
    tag_set: TagSet | None = review_repository.tag_set_of(db, scan.id)
    tracking = OverallTracking(tag_set.overall_tracking) if tag_set else None
    return ReviewResult(
        reviewed_at=scan.reviewed_at,
        needs_retake=scan.status is ScanSessionStatus.NEEDS_RETAKE,
        tracking=PATIENT_TRACKING[tracking] if tracking else None,
        hygiene=PATIENT_HYGIENE[OralHygiene(tag_set.oral_hygiene)] if tag_set else None,
        tracking_level=int(tracking) if tracking else None,
        note=(tag_set.notes or "").strip() or None if tag_set else None,
    )


def monitoring_status(db: Session, patient: Patient, now: datetime) -> Monitoring:
    """What the home page tells the patient about their remote monitoring."""
    last_at = review_repository.last_session_at(db, patient.id)
    entry = patient_compliance(patient, last_at, now)
    due_at = entry.counted_from + timedelta(days=entry.frequency_days)
    unsent = checkin.open_session(db, patient.id, now)
    return Monitoring(
        next_scan=NextScan(due_at, entry.frequency_days - entry.days_since, last_at),
        last_review=_last_review(db, patient.id),
        awaiting_since=_awaiting_since(db, patient.id),
        unsent_photos=unsent.image_count if unsent else 0,
    )


@router.get("/portal")
def portal_home(
    request: Request, db: SessionDep, vapid: VapidDep, principal: PatientPage
) -> Response:
    """The patient's home: when photos are due, the latest review, messages, notifications and
    their consents."""
    patient = patient_auth.own_profile(db, principal)
    now = utcnow()
    consents = [
        (consent, consent_service.consent_status(consent, now))
        for consent in consent_service.list_own_consents(db, principal)
    ]
    clinic = clinic_repository.get_clinic(db, patient.clinic_id)
    threads = messaging.patient_threads(db, principal)
    return render(
        request,
        "portal/home.html",
        {
            "patient": patient,
            "clinic": clinic,
            "consents": consents,
            "monitoring": monitoring_status(db, patient, now),
            "threads": threads[:3],
            "unread": sum(summary.unread_count for summary in threads),
            "vapid_public_key": vapid.public_key_b64url,
        },
    )


@router.get("/home", dependencies=[Public])
def home_alias() -> Response:
    """Where notifications lead (`ortholens.notify`): the portal home."""
    return RedirectResponse("/portal", status_code=303)


# ---- Scan wizard ---------------------------------------------------------------------------------


@router.get("/portal/scan")
def scan_wizard(request: Request, db: SessionDep, principal: PatientPage) -> Response:
    """Seed 004's scan wizard: the five remote-monitoring photos, one view at a time.

    The page script starts a scan session and sends each photo straight to storage through the
    patient upload API. Without a photography consent in force the page says so instead (the API
    refuses the session too; the script shows that answer if the consent lapses meanwhile)."""
    patient = patient_auth.own_profile(db, principal)
    now = utcnow()
    consented = any(
        consent.kind is ConsentKind.PHOTOGRAPHY
        and consent_service.consent_status(consent, now) == "active"
        for consent in consent_service.list_own_consents(db, principal)
    )
    clinic = clinic_repository.get_clinic(db, patient.clinic_id)
    return render(
        request,
        "portal/scan.html",
        {
            "patient": patient,
            "clinic": clinic,
            "consented": consented,
            "steps": WIZARD_STEPS,
            "arch": ARCH,
        },
    )
