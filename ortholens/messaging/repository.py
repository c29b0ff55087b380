"""Message queries. Unread means: no `read_at`, sent by the other side."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from ortholens.models import Message, MessageThread, Patient, SenderType, User

STAFF_SENDERS = (SenderType.DOCTOR, SenderType.STAFF)


Keyset = tuple[datetime, uuid.UUID]


def threads_query(
    *,
    clinic_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    after: Keyset | None = None,
    limit: int = 100,
) -> Select[MessageThread]:
    """Threads, latest activity first in (updated_at, id), after the (updated_at, id) `after`:
    ix_message_threads_clinic_updated or ix_message_threads_patient_updated."""
    query = (
        select(MessageThread)
        .order_by(MessageThread.updated_at.desc(), MessageThread.id.desc())
        .limit(limit)
    )
    if clinic_id is not None:
        query = query.where(MessageThread.clinic_id == clinic_id)
    if patient_id is not None:
        query = query.where(MessageThread.patient_id == patient_id)
    if after is not None:
        at, last_id = after
        query = query.where(
            or_(
                MessageThread.updated_at < at,
                and_(MessageThread.updated_at == at, MessageThread.id < last_id),
            )
        )
    return query


def threads(
    session: Session,
    *,
    clinic_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    after: Keyset | None = None,
    limit: int = 100,
) -> list[MessageThread]:
    """A page of threads of a clinic or a patient, latest activity first."""
    query = threads_query(clinic_id=clinic_id, patient_id=patient_id, after=after, limit=limit)
    return list(session.scalars(query))


def unread_counts(
    session: Session, thread_ids: Sequence[uuid.UUID], *, for_patient: bool
) -> dict[uuid.UUID, int]:
    """Per thread, how many messages the reader has not read: a patient reads the clinic's
    messages, the clinic reads the patient's."""
    if not thread_ids:
        return {}
    senders = STAFF_SENDERS if for_patient else (SenderType.PATIENT,)
    rows = session.execute(
        select(Message.thread_id, func.count())
        .where(
            Message.thread_id.in_(thread_ids),
            Message.read_at.is_(None),
            Message.sender_type.in_(senders),
        )
        .group_by(Message.thread_id)
    )
    return {thread_id: count for thread_id, count in rows}


def last_messages(session: Session, thread_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Message]:
    if not thread_ids:
        return {}
    latest = (
        select(Message.thread_id, func.max(Message.created_at).label("at"))
        .where(Message.thread_id.in_(thread_ids))
        .group_by(Message.thread_id)
        .subquery()
    )
    rows = session.scalars(
        select(Message).join(
            latest, (Message.thread_id == latest.c.thread_id) & (Message.created_at == latest.c.at)
        )
    )
    return {message.thread_id: message for message in rows}


def messages_query(
    thread_id: uuid.UUID, *, after: Keyset | None = None, limit: int = 200
) -> Select[Message]:
    """A thread's messages, oldest first in (created_at, id), after the (created_at, id) `after`:
    ix_messages_thread_created."""
    query = (
        select(Message)
        .where(Message.thread_id == thread_id)
        .order_by(Message.created_at, Message.id)
        .limit(limit)
    )
    if after is not None:
        at, last_id = after
        query = query.where(
            or_(Message.created_at > at, and_(Message.created_at == at, Message.id > last_id))
        )
    return query


def messages(
    session: Session, thread_id: uuid.UUID, *, after: Keyset | None = None, limit: int = 200
) -> list[Message]:
    """A page of a thread's messages, oldest first, after `after`."""
    return list(session.scalars(messages_query(thread_id, after=after, limit=limit)))


def recent_messages_query(clinic_id: uuid.UUID | None, limit: int) -> Select[Message]:
    """The latest messages, newest first in (created_at, id): ix_messages_clinic_created."""
    query = select(Message).order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
    if clinic_id is not None:
        query = query.where(Message.clinic_id == clinic_id)
    return query


def recent_messages(session: Session, clinic_id: uuid.UUID | None, limit: int) -> list[Message]:
    """The clinic's (None: every clinic's) latest messages, newest first."""
    return list(session.scalars(recent_messages_query(clinic_id, limit)))


def thread_patients(
    session: Session, threads: Sequence[MessageThread], clinic_id: uuid.UUID | None
) -> dict[uuid.UUID, Patient]:
    """The patients the threads are with, by id, in one query (limited to `clinic_id` when given:
    None is a super admin)."""
    ids = {thread.patient_id for thread in threads}
    if not ids:
        return {}
    query = select(Patient).where(Patient.id.in_(ids))
    if clinic_id is not None:
        query = query.where(Patient.clinic_id == clinic_id)
    return {patient.id: patient for patient in session.scalars(query)}


def sender_names(session: Session, messages: Sequence[Message]) -> dict[uuid.UUID, str]:
    """The names of the staff members who wrote `messages`, by user id, in one query (staff
    names are no patient data)."""
    ids = {m.sender_user_id for m in messages if m.sender_user_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.full_name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}
