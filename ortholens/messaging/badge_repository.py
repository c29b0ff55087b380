"""The patient portal's unread badge: one count, read on every portal page (the bottom bar)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ortholens.messaging.repository import STAFF_SENDERS
from ortholens.models import Message, MessageThread


def unread_for_patient(session: Session, patient_id: uuid.UUID) -> int:
    """Messages from the clinic to this patient that the patient has not opened yet."""
    query = (
        select(func.count())
        .select_from(Message)
        .join(MessageThread, MessageThread.id == Message.thread_id)
        .where(
            MessageThread.patient_id == patient_id,
            Message.read_at.is_(None),
            Message.sender_type.in_(STAFF_SENDERS),
        )
    )
    return int(session.scalar(query) or 0)
