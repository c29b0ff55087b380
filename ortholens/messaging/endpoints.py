"""Seed 004 section 4: staff threads and messages under /api/messaging, the patient's under
/api/patient/messages."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from ortholens.auth.deps import Authorized, CurrentPatient, RequirePermission
from ortholens.auth.policy import Permission
from ortholens.http.deps import SessionDep
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


def _with_messages(summary: service.ThreadSummary, messages: list[Message]) -> ThreadWithMessages:
    return ThreadWithMessages(
        **_thread(summary).model_dump(),
        messages=[MessageRead.model_validate(m) for m in messages],
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
    auth: Reader,
    db: SessionDep,
    patient_id: Annotated[uuid.UUID | None, Query(alias="patientId")] = None,
) -> list[ThreadRead]:
    """The clinic's threads, latest first, each with its count of unread patient messages."""
    return [_thread(s) for s in service.staff_threads(db, auth, patient_id)]


@router.get("/api/messaging/threads/{thread_id}", response_model=ThreadWithMessages)
def get_thread(thread_id: uuid.UUID, auth: Reader, db: SessionDep) -> ThreadWithMessages:
    return _with_messages(*service.staff_thread(db, auth, thread_id))


@router.patch("/api/messaging/messages/{message_id}/read", response_model=MessageRead)
def staff_mark_read(message_id: uuid.UUID, auth: Reader, db: SessionDep) -> MessageRead:
    """Mark a patient's message as read by the clinic."""
    return MessageRead.model_validate(service.staff_mark_read(db, auth, message_id))


@router.get("/api/patient/messages", response_model=list[ThreadRead])
def patient_threads(principal: CurrentPatient, db: SessionDep) -> list[ThreadRead]:
    """Your threads with the clinic, each with its count of unread clinic messages."""
    return [_thread(s) for s in service.patient_threads(db, principal)]


@router.get("/api/patient/messages/{thread_id}", response_model=ThreadWithMessages)
def patient_thread(
    thread_id: uuid.UUID, principal: CurrentPatient, db: SessionDep
) -> ThreadWithMessages:
    return _with_messages(*service.patient_thread(db, principal, thread_id))


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
