"""Patient pages: the list (search, filters, "load more"), a new patient, and a patient's record
with their consents, portal invitation and archiving. Every read and write goes through the patient
and consent services with the signed-in principal, so tenancy, roles and the audit log are theirs.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from markupsafe import Markup
from pydantic import ValidationError

from ortholens.auth.policy import Permission, allowed
from ortholens.auth.principals import Authorized, StaffPrincipal
from ortholens.clinic import service as clinic_service
from ortholens.consent import service as consent_service
from ortholens.consent.schemas import ConsentCreate
from ortholens.http.deps import RuntimeDep, SessionDep, SettingsDep
from ortholens.kit.db import utcnow
from ortholens.kit.errors import InvalidInput, OrthoLensError
from ortholens.kit.mail import smtp_config
from ortholens.models import ConsentGrantor, ConsentKind, Patient, PatientStatus, Role, User
from ortholens.patient import service as patient_service
from ortholens.patient.schemas import PatientCreate
from ortholens.patient.service import IssuedInvite
from ortholens.patient_auth.invite_mail import request_invite_email
from ortholens.web.auth import PageCsrf, RequirePagePermission
from ortholens.web.routing import PageResponse, PageRoute, QueryFilters, is_htmx, redirect
from ortholens.web.templating import render

router = APIRouter(include_in_schema=False, route_class=PageRoute, dependencies=[PageCsrf])

Reader = Annotated[Authorized, RequirePagePermission(Permission.PATIENTS_READ)]
Writer = Annotated[Authorized, RequirePagePermission(Permission.PATIENTS_WRITE)]
Archiver = Annotated[Authorized, RequirePagePermission(Permission.PATIENTS_ARCHIVE)]
Inviter = Annotated[Authorized, RequirePagePermission(Permission.PATIENTS_INVITE)]
ConsentWriter = Annotated[Authorized, RequirePagePermission(Permission.CONSENT_WRITE)]

Text = Annotated[str, Form(max_length=320)]
PAGE_SIZE = 25

FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "date_of_birth": "Date of birth",
    "doctor_id": "Doctor",
    "scan_frequency_days": "Days between scans",
    "guardian_name": "Guardian's name",
    "guardian_email": "Guardian's e-mail",
    "expires_at": "Expires on",
}

NOTICES = {
    "created": "The patient was added.",
    "consent-recorded": "The consent was recorded.",
    "consent-revoked": "The consent was revoked from now on.",
    "archived": "The patient is archived. Their portal sign-ins have ended and open invitations no longer work.",
}


def _form_errors(error: ValidationError) -> str:
    """A sentence naming the fields to fix (never echoing what was typed)."""
    names = []
    for problem in error.errors():
        loc = problem.get("loc") or ("",)
        field = re.sub(r"(?<!^)(?=[A-Z])", "_", str(loc[0])).lower()  # lastName -> last_name
        name = FIELD_LABELS.get(field, field.replace("_", " ").capitalize())
        if name not in names:
            names.append(name)
    return "Check these fields: " + ", ".join(names) + "."


def _doctors(db: SessionDep, principal: StaffPrincipal) -> list[User]:
    """Active doctors of the principal's clinic, for the doctor filter and picker."""
    return [
        user
        for user in clinic_service.list_staff(db, principal)
        if user.role is Role.DOCTOR and user.disabled_at is None
    ]


def _can(principal: StaffPrincipal) -> dict[str, bool]:
    return {permission.value: allowed(principal.role, permission) for permission in Permission}


