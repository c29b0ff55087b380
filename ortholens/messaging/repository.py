"""Message queries. Unread means: no `read_at`, sent by the other side."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ortholens.models import Message, MessageThread, SenderType

STAFF_SENDERS = (SenderType.DOCTOR, SenderType.STAFF)


def threads(
    session: Session,
    *,
    clinic_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    limit: int = 100,
) -> list[MessageThread]:
    query = select(MessageThread).order_by(MessageThread.updated_at.desc()).limit(limit)
    if clinic_id is not None:
        query = query.where(MessageThread.clinic_id == clinic_id)
    if patient_id is not None:
        query = query.where(MessageThread.patient_id == patient_id)
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


def messages(session: Session, thread_id: uuid.UUID) -> list[Message]:
    return list(
        session.scalars(
            select(Message)
            .where(Message.thread_id == thread_id)
            .order_by(Message.created_at, Message.id)
        )
    )


def recent_messages(session: Session, clinic_id: uuid.UUID | None, limit: int) -> list[Message]:
    query = select(Message).order_by(Message.created_at.desc()).limit(limit)
    if clinic_id is not None:
        query = query.where(Message.clinic_id == clinic_id)
    return list(session.scalars(query))
