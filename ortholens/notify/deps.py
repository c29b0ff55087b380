"""The FastAPI dependency for the process's VAPID keys (built once by the composition layer)."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request

from ortholens.notify.vapid import VapidKeys


class _HoldsVapidKeys(Protocol):
    @property
    def vapid(self) -> VapidKeys: ...


def vapid_keys(request: Request) -> VapidKeys:
    """This server's VAPID key pair, from `app.state.runtime`."""
    holder: _HoldsVapidKeys = request.app.state.runtime
    return holder.vapid


VapidDep = Annotated[VapidKeys, Depends(vapid_keys)]
