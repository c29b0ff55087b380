from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ortholens.kit.db import Base, TimestampMixin


class RateLimitBucket(TimestampMixin, Base):
    """Failure counts per key (a keyed hash of an account name, or a client address), shared by
    every API replica through the database."""

    __tablename__ = "rate_limit_buckets"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_started_at: Mapped[datetime]
    failures: Mapped[int] = mapped_column(default=0)
    blocked_until: Mapped[datetime | None]
