"""Messaging pages for both sides (issue 6).

Staff (messages:read to read, messages:write to write):
    GET  /messages                 the clinic's threads, latest first, with unread counts
    GET  /messages/new?patient=ID  a new thread with a patient (also offered on the review screen)
    POST /messages/new
    GET  /messages/{thread_id}     the thread; opening it marks the patient's messages read
    POST /messages/{thread_id}     reply

Patient portal (the signed-in patient's own threads only; another's answers 404):
    GET  /portal/messages              their threads with unread badges
    GET  /portal/messages/{thread_id}  the thread; opening it marks the clinic's messages read
    POST /portal/messages/{thread_id}  reply

The messaging service decides who wrote a message, tenancy and the audit; a new clinic message
emits `message.sent`, whose push links to /portal/messages/{thread_id}.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from ortholens.auth.policy import Permission, allowed
from ortholens.auth.principals import Authorized, PatientPrincipal
from ortholens.http.deps import SessionDep, writes
from ortholens.messaging import repository as messaging_repository
from ortholens.messaging import service as messaging
from ortholens.messaging.schemas import MAX_MESSAGE_CHARS
from ortholens.models import Message, Patient, SenderType
from ortholens.patient import repository as patient_repository
from ortholens.patient import service as patient_service
from ortholens.web.auth import PageCsrf, PatientPage, RequirePagePermission
from ortholens.web.routing import PageResponse, PageRoute, PortalRoute, redirect
from ortholens.web.templating import render

router = APIRouter(include_in_schema=False, route_class=PageRoute, dependencies=[PageCsrf])
portal_router = APIRouter(include_in_schema=False, route_class=PortalRoute, dependencies=[PageCsrf])

Reader = Annotated[Authorized, RequirePagePermission(Permission.MESSAGES_READ)]
Writer = Annotated[Authorized, RequirePagePermission(Permission.MESSAGES_WRITE)]
Content = Annotated[str, Form(max_length=MAX_MESSAGE_CHARS * 2)]

MAX_SUBJECT_CHARS = 200  # as the API's ThreadCreate
NOTICES = {"sent": "Your message was sent.", "created": "The conversation was started."}


def check_content(content: str) -> str | None:
    """Why a message cannot be sent, or None when it can."""
    if not content.strip():
        return "Write a message first."
    if len(content) > MAX_MESSAGE_CHARS:
        return f"A message can be at most {MAX_MESSAGE_CHARS} characters."
    return None


def _unread_ids(messages: list[Message], *, for_patient: bool) -> set[uuid.UUID]:
    """Messages of the other side the reader has not opened yet."""
    return {
        m.id
        for m in messages
        if m.read_at is None and (m.sender_type is SenderType.PATIENT) != for_patient
    }


# ---- Staff -------------------------------------------------------------------------------------


@router.get("/messages")
def staff_inbox(
    request: Request,
    db: SessionDep,
    auth: Reader,
    patient: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """The clinic's conversations with patients, latest first (or one patient's)."""
    patient_id = _uuid_or_none(patient)
    summaries, _ = messaging.staff_threads(db, auth, patient_id, messaging.Page())
    patients = messaging_repository.thread_patients(
        db, [s.thread for s in summaries], auth.principal.clinic_scope
    )
    return render(
        request,
        "messages/inbox.html",
        {
            "summaries": summaries,
            "patients": patients,
            "filter_patient": patients.get(patient_id) if patient_id else None,
            "can_write": allowed(auth.principal.role, Permission.MESSAGES_WRITE),
        },
    )


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _new_thread_page(
    request: Request,
    patient: Patient,
    *,
    subject: str = "",
    content: str = "",
    back: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "messages/new.html",
        {
            "patient": patient,
            "subject": subject,
            "content": content,
            "back": back if back.startswith("/monitoring/sessions/") else "",
            "error": error,
            "max_subject": MAX_SUBJECT_CHARS,
            "max_message": MAX_MESSAGE_CHARS,
        },
        status_code=status_code,
    )


@router.get("/messages/new")
def new_thread_form(
    request: Request,
    db: SessionDep,
    auth: Writer,
    patient: Annotated[uuid.UUID, Query()],
    back: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The form to start a conversation with one patient."""
    row = patient_service.get_patient(db, auth.principal, patient)
    return _new_thread_page(request, row, back=back)


