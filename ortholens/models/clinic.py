from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from ortholens.kit.db import Base, IdMixin, TimestampMixin


class Clinic(IdMixin, TimestampMixin, Base):
    """A practice: the tenant every clinical row belongs to."""

    __tablename__ = "clinics"

    name: Mapped[str] = mapped_column(String(200))
    branding: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tagging_rate: Mapped[float | None]
    discount_tier: Mapped[int] = mapped_column(default=0)
