"""Seed 004 section 4: staff threads and messages under /api/messaging, the patient's under
/api/patient/messages."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from ortholens.auth.deps import CurrentPatient, RequirePermission
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.http.deps import SessionDep
from ortholens.kit.paging import CURSOR_PATTERN
from ortholens.messaging import service
from ortholens.messaging.schemas import (
    MessageCreate,
    MessageRead,
    ThreadCreate,
    ThreadRead,
    ThreadWithMessages,
)
from ortholens.models import Message

router = APIRouter(tags=["messaging"])
Reader = Annotated[Authorized, RequirePermission(Permission.MESSAGES_READ)]
Writer = Annotated[Authorized, RequirePermission(Permission.MESSAGES_WRITE)]
Cursor = Annotated[
    str | None,
    Query(max_length=200, pattern=CURSOR_PATTERN, description="From the previous page."),
]
ThreadLimit = Annotated[int, Query(ge=1, le=100)]
MessageLimit = Annotated[int, Query(ge=1, le=500)]
# The thread lists answer a JSON array (seed 004); the next page's cursor rides in this header.
NEXT_CURSOR_HEADER = "X-Next-Cursor"


def _with_next(response: Response, next_cursor: str | None) -> None:
    if next_cursor is not None:
        response.headers[NEXT_CURSOR_HEADER] = next_cursor


def _thread(summary: service.ThreadSummary) -> ThreadRead:
    thread = summary.thread
    return ThreadRead(
        id=thread.id,
        patient_id=thread.patient_id,
        subject=thread.subject,
        created_at=thread.created_at,
        updated_at=thread.updated_at,
        unread_count=summary.unread_count,
        last_message=MessageRead.model_validate(summary.last_message)
        if summary.last_message
        else None,
    )


def _with_messages(
    summary: service.ThreadSummary, messages: list[Message], next_cursor: str | None
) -> ThreadWithMessages:
    return ThreadWithMessages(
        **_thread(summary).model_dump(),
        messages=[MessageRead.model_validate(m) for m in messages],
        next_cursor=next_cursor,
    )


@router.post("/api/messaging/threads", response_model=ThreadRead, status_code=201)
def create_thread(body: ThreadCreate, auth: Writer, db: SessionDep) -> ThreadRead:
    """Open a thread with a patient of your clinic (optionally with a first message)."""
    return _thread(service.create_thread(db, auth, body.patient_id, body.subject, body.content))


@router.post("/api/messaging/messages", response_model=MessageRead, status_code=201)
def send_message(body: MessageCreate, auth: Writer, db: SessionDep) -> MessageRead:
    """Write in a thread; the sender type (DOCTOR or STAFF) is set from your role."""
    return MessageRead.model_validate(service.staff_send(db, auth, body.thread_id, body.content))


@router.get("/api/messaging/threads", response_model=list[ThreadRead])
def list_threads(
    *,
    auth: Reader,
    db: SessionDep,
    response: Response,
    patient_id: Annotated[uuid.UUID | None, Query(alias="patientId")] = None,
    cursor: Cursor = None,
    limit: ThreadLimit = 50,
) -> list[ThreadRead]:
    """The clinic's threads, latest first, each with its count of unread patient messages; the
    next page's cursor, if any, is in the `X-Next-Cursor` header."""
    summaries, next_cursor = service.staff_threads(
        db, auth, patient_id, service.Page(cursor, limit)
    )
    _with_next(response, next_cursor)
    return [_thread(s) for s in summaries]


@router.get("/api/messaging/threads/{thread_id}", response_model=ThreadWithMessages)
def get_thread(
    thread_id: uuid.UUID,
    auth: Reader,
    db: SessionDep,
    cursor: Cursor = None,
    limit: MessageLimit = 200,
) -> ThreadWithMessages:
    """A thread with a page of its messages, oldest first (`nextCursor` for the rest)."""
    page = service.Page(cursor, limit)
    return _with_messages(*service.staff_thread(db, auth, thread_id, page))


@router.patch("/api/messaging/messages/{message_id}/read", response_model=MessageRead)
def staff_mark_read(message_id: uuid.UUID, auth: Reader, db: SessionDep) -> MessageRead:
    """Mark a patient's message as read by the clinic."""
    return MessageRead.model_validate(service.staff_mark_read(db, auth, message_id))


@router.get("/api/patient/messages", response_model=list[ThreadRead])
def patient_threads(
    principal: CurrentPatient,
    db: SessionDep,
    response: Response,
    cursor: Cursor = None,
    limit: ThreadLimit = 50,
) -> list[ThreadRead]:
    """Your threads with the clinic, each with its count of unread clinic messages; the next
    page's cursor, if any, is in the `X-Next-Cursor` header."""
    summaries, next_cursor = service.patient_thread_page(db, principal, service.Page(cursor, limit))
    _with_next(response, next_cursor)
    return [_thread(s) for s in summaries]


@router.get("/api/patient/messages/{thread_id}", response_model=ThreadWithMessages)
def patient_thread(
    thread_id: uuid.UUID,
    principal: CurrentPatient,
    db: SessionDep,
    cursor: Cursor = None,
    limit: MessageLimit = 200,
) -> ThreadWithMessages:
    """One of your threads with a page of its messages, oldest first (`nextCursor` for the rest)."""
    page = service.Page(cursor, limit)
    return _with_messages(*service.patient_thread(db, principal, thread_id, page))


@router.patch("/api/patient/messages/{message_id}/read", response_model=MessageRead)
def patient_mark_read(
    message_id: uuid.UUID, principal: CurrentPatient, db: SessionDep
) -> MessageRead:
    return MessageRead.model_validate(service.patient_mark_read(db, principal, message_id))


@router.post("/api/patient/messages", response_model=MessageRead, status_code=201)
def patient_send(body: MessageCreate, principal: CurrentPatient, db: SessionDep) -> MessageRead:
    """Reply in one of your threads (the sender type is PATIENT)."""
    return MessageRead.model_validate(
        service.patient_send(db, principal, body.thread_id, body.content)
    )