@router.post("/messages/new")
def create_thread(
    *,
    request: Request,
    db: SessionDep,
    auth: Writer,
    patient_id: Annotated[uuid.UUID, Form()],
    subject: Annotated[str, Form(max_length=MAX_SUBJECT_CHARS * 2)] = "",
    content: Content = "",
    back: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Open a thread with the patient and send its first message."""
    patient = patient_service.get_patient(db, auth.principal, patient_id)
    problem = check_content(content)
    if not subject.strip():
        problem = "Give the conversation a subject."
    elif len(subject.strip()) > MAX_SUBJECT_CHARS:
        problem = f"A subject can be at most {MAX_SUBJECT_CHARS} characters."
    if problem:
        page = _new_thread_page(
            request,
            patient,
            subject=subject,
            content=content,
            back=back,
            error=problem,
            status_code=422,
        )
        raise PageResponse(page)
    summary = messaging.create_thread(db, auth, patient.id, subject, content)
    return redirect(request, f"/messages/{summary.thread.id}?notice=created")


def _staff_thread_page(
    request: Request,
    db: SessionDep,
    auth: Authorized,
    thread_id: uuid.UUID,
    *,
    notice: str = "",
    draft: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    summary, messages, _ = messaging.staff_thread(db, auth, thread_id, messaging.WHOLE_THREAD)
    fresh = _unread_ids(messages, for_patient=False)
    for message_id in sorted(fresh):
        messaging.staff_mark_read(db, auth, message_id)
    return render(
        request,
        "messages/thread.html",
        {
            "thread": summary.thread,
            "patient": patient_repository.get(db, summary.thread.patient_id),
            "messages": messages,
            "fresh": fresh,
            "names": messaging_repository.sender_names(db, messages),
            "notice": NOTICES.get(notice),
            "draft": draft,
            "error": error,
            "can_write": allowed(auth.principal.role, Permission.MESSAGES_WRITE),
            "max_message": MAX_MESSAGE_CHARS,
        },
        status_code=status_code,
    )


@router.get("/messages/{thread_id}")
@writes  # opening the thread marks its new messages read
def staff_thread(
    request: Request, thread_id: uuid.UUID, db: SessionDep, auth: Reader, notice: str = ""
) -> Response:
    """One conversation; the patient's new messages count as read once it is open."""
    return _staff_thread_page(request, db, auth, thread_id, notice=notice)


@router.post("/messages/{thread_id}")
def staff_reply(
    request: Request, thread_id: uuid.UUID, db: SessionDep, auth: Writer, content: Content = ""
) -> Response:
    """Reply in the conversation (the patient gets a push notification)."""
    problem = check_content(content)
    if problem:
        page = _staff_thread_page(
            request, db, auth, thread_id, draft=content, error=problem, status_code=422
        )
        raise PageResponse(page)
    messaging.staff_send(db, auth, thread_id, content)
    return redirect(request, f"/messages/{thread_id}?notice=sent#latest")


# ---- Patient portal ----------------------------------------------------------------------------


@portal_router.get("/portal/messages")
def portal_inbox(request: Request, db: SessionDep, principal: PatientPage) -> Response:
    """The patient's conversations with their practice, with unread badges."""
    return render(
        request,
        "portal/messages.html",
        {"summaries": messaging.patient_threads(db, principal)},
    )


def _portal_thread_page(
    request: Request,
    db: SessionDep,
    principal: PatientPrincipal,
    thread_id: uuid.UUID,
    *,
    notice: str = "",
    draft: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    summary, messages, _ = messaging.patient_thread(
        db, principal, thread_id, messaging.WHOLE_THREAD
    )
    fresh = _unread_ids(messages, for_patient=True)
    for message_id in sorted(fresh):
        messaging.patient_mark_read(db, principal, message_id)
    context: dict[str, Any] = {
        "thread": summary.thread,
        "messages": messages,
        "fresh": fresh,
        "names": messaging_repository.sender_names(db, messages),
        "notice": NOTICES.get(notice),
        "draft": draft,
        "error": error,
        "max_message": MAX_MESSAGE_CHARS,
    }
    return render(request, "portal/thread.html", context, status_code=status_code)


@portal_router.get("/portal/messages/{thread_id}")
@writes  # opening the thread marks its new messages read
def portal_thread(
    request: Request, thread_id: uuid.UUID, db: SessionDep, principal: PatientPage, notice: str = ""
) -> Response:
    """One conversation; opening it marks the practice's messages read."""
    return _portal_thread_page(request, db, principal, thread_id, notice=notice)


@portal_router.post("/portal/messages/{thread_id}")
def portal_reply(
    request: Request,
    thread_id: uuid.UUID,
    db: SessionDep,
    principal: PatientPage,
    content: Content = "",
) -> Response:
    """The patient's reply."""
    problem = check_content(content)
    if problem:
        page = _portal_thread_page(
            request, db, principal, thread_id, draft=content, error=problem, status_code=422
        )
        raise PageResponse(page)
    messaging.patient_send(db, principal, thread_id, content)
    return redirect(request, f"/portal/messages/{thread_id}?notice=sent#latest")
