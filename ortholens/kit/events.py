"""In-process domain events: a domain says what happened (`scan.reviewed`), listeners in other
domains react, and neither imports the other.

Listeners run synchronously inside the emitting transaction, so whatever they write (typically a
job request, which is sent only after commit) commits or rolls back with the event's cause. Slow or
fallible work belongs in the job, never in the listener.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

Listener = Callable[..., None]

_LISTENERS: dict[str, list[Listener]] = {}


def on(event: str) -> Callable[[Listener], Listener]:
    """Register `func(session, **payload)` to run whenever `event` is emitted."""

    def register(func: Listener) -> Listener:
        listeners = _LISTENERS.setdefault(event, [])
        if func not in listeners:
            listeners.append(func)
        return func

    return register


def emit(session: Session, event: str, **payload: Any) -> None:
    """Tell every listener of `event`, in registration order, within `session`'s transaction."""
    for listener in _LISTENERS.get(event, []):
        listener(session, **payload)


def listeners(event: str) -> list[Listener]:
    return list(_LISTENERS.get(event, []))
