"""Who is asking, for code far from the request object (the audit log, job requests).

The HTTP middleware sets it per request; jobs and the CLI leave it empty (a system actor).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestInfo:
    request_id: str | None = None
    ip: str | None = None


_current: ContextVar[RequestInfo | None] = ContextVar("ortholens_request", default=None)
_NONE = RequestInfo()


def current_request() -> RequestInfo:
    return _current.get() or _NONE


def set_current_request(info: RequestInfo) -> None:
    _current.set(info)
