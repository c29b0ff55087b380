from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from ortholens.kit.db import Base, IdMixin, TimestampMixin


class TagSet(IdMixin, TimestampMixin, Base):
    """The doctor's review of one scan session (seed 004 section 3); at most one per session.

    Values follow DOMAIN.md "Remote-monitoring review vocabulary"; what the AI suggested is kept
    apart in `ai_tag_suggestions`, and `ai_overridden` says whether the doctor changed it.
    """

    __tablename__ = "tag_sets"

    clinic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), index=True
    )
    scan_session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("scan_sessions.id", ondelete="CASCADE"), unique=True
    )
    overall_tracking: Mapped[int]
    oral_hygiene: Mapped[int]
    detail_tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    ai_suggested: Mapped[bool] = mapped_column(default=False)
    ai_overridden: Mapped[bool] = mapped_column(default=False)
    ai_suggestion_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ai_tag_suggestions.id", ondelete="SET NULL")
    )
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
