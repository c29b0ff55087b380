"""Messaging rules (seed 004 section 4).

The server decides who sent a message: a signed-in patient writes as PATIENT, a doctor as DOCTOR,
other staff as STAFF. A patient sees only their own threads (another patient's thread answers 404
exactly like a random id). A new message from the clinic emits `message.sent`, which the notify
domain turns into a push to the patient.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth.principals import Authorized, PatientPrincipal
from ortholens.clinic.tenancy import find_in_clinic
from ortholens.events import MESSAGE_SENT
from ortholens.kit import events
from ortholens.kit.db import utcnow
from ortholens.kit.errors import InvalidInput, NotFound
from ortholens.kit.paging import decode_cursor, encode_cursor
from ortholens.messaging import repository
from ortholens.messaging.schemas import MAX_MESSAGE_CHARS, MAX_SUBJECT_CHARS
from ortholens.models import Message, MessageThread, Role, SenderType
from ortholens.patient.service import find_patient

THREAD_NOT_FOUND = "No message thread with this id."
MESSAGE_NOT_FOUND = "No message with this id."


@dataclass(frozen=True)
class ThreadSummary:
    thread: MessageThread
    unread_count: int
    last_message: Message | None


@dataclass(frozen=True)
class Page:
    """Where a keyset page starts (`cursor`, from the previous page) and how long it is."""

    cursor: str | None = None
    limit: int = 100


# The thread pages show a conversation whole (up to this many messages) and mark it read.
WHOLE_THREAD = Page(limit=1000)


def _page_of_threads(
    db: Session, page: Page, *, clinic_id: uuid.UUID | None = None, patient_id: uuid.UUID | None
) -> tuple[list[MessageThread], str | None]:
    """A page of threads, latest activity first, and the cursor of the next (None at the end)."""
    after = decode_cursor(page.cursor) if page.cursor else None
    threads = repository.threads(
        db, clinic_id=clinic_id, patient_id=patient_id, after=after, limit=page.limit + 1
    )
    more, threads = len(threads) > page.limit, threads[: page.limit]
    last = threads[-1] if more and threads else None
    return threads, encode_cursor(last.updated_at, last.id) if last else None


def _page_of_messages(
    db: Session, thread: MessageThread, page: Page
) -> tuple[list[Message], str | None]:
    """A page of a thread's messages, oldest first, and the cursor of the next."""
    after = decode_cursor(page.cursor) if page.cursor else None
    messages = repository.messages(db, thread.id, after=after, limit=page.limit + 1)
    more, messages = len(messages) > page.limit, messages[: page.limit]
    last = messages[-1] if more and messages else None
    return messages, encode_cursor(last.created_at, last.id) if last else None


def _summaries(
    db: Session, threads: list[MessageThread], *, for_patient: bool
) -> list[ThreadSummary]:
    ids = [thread.id for thread in threads]
    unread = repository.unread_counts(db, ids, for_patient=for_patient)
    last = repository.last_messages(db, ids)
    return [ThreadSummary(t, unread.get(t.id, 0), last.get(t.id)) for t in threads]


def _audit(
    db: Session, actor: audit.Actor, action: str, thread: MessageThread, **details: object
) -> None:
    audit.record(
        db,
        actor,
        action,
        clinic_id=thread.clinic_id,
        target_type="message_thread",
        target_id=thread.id,
        details={"patient_id": str(thread.patient_id), **details},
    )


def _text(value: str, what: str, limit: int) -> str:
    """Trimmed text within its limit; the API's schemas say the same, pages rely on this."""
    text = value.strip()
    if not text:
        raise InvalidInput(f"The {what} is empty.")
    if len(text) > limit:
        raise InvalidInput(f"The {what} is too long (at most {limit} characters).")
    return text


def _add_message(
    db: Session,
    thread: MessageThread,
    sender_type: SenderType,
    sender_user_id: uuid.UUID | None,
    content: str,
) -> Message:
    message = Message(
        clinic_id=thread.clinic_id,
        thread_id=thread.id,
        sender_type=sender_type,
        sender_user_id=sender_user_id,
        content=_text(content, "message", MAX_MESSAGE_CHARS),
    )
    db.add(message)
    thread.updated_at = utcnow()  # threads sort by their latest message
    db.flush()
    events.emit(
        db,
        MESSAGE_SENT,
        message_id=message.id,
        thread_id=thread.id,
        patient_id=thread.patient_id,
        clinic_id=thread.clinic_id,
        sender_type=sender_type.value,
    )
    return message


def _staff_sender(auth: Authorized) -> SenderType:
    return SenderType.DOCTOR if auth.principal.role is Role.DOCTOR else SenderType.STAFF


# Staff side -------------------------------------------------------------------------------


def create_thread(
    db: Session, auth: Authorized, patient_id: uuid.UUID, subject: str, content: str | None
) -> ThreadSummary:
    """A new thread with a patient of the principal's clinic, with an optional first message."""
    patient = find_patient(db, auth.principal, patient_id, action="message_thread.create")
    thread = MessageThread(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        subject=_text(subject, "subject", MAX_SUBJECT_CHARS),
        created_by_id=auth.principal.user_id,
    )
    db.add(thread)
    db.flush()
    _audit(db, auth.principal.actor, "message_thread.create", thread)
    last = None
    if content and content.strip():
        last = _add_message(db, thread, _staff_sender(auth), auth.principal.user_id, content)
        _audit(db, auth.principal.actor, "message.create", thread, message_id=str(last.id))
    return ThreadSummary(thread, 0, last)


