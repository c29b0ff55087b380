from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from ortholens.kit.db import Base, IdMixin, TimestampMixin
from ortholens.models.enums import SenderType, str_enum


class Message(IdMixin, TimestampMixin, Base):
    """One message of a thread. The server sets `sender_type` from who is signed in; `read_at` is
    set when the other side opens it (unread = no `read_at` and not sent by the reader)."""

    __tablename__ = "messages"
    # A thread's messages and the dashboard's latest messages, in keyset order (id breaks ties).
    __table_args__ = (
        Index("ix_messages_thread_created", "thread_id", "created_at", "id"),
        Index("ix_messages_clinic_created", "clinic_id", "created_at", "id"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), index=True
    )
    thread_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("message_threads.id", ondelete="CASCADE")
    )
    sender_type: Mapped[SenderType] = mapped_column(str_enum(SenderType))
    sender_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    content: Mapped[str] = mapped_column(Text)
    read_at: Mapped[datetime | None]
