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
from sqlalchemy import select
from sqlalchemy.orm import Session

from ortholens.auth.deps import Public, SignerDep
from ortholens.clinic import repository as clinic_repository
from ortholens.consent import service as consent_service
from ortholens.dashboard.rules import patient_compliance
from ortholens.http.deps import RuntimeDep, SessionDep
from ortholens.kit.db import utcnow
from ortholens.kit.errors import OrthoLensError, TooManyRequests, Unauthorized
from ortholens.messaging import service as messaging
from ortholens.models import ConsentKind, Patient, ScanSession, ScanSessionStatus, TagSet
from ortholens.patient_auth import service as patient_auth
from ortholens.review import repository as review_repository
from ortholens.review.vocabulary import OralHygiene, OverallTracking
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
    start_session(response, tokens, patient=True)
    return response


@router.post("/portal/logout")
def logout(request: Request, db: SessionDep, principal: PatientPage) -> Response:
    """Sign out of the portal on this phone."""
    patient_auth.sign_out(db, principal)
    response = redirect(request, "/portal/signed-out")
    end_session(response, patient=True)
    return response


@router.get("/portal/signed-out", dependencies=[Public])
def signed_out(request: Request) -> Response:
    """Confirms the sign-out, with the form to sign in again."""
    return _login_page(request, next_path="/portal", notice=NOTICES["signed-out"])


@router.get("/api/patient-auth/web-refresh", dependencies=[Public])
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
    start_session(response, tokens, patient=True)
    return response


# ---- Home ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextScan:
    """When the next progress photos are due: the last check-in (or the onboarding) plus the
    patient's scan frequency, as the clinic's compliance figure counts it."""

    due_at: datetime
    days_left: int  # negative when overdue
    last_scan_at: datetime | None


@dataclass(frozen=True)
class ReviewResult:
    """The practice's latest verdict on the patient's photos, in the patient's words."""

    reviewed_at: datetime | None
    needs_retake: bool
    tracking: str | None
    hygiene: str | None


@dataclass(frozen=True)
class Monitoring:
    next_scan: NextScan
    last_review: ReviewResult | None
    awaiting_since: datetime | None  # photos sent and not reviewed yet


def _last_scan_at(db: Session, patient_id: uuid.UUID) -> datetime | None:
    return db.scalars(
        select(ScanSession.created_at)
        .where(ScanSession.patient_id == patient_id)
        .order_by(ScanSession.created_at.desc())
        .limit(1)
    ).first()


def _awaiting_since(db: Session, patient_id: uuid.UUID) -> datetime | None:
    """When the latest photos that wait for review were sent (None when nothing waits)."""
    latest = db.scalars(
        select(ScanSession)
        .where(ScanSession.patient_id == patient_id, ScanSession.image_count > 0)
        .order_by(ScanSession.created_at.desc())
        .limit(1)
    ).first()
    pending = latest is not None and latest.status is ScanSessionStatus.PENDING
    return latest.created_at if latest is not None and pending else None


def _last_review(db: Session, patient_id: uuid.UUID) -> ReviewResult | None:
    scan = review_repository.latest_reviewed_session(db, patient_id)
    if scan is None:
        return None
    tag_set: TagSet | None = review_repository.tag_set_of(db, scan.id)
    return ReviewResult(
        reviewed_at=scan.reviewed_at,
        needs_retake=scan.status is ScanSessionStatus.NEEDS_RETAKE,
        tracking=OverallTracking(tag_set.overall_tracking).label if tag_set else None,
        hygiene=OralHygiene(tag_set.oral_hygiene).label if tag_set else None,
    )


def monitoring_status(db: Session, patient: Patient, now: datetime) -> Monitoring:
    """What the home page tells the patient about their remote monitoring."""
    last_at = _last_scan_at(db, patient.id)
    entry = patient_compliance(patient, last_at, now)
    due_at = entry.counted_from + timedelta(days=entry.frequency_days)
    return Monitoring(
        next_scan=NextScan(due_at, entry.frequency_days - entry.days_since, last_at),
        last_review=_last_review(db, patient.id),
        awaiting_since=_awaiting_since(db, patient.id),
    )


@router.get("/portal")
def portal_home(
    request: Request, db: SessionDep, runtime: RuntimeDep, principal: PatientPage
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
            "vapid_public_key": runtime.vapid.public_key_b64url,
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
