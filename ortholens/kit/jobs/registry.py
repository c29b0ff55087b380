"""Job handlers by name. Domain packages register theirs in `tasks.py` with `@job_handler`."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ortholens.kit.jobs.context import JobContext

Handler = Callable[..., "dict[str, Any] | None"]


GiveUp = Callable[["Session", dict[str, Any], str], None]


@dataclass(frozen=True)
class HandlerSpec:
    name: str
    func: Handler
    max_attempts: int | None
    # Called in the transaction that marks the job FAILED for good (e.g. to mark its record failed).
    on_give_up: GiveUp | None = None


_HANDLERS: dict[str, HandlerSpec] = {}
# Jobs requested on a schedule: name -> (minute, hour) in cron terms ("*" for every).
_PERIODIC: dict[str, tuple[str, str]] = {}


def job_handler(
    name: str, *, max_attempts: int | None = None, on_give_up: GiveUp | None = None
) -> Callable[[Handler], Handler]:
    """Register `func(ctx: JobContext, **args)` as the handler of jobs called `name` (`domain.event`).

    Handlers take ids in `args`, reload what they need, and must be safe to run twice: their writes
    commit together with the job's success, so a crash before that commit leaves nothing behind.
    """

    def register(func: Handler) -> Handler:
        existing = _HANDLERS.get(name)
        if existing is not None and existing.func is not func:
            raise ValueError(f"two handlers registered for job {name!r}")
        _HANDLERS[name] = HandlerSpec(
            name=name, func=func, max_attempts=max_attempts, on_give_up=on_give_up
        )
        return func

    return register


def periodic(name: str, *, minute: str = "0", hour: str = "*") -> None:
    """Request the job `name` (no arguments) on a cron-like schedule, from every running worker.

    Each tick creates an ordinary job row (visible, retried, audited like any other), so a periodic
    handler must be harmless when two workers' ticks both run it.
    """
    _PERIODIC[name] = (minute, hour)


def periodic_jobs() -> dict[str, tuple[str, str]]:
    return dict(_PERIODIC)


def get_handler(name: str) -> HandlerSpec | None:
    return _HANDLERS.get(name)


def registered_names() -> list[str]:
    return sorted(_HANDLERS)


def import_handler_modules(modules: Iterable[str]) -> None:
    """Import modules whose import registers handlers (domain `tasks` modules, plugins)."""
    for module in modules:
        importlib.import_module(module)


def run_handler(spec: HandlerSpec, ctx: JobContext, args: dict[str, Any]) -> dict[str, Any] | None:
    return spec.func(ctx, **args)
