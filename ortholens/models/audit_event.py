from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ortholens.kit.db import Base, IdMixin
from ortholens.models.enums import ActorType, AuditOutcome, str_enum


class AuditEvent(IdMixin, Base):
    """An append-only, hash-chained record of a PHI touch, sign-in or denied attempt.

    Each clinic has its own chain (`chain`), numbered by `seq`; `hash` covers every field and the
    previous row's hash, so an edited, deleted or reordered row breaks the chain
    (see `ortholens.audit.chain`). `details` carries ids and counts only, never PHI or secrets.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("chain", "seq"),
        Index("ix_audit_events_clinic_at", "clinic_id", "at"),
        # The audit trail pages a clinic's events newest first by `seq`.
        Index("ix_audit_events_clinic_seq", "clinic_id", "seq"),
    )

    chain: Mapped[str] = mapped_column(String(50))
    seq: Mapped[int]
    at: Mapped[datetime]
    clinic_id: Mapped[uuid.UUID | None]
    actor_type: Mapped[ActorType] = mapped_column(str_enum(ActorType))
    actor_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    outcome: Mapped[AuditOutcome] = mapped_column(str_enum(AuditOutcome))
    ip: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
