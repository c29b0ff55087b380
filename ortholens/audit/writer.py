"""Appending audit events to their chains, one request at a time or many at once (group commit).

A write transaction appends its events itself, so they commit with the write. A read transaction
(a GET) hands its events to the process's `AuditWriter` once the read has committed: whichever
request finds the writer idle becomes the leader and appends, in one transaction, the events of
every request that queued meanwhile; the others wait until that transaction has committed. So
every request still answers only after its events are durable, while a burst of readers costs
one chain lock, one look-up of each chain's last link and one multi-row insert per chain per
batch instead of a write transaction per request (and per gallery item).

Across processes the chain's lock (`repository.lock_chain`: an advisory lock on PostgreSQL,
SQLite's write lock) orders the batches, so no two appends link to the same predecessor.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ortholens.audit import repository
from ortholens.audit.chain import GENESIS_HASH, event_hash
from ortholens.kit.db import transaction, utcnow

# One event's row before it is linked: every column but seq, at, prev_hash and hash.
PendingEvent = dict[str, Any]


def append_events(session: Session, events: Iterable[PendingEvent]) -> None:
    """Link `events` (in the order given, per chain) to their chains in `session`'s transaction.

    Each chain's lock is taken in the chain's name order, so two batches touching the same chains
    never wait on each other in a cycle, and held until the transaction ends. The time is taken
    under the locks, so it never goes backwards along a chain.
    """
    by_chain: dict[str, list[PendingEvent]] = defaultdict(list)
    for pending in events:
        by_chain[pending["chain"]].append(pending)
    rows: list[dict[str, Any]] = []
    for chain in sorted(by_chain):
        repository.lock_chain(session, chain)
        last = repository.last_link(session, chain)
        seq, prev_hash = last if last else (0, GENESIS_HASH)
        at = utcnow()
        for pending in by_chain[chain]:
            seq += 1
            row = {**pending, "seq": seq, "at": at, "prev_hash": prev_hash}
            row["hash"] = prev_hash = event_hash(row_fields(row), prev_hash)
            row["id"] = uuid.uuid4()
            rows.append(row)
    repository.insert_events(session, rows)


def row_fields(row: dict[str, Any]) -> dict[str, Any]:
    """What the hash covers: every field but the row's id and the hashes themselves."""
    return {name: row[name] for name in HASHED_FIELDS}


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


@dataclass
class _Batch:
    events: list[PendingEvent] = field(default_factory=list)
    done: bool = False
    error: BaseException | None = None


class AuditWriter:
    """Group commit of the events of read transactions, for one session factory (database)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._changed = threading.Condition()
        self._pending = _Batch()
        self._writing = False

    def queued(self) -> int:
        """How many events wait for the next batch (the one after the batch being written)."""
        with self._changed:
            return len(self._pending.events)

    def append(self, events: list[PendingEvent]) -> None:
        """Append `events` in a batch with whatever else is queued; returns once it committed.

        Raises what the batch's transaction raised: no request answers as if its read had been
        recorded when it was not.
        """
        with self._changed:
            batch = self._pending
            batch.events.extend(events)
            while not batch.done and self._writing:
                self._changed.wait()
            if batch.done:
                if batch.error is not None:
                    raise batch.error
                return
            # The writer is idle and this batch has not been written: this request leads it.
            self._writing = True
            self._pending = _Batch()
        try:
            with transaction(self._factory) as session:
                append_events(session, batch.events)
        except BaseException as error:
            batch.error = error
            raise
        finally:
            with self._changed:
                batch.done = True
                self._writing = False
                self._changed.notify_all()


_writers: weakref.WeakKeyDictionary[sessionmaker[Session], AuditWriter] = (
    weakref.WeakKeyDictionary()
)
_writers_lock = threading.Lock()


def writer_for(factory: sessionmaker[Session]) -> AuditWriter:
    """The process's writer for `factory` (made on first use; gone with the factory)."""
    with _writers_lock:
        writer = _writers.get(factory)
        if writer is None:
            writer = _writers[factory] = AuditWriter(factory)
        return writer
