from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ortholens.kit.db import Base, IdMixin, TimestampMixin


class PhotoProtocol(IdMixin, TimestampMixin, Base):
    """A named photo series defined by a clinic (the built-in series live in code)."""

    __tablename__ = "photo_protocols"
    __table_args__ = (UniqueConstraint("clinic_id", "name"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    slots: Mapped[list[ProtocolSlot]] = relationship(
        order_by="ProtocolSlot.position", cascade="all, delete-orphan", lazy="raise"
    )


class ProtocolSlot(IdMixin, TimestampMixin, Base):
    """One view of a protocol, in order."""

    __tablename__ = "protocol_slots"
    __table_args__ = (UniqueConstraint("protocol_id", "view_code"),)

    protocol_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("photo_protocols.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    view_code: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(120))
    required: Mapped[bool] = mapped_column(default=True)
