from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ortholens.kit.db import Base, IdMixin, TimestampMixin
from ortholens.models.enums import PendingScanStatus, str_enum


class PendingScan(IdMixin, TimestampMixin, Base):
    """One arch of an imported scan whose metadata named no known patient (seed 001: "held in a
    pending queue"). A person assigns it to a patient, which turns it into an `Image`, or discards it.

    Arches that arrived together share `scan_set_id`, so assigning one set keeps the bite linked.
    """

    __tablename__ = "pending_scans"

    clinic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[PendingScanStatus] = mapped_column(
        str_enum(PendingScanStatus), default=PendingScanStatus.PENDING, index=True
    )
    scan_set_id: Mapped[uuid.UUID] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(20))
    source_name: Mapped[str] = mapped_column(String(300))
    original_key: Mapped[str] = mapped_column(String(512), unique=True)
    original_sha256: Mapped[str] = mapped_column(String(64))
    original_size: Mapped[int] = mapped_column(BigInteger)
    scan_format: Mapped[str] = mapped_column(String(10))
    scanner_type: Mapped[str | None] = mapped_column(String(20))
    arch: Mapped[str | None] = mapped_column(String(10))
    arch_confidence: Mapped[float | None]
    # What the scanner's files said (patient name and chart number included: the matching evidence).
    scanner_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    external_ref: Mapped[str | None] = mapped_column(String(200), index=True)
    imported_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    image_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"))
