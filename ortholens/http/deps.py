"""`Annotated` dependencies so that a route's signature states what it needs.

The resources come from `app.state.runtime`, which the composition layer sets; this module knows
them only as `kit.resources.Resources`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ortholens.kit.db import transaction
from ortholens.kit.isolation import DecoderPool
from ortholens.kit.resources import Resources
from ortholens.kit.storage import ObjectStore
from ortholens.settings import Settings


def get_runtime(request: Request) -> Resources:
    """The process's shared resources, as the app factory left them on `app.state`."""
    resources: Resources = request.app.state.runtime
    return resources


RuntimeDep = Annotated[Resources, Depends(get_runtime)]


def get_settings_dep(runtime: RuntimeDep) -> Settings:
    return runtime.settings


def get_store(runtime: RuntimeDep) -> ObjectStore:
    return runtime.store


# Methods whose requests change nothing (RFC 9110 safe methods), unless the endpoint says `writes`.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITES = "__ortholens_writes__"

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def writes(endpoint: Endpoint) -> Endpoint:
    """Mark a GET endpoint that writes rows (a refresh hop): its request gets a write transaction.

    Put it under the route decorator. Without it a GET runs in a read transaction, which on SQLite
    cannot take the write lock safely once it has read.
    """
    setattr(endpoint, _WRITES, True)
    return endpoint


def _reads_only(request: Request) -> bool:
    endpoint = request.scope.get("endpoint")
    return request.method in READ_METHODS and not getattr(endpoint, _WRITES, False)


def get_session(request: Request, runtime: RuntimeDep) -> Iterator[Session]:
    """The request's transaction: committed when the endpoint returns, rolled back if it raises.

    Declared with scope="function" so the commit happens before the response is sent: a client
    never sees success for a write that then fails to commit, nor a page whose audit event (of a
    GET, written right after its read transaction) then fails to be stored.
    """
    with transaction(runtime.session_factory, read=_reads_only(request)) as session:
        yield session


def get_decoders(runtime: RuntimeDep) -> DecoderPool:
    """The process's isolated decoder pool, for a request that must read an untrusted file."""
    return runtime.decoders


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DecodersDep = Annotated[DecoderPool, Depends(get_decoders)]
StoreDep = Annotated[ObjectStore, Depends(get_store)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