# ---- List ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilters(QueryFilters):
    q: str = ""
    status: str = ""
    doctor: str = ""


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@router.get("/patients")
def patient_list(
    *,
    request: Request,
    db: SessionDep,
    auth: Reader,
    q: Annotated[str, Query(max_length=100)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    doctor: Annotated[str, Query(max_length=40)] = "",
    cursor: Annotated[str, Query(max_length=64)] = "",
    notice: str = "",
) -> Response:
    """Your clinic's patients by name, with search and filters; "load more" pages with htmx."""
    principal = auth.principal
    filters = ListFilters(q.strip(), status, doctor)
    query = patient_service.PatientQuery(
        search=filters.q or None,
        status=PatientStatus(status) if status in set(PatientStatus) else None,
        doctor_id=_uuid_or_none(doctor),
        cursor=cursor or None,
        limit=PAGE_SIZE,
    )
    patients, next_cursor = patient_service.list_patients(db, principal, query)
    doctors = _doctors(db, principal)
    context = {
        "patients": patients,
        "doctors": doctors,
        "doctor_names": {user.id: user.full_name for user in doctors},
        "filters": filters,
        "statuses": list(PatientStatus),
        "more_url": f"/patients?{filters.query(cursor=next_cursor)}" if next_cursor else None,
        "can": _can(principal),
        "notice": NOTICES.get(notice),
    }
    if is_htmx(request) and cursor:
        return render(request, "patients/_rows.html", context)
    return render(request, "patients/list.html", context)


# ---- New patient ---------------------------------------------------------------------------------


def _new_patient_page(
    request: Request,
    db: SessionDep,
    principal: StaffPrincipal,
    *,
    form: dict[str, str],
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "patients/new.html",
        {
            "form": form,
            "doctors": _doctors(db, principal),
            "error": error,
            "statuses": [s for s in PatientStatus if s is not PatientStatus.ARCHIVED],
        },
        status_code=status_code,
    )


@router.get("/patients/new")
def new_patient_form(request: Request, db: SessionDep, auth: Writer) -> Response:
    """The form to add a patient."""
    own = str(auth.principal.user_id) if auth.principal.role is Role.DOCTOR else ""
    form = {"doctor_id": own, "scan_frequency_days": "14", "status": PatientStatus.ACTIVE.value}
    return _new_patient_page(request, db, auth.principal, form=form)


@router.post("/patients")
def create_patient(
    *,
    request: Request,
    db: SessionDep,
    auth: Writer,
    first_name: Annotated[str, Form(max_length=100)] = "",
    last_name: Annotated[str, Form(max_length=100)] = "",
    date_of_birth: Annotated[str, Form(max_length=10)] = "",
    doctor_id: Annotated[str, Form(max_length=40)] = "",
    status: Annotated[str, Form(max_length=20)] = PatientStatus.ACTIVE.value,
    scan_frequency_days: Annotated[str, Form(max_length=4)] = "14",
    guardian_name: Annotated[str, Form(max_length=200)] = "",
    guardian_email: Text = "",
) -> Response:
    """Add a patient to your clinic, then open their record."""
    form = {
        "first_name": first_name,
        "last_name": last_name,
        "date_of_birth": date_of_birth,
        "doctor_id": doctor_id,
        "status": status,
        "scan_frequency_days": scan_frequency_days,
        "guardian_name": guardian_name,
        "guardian_email": guardian_email,
    }
    values: dict[str, Any] = {key: value.strip() or None for key, value in form.items()}
    try:
        data = PatientCreate.model_validate(
            {key: value for key, value in values.items() if value is not None}
        )
        patient = patient_service.create_patient(db, auth.principal, data)
    except ValidationError as invalid:
        page = _new_patient_page(
            request, db, auth.principal, form=form, error=_form_errors(invalid), status_code=422
        )
        raise PageResponse(page) from None
    except OrthoLensError as refused:
        page = _new_patient_page(
            request,
            db,
            auth.principal,
            form=form,
            error=refused.detail,
            status_code=refused.status_code,
        )
        raise PageResponse(page) from None
    return redirect(request, f"/patients/{patient.id}?notice=created")


# ---- A patient's record --------------------------------------------------------------------------


def _age(patient: Patient, today: date) -> int | None:
    if patient.date_of_birth is None:
        return None
    return consent_service.age_on(patient.date_of_birth, today)


def _detail_page(
    request: Request,
    db: SessionDep,
    auth: Authorized,
    patient_id: uuid.UUID,
    *,
    notice: str = "",
    invite: InvitePanel | None = None,
    invite_error: str | None = None,
    consent_error: str | None = None,
    consent_form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    principal = auth.principal
    patient = patient_service.get_patient(db, principal, patient_id)
    can = _can(principal)
    now = utcnow()
    consents = (
        [
            (consent, consent_service.consent_status(consent, now))
            for consent in consent_service.list_consents(db, principal, patient.id)
        ]
        if can[Permission.CONSENT_READ.value]
        else []
    )
    doctor = db.get(User, patient.doctor_id) if patient.doctor_id else None
    age = _age(patient, now.date())
    minor = age is not None and age < consent_service.AGE_OF_MAJORITY
    return render(
        request,
        "patients/detail.html",
        {
            "patient": patient,
            "doctor": doctor,
            "age": age,
            "minor": minor,
            "consents": consents,
            "kinds": list(ConsentKind),
            "can": can,
            "notice": NOTICES.get(notice),
            "invite": invite,
            "invite_error": invite_error,
            "consent_error": consent_error,
            "consent_form": consent_form
            or {
                "kind": ConsentKind.PHOTOGRAPHY.value,
                "granted_by": (ConsentGrantor.GUARDIAN if minor else ConsentGrantor.PATIENT).value,
                "guardian_name": patient.guardian_name or "",
                "expires_on": "",
            },
            "archived": patient.status is PatientStatus.ARCHIVED,
        },
        status_code=status_code,
    )


@router.get("/patients/{patient_id}")
def patient_detail(
    request: Request, patient_id: uuid.UUID, db: SessionDep, auth: Reader, notice: str = ""
) -> Response:
    """A patient's record: details, consents and portal access."""
    return _detail_page(request, db, auth, patient_id, notice=notice)


@router.post("/patients/{patient_id}/consents")
def record_consent(
    *,
    request: Request,
    patient_id: uuid.UUID,
    db: SessionDep,
    auth: ConsentWriter,
    kind: Annotated[str, Form(max_length=20)] = "",
    granted_by: Annotated[str, Form(max_length=20)] = "",
    guardian_name: Annotated[str, Form(max_length=200)] = "",
    expires_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Record a consent the patient (or, for a minor, their guardian) gave today."""
    form = {
        "kind": kind,
        "granted_by": granted_by,
        "guardian_name": guardian_name,
        "expires_on": expires_on,
    }
    try:
        expires_at = (
            datetime.combine(date.fromisoformat(expires_on), time(23, 59, 59), UTC)
            if expires_on
            else None
        )
        data = ConsentCreate(
            kind=ConsentKind(kind),
            granted_by=ConsentGrantor(granted_by),
            guardian_name=guardian_name.strip() or None,
            expires_at=expires_at,
        )
        consent_service.grant_consent(db, auth.principal, patient_id, data)
    except (ValueError, OrthoLensError) as refused:
        if isinstance(refused, ValidationError):
            message = _form_errors(refused)
        elif isinstance(refused, OrthoLensError):
            message = refused.detail
        else:
            message = "Choose the kind of consent and who gave it, and a valid expiry date."
        page = _detail_page(
            request, db, auth, patient_id, consent_error=message, consent_form=form, status_code=422
        )
        raise PageResponse(page) from None
    return redirect(request, f"/patients/{patient_id}?notice=consent-recorded#consents")


@router.post("/patients/{patient_id}/consents/{consent_id}/revoke")
def revoke_consent(
    request: Request,
    patient_id: uuid.UUID,
    consent_id: uuid.UUID,
    db: SessionDep,
    auth: ConsentWriter,
) -> Response:
    """Revoke a consent from now on."""
    consent_service.revoke_consent(db, auth.principal, patient_id, consent_id)
    return redirect(request, f"/patients/{patient_id}?notice=consent-revoked#consents")


@dataclass(frozen=True)
class InvitePanel:
    """A new invitation as the panel shows it: the link, its QR code for the chairside hand-over,
    and whether an e-mail with the link was queued (`mailed_to`) or e-mail is not set up."""

    issued: IssuedInvite
    qr_svg: Markup
    mailed_to: str | None
    mail_configured: bool

    @property
    def invite_url(self) -> str:
        return self.issued.invite_url

    @property
    def expires_at(self) -> datetime:
        return self.issued.expires_at


def invite_qr(url: str) -> Markup:
    """The invitation link as an inline SVG QR code (error correction M, scanned from a screen)."""
    svg = segno.make(url, error="m").svg_inline(scale=4, border=2, omitsize=False)
    return Markup(svg)  # noqa: S704 - generated by segno from our own URL, not from input


@router.post("/patients/{patient_id}/invite")
def invite_patient(
    *,
    request: Request,
    patient_id: uuid.UUID,
    db: SessionDep,
    settings: SettingsDep,
    runtime: RuntimeDep,
    auth: Inviter,
    email: Text = "",
) -> Response:
    """Make a portal invitation link (7 days, single use; older links stop working), e-mail it
    when an address is given and SMTP is set up, and show it with its QR code."""
    try:
        if email.strip() and "@" not in email:
            raise InvalidInput("Enter a valid e-mail address, or leave it empty.")
        invite = patient_service.invite_patient(
            db,
            auth.principal,
            patient_id,
            email=email.strip() or None,
            public_url=settings.public_url,
        )
    except OrthoLensError as refused:
        if is_htmx(request) and refused.status_code < 500 and refused.status_code != 404:
            fragment = render(
                request,
                "patients/_invite.html",
                {"invite": None, "invite_error": refused.detail},
                status_code=refused.status_code,
            )
            raise PageResponse(fragment) from None
        raise
    address = email.strip().lower() or None
    mail_configured = smtp_config(settings) is not None
    if address and mail_configured:
        request_invite_email(
            db,
            runtime.secrets.storage_encryption_key,
            invite_id=invite.invite_id,
            clinic_id=patient_service.find_patient(
                db, auth.principal, patient_id, action="patient.invite"
            ).clinic_id,
            invite_url=invite.invite_url,
        )
    panel = InvitePanel(
        issued=invite,
        qr_svg=invite_qr(invite.invite_url),
        mailed_to=address if mail_configured else None,
        mail_configured=mail_configured,
    )
    if is_htmx(request):
        return render(request, "patients/_invite.html", {"invite": panel, "invite_error": None})
    # Without scripts: the whole record, with the link (shown once; never put in a URL).
    return _detail_page(request, db, auth, patient_id, invite=panel)


@router.post("/patients/{patient_id}/archive")
def archive_patient(
    request: Request, patient_id: uuid.UUID, db: SessionDep, auth: Archiver
) -> Response:
    """Archive a patient: portal access ends and open invitations stop working."""
    patient_service.archive_patient(db, auth.principal, patient_id)
    return redirect(request, f"/patients/{patient_id}?notice=archived")
