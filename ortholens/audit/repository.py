"""All SQL of the audit log."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from ortholens.models import AuditEvent, AuditOutcome


def lock_chain(session: Session, chain: str) -> None:
    """Serialize appends to one chain until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock per chain. SQLite needs nothing more: appends
    run only in write transactions (a read's go to the audit writer's), which start with BEGIN
    IMMEDIATE and so already run alone.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(chain.encode()) - 2**31  # fits the signed 32-bit lock key space
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def last_link(session: Session, chain: str) -> tuple[int, str] | None:
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.chain == chain)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert linked events in one multi-row statement (no ORM objects: a gallery page has 30)."""
    if rows:
        session.execute(insert(AuditEvent), rows)


def chains(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.chain).distinct().order_by(AuditEvent.chain)))


def iter_chain(session: Session, chain: str, batch: int = 1000) -> Iterator[AuditEvent]:
    after = 0
    while True:
        rows = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.chain == chain, AuditEvent.seq > after)
                .order_by(AuditEvent.seq)
                .limit(batch)
            )
        )
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq


def list_events(
    session: Session,
    *,
    clinic_id: uuid.UUID,
    action: str | None = None,
    actor_id: uuid.UUID | None = None,
    target_id: uuid.UUID | None = None,
    outcome: AuditOutcome | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[AuditEvent]:
    """A clinic's events, newest first, filtered; `before_seq` is the pagination cursor."""
    query = select(AuditEvent).where(AuditEvent.clinic_id == clinic_id)
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    if actor_id:
        query = query.where(AuditEvent.actor_id == actor_id)
    if target_id:
        query = query.where(AuditEvent.target_id == target_id)
    if outcome:
        query = query.where(AuditEvent.outcome == outcome)
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    if before_seq:
        query = query.where(AuditEvent.seq < before_seq)
    return list(session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit)))
