from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ortholens.kit.db import Base, IdMixin, TimestampMixin
from ortholens.models.enums import Role, str_enum


class User(IdMixin, TimestampMixin, Base):
    """A staff member. A super admin spans clinics; everyone else belongs to exactly one."""

    __tablename__ = "users"

    clinic_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clinics.id", ondelete="RESTRICT"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    password_hash: Mapped[str] = mapped_column(String(200))
    # TOTP secret, encrypted with the storage key (see ortholens.auth.mfa); set once enrolled.
    mfa_secret: Mapped[str | None] = mapped_column(String(300))
    mfa_enabled_at: Mapped[datetime | None]
    # Bumped on logout-everywhere, password or role change: older tokens stop working at once.
    token_version: Mapped[int] = mapped_column(default=0)
    disabled_at: Mapped[datetime | None]
