from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from ortholens.kit.db import Base, IdMixin, TimestampMixin
from ortholens.models.enums import ScanSessionStatus, str_enum


class ScanSession(IdMixin, TimestampMixin, Base):
    """One remote-monitoring check-in by a patient (seed 004): the photos of one sitting."""

    __tablename__ = "scan_sessions"
    # The review queue, oldest first, of one status (the queue is PENDING) or of all of them.
    __table_args__ = (
        Index("ix_scan_sessions_clinic_status_created", "clinic_id", "status", "created_at", "id"),
        Index("ix_scan_sessions_clinic_created", "clinic_id", "created_at", "id"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), index=True
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ScanSessionStatus] = mapped_column(
        str_enum(ScanSessionStatus), default=ScanSessionStatus.PENDING, index=True
    )
    image_count: Mapped[int] = mapped_column(default=0)
    # The view codes the session's protocol asks for, copied so a later protocol edit changes nothing.
    expected_views: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # When the patient sent the check-in ("Send photos"); until then it is not in the review queue.
    submitted_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
