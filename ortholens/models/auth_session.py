from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ortholens.kit.db import Base, IdMixin, TimestampMixin
from ortholens.models.enums import SubjectType, str_enum


class AuthSession(IdMixin, TimestampMixin, Base):
    """One sign-in (a refresh-token family). Access tokens name it in `sid`; revoking it ends
    every token of the family at once, including unexpired access tokens."""

    __tablename__ = "auth_sessions"

    subject_type: Mapped[SubjectType] = mapped_column(str_enum(SubjectType))
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    patient_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    clinic_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(50))
