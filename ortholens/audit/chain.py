"""Hashing for the audit chain.

Each event's hash is SHA-256 over a canonical JSON encoding of all its fields plus the previous
event's hash. Changing any field of a stored row, deleting a row or moving rows around makes
`verify_chain` report the first place the chain no longer holds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        # Microsecond UTC text: both SQLite and PostgreSQL give back exactly what was stored.
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return str(value)


def event_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """The hash of one event given its fields (everything but `hash` itself) and its predecessor."""
    document = {"prev_hash": prev_hash, **{k: _canonical(v) for k, v in fields.items()}}
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    chain: str
    seq: int
    reason: str


@dataclass(frozen=True)
class ChainRow:
    """What verification needs of a stored row."""

    chain: str
    seq: int
    fields: dict[str, Any]
    prev_hash: str
    hash: str


def verify_chain(rows: Iterable[ChainRow]) -> tuple[int, list[ChainBreak]]:
    """Check rows of one chain in `seq` order; returns how many were read and every break found."""
    expected_seq, previous = 1, GENESIS_HASH
    count = 0
    breaks: list[ChainBreak] = []
    for row in rows:
        count += 1
        if row.seq != expected_seq:
            breaks.append(
                ChainBreak(row.chain, row.seq, f"expected event {expected_seq}: rows are missing")
            )
        if row.prev_hash != previous:
            breaks.append(ChainBreak(row.chain, row.seq, "does not link to the event before it"))
        if event_hash(row.fields, row.prev_hash) != row.hash:
            breaks.append(ChainBreak(row.chain, row.seq, "its contents were changed"))
        expected_seq, previous = row.seq + 1, row.hash
    return count, breaks
