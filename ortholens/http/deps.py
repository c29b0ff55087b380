"""`Annotated` dependencies so that a route's signature states what it needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ortholens.kit.db import transaction
from ortholens.kit.storage import ObjectStore
from ortholens.runtime import Runtime
from ortholens.settings import Settings


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings_dep(runtime: RuntimeDep) -> Settings:
    return runtime.settings


def get_store(runtime: RuntimeDep) -> ObjectStore:
    return runtime.store


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """The request's transaction: committed when the endpoint returns, rolled back if it raises.

    Declared with scope="function" so the commit happens before the response is sent: a client
    never sees success for a write that then fails to commit.
    """
    with transaction(runtime.session_factory) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
StoreDep = Annotated[ObjectStore, Depends(get_store)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
