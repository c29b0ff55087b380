from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ortholens.kit.db import Base, IdMixin, TimestampMixin
from ortholens.models.enums import ConsentGrantor, ConsentKind, str_enum


class Consent(IdMixin, TimestampMixin, Base):
    """A consent a patient (or their guardian) gave; valid from `granted_at` until it expires or is
    revoked. Records are never edited: a renewal is a new row."""

    __tablename__ = "consents"

    clinic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), index=True
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ConsentKind] = mapped_column(str_enum(ConsentKind))
    granted_by: Mapped[ConsentGrantor] = mapped_column(str_enum(ConsentGrantor))
    guardian_name: Mapped[str | None] = mapped_column(String(200))
    granted_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
