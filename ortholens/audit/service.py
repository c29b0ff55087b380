"""Recording audit events in the caller's transaction, and verifying the chains."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ortholens.audit import repository
from ortholens.audit.chain import GENESIS_HASH, ChainBreak, ChainRow, event_hash, verify_chain
from ortholens.kit.db import defer_on_rollback, utcnow
from ortholens.kit.request_context import current_request
from ortholens.models import ActorType, AuditEvent, AuditOutcome

SYSTEM_CHAIN = "system"
HASHED_FIELDS = (
    "chain",
    "seq",
    "at",
    "clinic_id",
    "actor_type",
    "actor_id",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "ip",
    "request_id",
    "details",
)


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
) -> AuditEvent:
    """Append an event to its clinic's chain in `session`'s transaction (commits with the action).

    `details` must hold ids, counts and codes only: never names, e-mails, tokens or passwords.
    """
    clinic = clinic_id if clinic_id is not None else actor.clinic_id
    chain = chain_for(clinic)
    repository.lock_chain(session, chain)
    last = repository.last_link(session, chain)
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    info = current_request()
    event = AuditEvent(
        chain=chain,
        seq=seq,
        at=utcnow(),
        clinic_id=clinic,
        actor_type=actor.type,
        actor_id=actor.id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        outcome=outcome,
        ip=info.ip,
        request_id=info.request_id,
        details=details or {},
        prev_hash=prev_hash,
    )
    event.hash = event_hash(fields_of(event), prev_hash)
    session.add(event)
    session.flush()
    return event


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
