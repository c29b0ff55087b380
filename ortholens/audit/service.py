"""Recording audit events with the caller's transaction, and verifying the chains."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ortholens.audit import repository
from ortholens.audit.chain import ChainBreak, ChainRow, verify_chain
from ortholens.audit.writer import HASHED_FIELDS, PendingEvent, append_events, writer_for
from ortholens.kit.db import after_read_commit, defer_on_rollback, is_read_transaction
from ortholens.kit.request_context import current_request
from ortholens.models import ActorType, AuditEvent, AuditOutcome

SYSTEM_CHAIN = "system"


@dataclass(frozen=True)
class Actor:
    type: ActorType
    id: uuid.UUID | None = None
    clinic_id: uuid.UUID | None = None


SYSTEM = Actor(ActorType.SYSTEM)
ANONYMOUS = Actor(ActorType.ANONYMOUS)


def chain_for(clinic_id: uuid.UUID | None) -> str:
    return f"clinic:{clinic_id}" if clinic_id else SYSTEM_CHAIN


def fields_of(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in HASHED_FIELDS}


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    clinic_id: uuid.UUID | None = None,
    target_type: str | None = None,
    target_id: uuid.UUID | None = None,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    details: dict[str, Any] | None = None,
) -> None:
    """Append an event to its clinic's chain with `session`'s transaction.

    In a write transaction the event commits with the action; in a read transaction (a GET) it is
    handed, once the read has committed, to the process's group commit (`writer.AuditWriter`),
    and the request answers only when that batch has committed, so readers never queue on a
    chain's lock one by one. `details` must hold ids, counts and codes only: never names,
    e-mails, tokens or passwords.
    """
    clinic = clinic_id if clinic_id is not None else actor.clinic_id
    info = current_request()
    # The request's ip and id are taken now: its context may be gone by the time a read appends.
    event: PendingEvent = {
        "chain": chain_for(clinic),
        "clinic_id": clinic,
        "actor_type": actor.type,
        "actor_id": actor.id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "outcome": outcome,
        "ip": info.ip,
        "request_id": info.request_id,
        "details": details or {},
    }
    if not is_read_transaction(session):
        append_events(session, [event])
        return
    after_read_commit(session, _hand_over).append(event)


def _hand_over(factory: sessionmaker[Session], events: list[PendingEvent]) -> None:
    # The read has committed; its events go to the group commit and this request waits for it.
    writer_for(factory).append(events)


def record_denied(
    session: Session,
    actor: Actor,
    action: str,
    *,
    clinic_id: uuid.UUID | None = None,
    target_type: str | None = None,
    target_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
    outcome: AuditOutcome = AuditOutcome.DENIED,
) -> None:
    """Record a refused attempt. The request is about to fail and roll back, so the event is
    written in its own transaction right after that rollback."""

    def write(after: Session) -> None:
        record(
            after,
            actor,
            action,
            clinic_id=clinic_id,
            target_type=target_type,
            target_id=target_id,
            outcome=outcome,
            details=details,
        )

    defer_on_rollback(session, write)


@dataclass(frozen=True)
class VerifyReport:
    chains: int
    events: int
    breaks: list[ChainBreak]
    heads: dict[str, tuple[int, str]]


def verify_all(session: Session) -> VerifyReport:
    """Verify every chain; `heads` gives the last (seq, hash) of each, to note down elsewhere."""
    events = 0
    breaks: list[ChainBreak] = []
    heads: dict[str, tuple[int, str]] = {}
    for chain in repository.chains(session):
        rows = [
            ChainRow(e.chain, e.seq, fields_of(e), e.prev_hash, e.hash)
            for e in repository.iter_chain(session, chain)
        ]
        count, found = verify_chain(rows)
        events += count
        breaks.extend(found)
        if rows:
            heads[chain] = (rows[-1].seq, rows[-1].hash)
    return VerifyReport(chains=len(heads), events=events, breaks=breaks, heads=heads)