def _staff_thread(
    db: Session, auth: Authorized, thread_id: uuid.UUID, action: str
) -> MessageThread:
    return find_in_clinic(
        db,
        auth.principal,
        MessageThread,
        thread_id,
        action=action,
        target_type="message_thread",
        not_found=THREAD_NOT_FOUND,
    )


def staff_send(db: Session, auth: Authorized, thread_id: uuid.UUID, content: str) -> Message:
    thread = _staff_thread(db, auth, thread_id, "message.create")
    message = _add_message(db, thread, _staff_sender(auth), auth.principal.user_id, content)
    _audit(db, auth.principal.actor, "message.create", thread, message_id=str(message.id))
    return message


def staff_threads(
    db: Session, auth: Authorized, patient_id: uuid.UUID | None, page: Page
) -> tuple[list[ThreadSummary], str | None]:
    """A page of the clinic's threads, latest activity first, with the patient messages nobody
    has read, and the next page's cursor."""
    if patient_id is not None:
        find_patient(db, auth.principal, patient_id, action="message_thread.list")
    threads, next_cursor = _page_of_threads(
        db, page, clinic_id=auth.principal.clinic_scope, patient_id=patient_id
    )
    audit.record(
        db,
        auth.principal.actor,
        "message_thread.list",
        target_type="message_thread",
        details={"count": len(threads)},
    )
    return _summaries(db, threads, for_patient=False), next_cursor


def staff_thread(
    db: Session, auth: Authorized, thread_id: uuid.UUID, page: Page
) -> tuple[ThreadSummary, list[Message], str | None]:
    """A thread with a page of its messages (oldest first) and the next page's cursor."""
    thread = _staff_thread(db, auth, thread_id, "message_thread.read")
    _audit(db, auth.principal.actor, "message_thread.read", thread)
    return (
        _summaries(db, [thread], for_patient=False)[0],
        *_page_of_messages(db, thread, page),
    )


def staff_mark_read(db: Session, auth: Authorized, message_id: uuid.UUID) -> Message:
    """Mark a patient's message read by the clinic."""
    message = find_in_clinic(
        db,
        auth.principal,
        Message,
        message_id,
        action="message.read",
        target_type="message",
        not_found=MESSAGE_NOT_FOUND,
    )
    return _mark_read(db, auth.principal.actor, message, reader_is_patient=False)


def _mark_read(
    db: Session, actor: audit.Actor, message: Message, *, reader_is_patient: bool
) -> Message:
    # Only the other side's messages can be "read": your own message stays unread until they open it.
    from_other_side = (message.sender_type is SenderType.PATIENT) != reader_is_patient
    if from_other_side and message.read_at is None:
        message.read_at = utcnow()
        thread = db.get(MessageThread, message.thread_id)
        assert thread is not None
        _audit(db, actor, "message.read", thread, message_id=str(message.id))
    return message


# Patient side -----------------------------------------------------------------------------


def _patient_thread(
    db: Session, principal: PatientPrincipal, thread_id: uuid.UUID
) -> MessageThread:
    thread = db.get(MessageThread, thread_id)
    if thread is None or thread.patient_id != principal.patient_id:
        if thread is not None:
            audit.record_denied(
                db,
                principal.actor,
                "message_thread.read",
                target_type="message_thread",
                target_id=thread_id,
            )
        raise NotFound(THREAD_NOT_FOUND)
    return thread


def patient_threads(db: Session, principal: PatientPrincipal) -> list[ThreadSummary]:
    """The patient's latest threads (a first page), for the portal's pages."""
    return patient_thread_page(db, principal, Page())[0]


def patient_thread_page(
    db: Session, principal: PatientPrincipal, page: Page
) -> tuple[list[ThreadSummary], str | None]:
    """A page of the patient's threads, latest activity first, and the next page's cursor."""
    threads, next_cursor = _page_of_threads(db, page, patient_id=principal.patient_id)
    audit.record(
        db,
        principal.actor,
        "message_thread.list",
        target_type="patient",
        target_id=principal.patient_id,
        details={"count": len(threads)},
    )
    return _summaries(db, threads, for_patient=True), next_cursor


def patient_thread(
    db: Session, principal: PatientPrincipal, thread_id: uuid.UUID, page: Page
) -> tuple[ThreadSummary, list[Message], str | None]:
    """One of the patient's threads with a page of its messages and the next page's cursor."""
    thread = _patient_thread(db, principal, thread_id)
    _audit(db, principal.actor, "message_thread.read", thread)
    return (
        _summaries(db, [thread], for_patient=True)[0],
        *_page_of_messages(db, thread, page),
    )


def patient_send(
    db: Session, principal: PatientPrincipal, thread_id: uuid.UUID, content: str
) -> Message:
    thread = _patient_thread(db, principal, thread_id)
    message = _add_message(db, thread, SenderType.PATIENT, None, content)
    _audit(db, principal.actor, "message.create", thread, message_id=str(message.id))
    return message


def patient_mark_read(db: Session, principal: PatientPrincipal, message_id: uuid.UUID) -> Message:
    message = db.get(Message, message_id)
    if message is None:
        raise NotFound(MESSAGE_NOT_FOUND)
    thread = db.get(MessageThread, message.thread_id)
    if thread is None or thread.patient_id != principal.patient_id:
        audit.record_denied(
            db, principal.actor, "message.read", target_type="message", target_id=message_id
        )
        raise NotFound(MESSAGE_NOT_FOUND)
    return _mark_read(db, principal.actor, message, reader_is_patient=True)
