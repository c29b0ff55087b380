"""What a process shares (database, object store, job queue, settings, secrets), as a protocol.

The composition layer (`ortholens.runtime.Runtime`) builds the real thing once; the web app keeps it
on `app.state.runtime` and job handlers receive it as `ctx.resources`. Code below the composition
layer names this protocol and is handed the resources; it never imports the runtime.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ortholens.kit.isolation import DecoderPool
from ortholens.kit.jobs import JobQueue
from ortholens.kit.secrets import Secrets
from ortholens.kit.storage import ObjectStore
from ortholens.settings import Settings


class Resources(Protocol):
    """The shared resources of one process; read-only to everything but the composition layer."""

    @property
    def settings(self) -> Settings: ...

    @property
    def secrets(self) -> Secrets: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def session_factory(self) -> sessionmaker[Session]: ...

    @property
    def store(self) -> ObjectStore: ...

    @property
    def queue(self) -> JobQueue: ...

    @property
    def decoders(self) -> DecoderPool:
        """Where untrusted bytes are decoded: `decoders.run(func, *args)` (see kit.isolation)."""
        ...
