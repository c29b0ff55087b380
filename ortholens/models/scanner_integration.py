from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ortholens.kit.db import Base, IdMixin, TimestampMixin


class ScannerIntegration(IdMixin, TimestampMixin, Base):
    """A clinic's connection to a scanner vendor's cloud (seed 001), one per clinic and vendor.

    `credentials` is sealed (AES-GCM, bound to this row's clinic and vendor): OAuth tokens are as
    good as a password to the clinic's scans.
    """

    __tablename__ = "scanner_integrations"
    __table_args__ = (UniqueConstraint("clinic_id", "scanner_type"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), index=True
    )
    scanner_type: Mapped[str] = mapped_column(String(20))
    credentials: Mapped[str | None] = mapped_column(Text)
    last_sync_at: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    connected_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
