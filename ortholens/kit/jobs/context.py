"""What a running job handler gets: its session, progress reporting, and the shared resources."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker


@dataclass
class JobContext:
    """Handed to every job handler.

    `session` is the job's own transaction: what the handler writes there commits together with the
    job's success, exactly once. On SQLite that transaction holds the write lock from its first
    statement, so read inputs through `snapshot()` and do slow work before touching `session`.
    """

    job_id: uuid.UUID
    attempt: int
    session: Session
    resources: Any
    _session_factory: sessionmaker[Session]
    _report: Callable[[float, str | None], None] = field(repr=False)

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Record progress in [0, 1] with an optional short message (no PHI) for the UI and CLI."""
        self._report(min(max(fraction, 0.0), 1.0), message)

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A short read-only session for loading inputs; closed (and its lock released) on exit."""
        session = self._session_factory()
        try:
            yield session
        finally:
            session.rollback()
            session.close()
