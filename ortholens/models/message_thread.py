from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ortholens.kit.db import Base, IdMixin, TimestampMixin


class MessageThread(IdMixin, TimestampMixin, Base):
    """A conversation between a clinic and one patient (seed 004 section 4).

    `updated_at` moves with every new message so thread lists sort by latest activity.
    """

    __tablename__ = "message_threads"
    # Thread lists, latest activity first, of a clinic or of one patient (id breaks ties).
    __table_args__ = (
        Index("ix_message_threads_patient_updated", "patient_id", "updated_at", "id"),
        Index("ix_message_threads_clinic_updated", "clinic_id", "updated_at", "id"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), index=True
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
