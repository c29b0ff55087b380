from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ortholens.kit.db import Base, IdMixin, TimestampMixin


class AiTagSuggestion(IdMixin, TimestampMixin, Base):
    """What an AI provider suggested for a scan session, already clamped to the vocabulary.

    Kept even when the doctor tags differently: it is the evidence behind `ai_overridden`.
    """

    __tablename__ = "ai_tag_suggestions"

    clinic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), index=True
    )
    scan_session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("scan_sessions.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(100))
    overall_tracking: Mapped[int | None]
    oral_hygiene: Mapped[int | None]
    detail_tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    confidence: Mapped[float | None]
    rationale: Mapped[str | None] = mapped_column(Text)
    cannot_judge: Mapped[bool] = mapped_column(default=False)
    cannot_judge_reason: Mapped[str | None] = mapped_column(Text)
    dropped_tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
