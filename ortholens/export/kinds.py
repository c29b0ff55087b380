"""The kinds of generated file, by the name of the job that makes them.

A kind is registered once, when its generator is (`generator.generates`), so every process that
imports the task modules (API, worker, CLI) knows every kind: the download route, the status
service and the clean-up job look a job's kind up here by the job's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ortholens.kit.jobs import Job

# Raises (e.g. Conflict) when a finished file must no longer be handed out.
AvailabilityCheck = Callable[[Session, Job], None]


@dataclass(frozen=True)
class GeneratedKind:
    """One kind of generated file.

    `job` is the generating job's name (`domain.event`); `key_kind` the object-key segment of its
    results; `audit_prefix` names its audit events (`{prefix}_request`, `_create`, `_link`,
    `_download`, `_expire`); `not_found` is the 404 detail, the same for another clinic's job and
    a random id; `still_available` vetoes handing out a finished file (e.g. a source was deleted).
    """

    job: str
    key_kind: str
    audit_prefix: str
    not_found: str
    still_available: AvailabilityCheck | None = None

    def action(self, event: str) -> str:
        """The audit action of `event` (`request`, `create`, `link`, `download`, `expire`)."""
        return f"{self.audit_prefix}_{event}"


_KINDS: dict[str, GeneratedKind] = {}


def register_kind(kind: GeneratedKind) -> None:
    """Make `kind` known to the download route, the status service and the clean-up job."""
    existing = _KINDS.get(kind.job)
    if existing is not None and existing != kind:
        raise ValueError(f"two generated-file kinds registered for job {kind.job!r}")
    _KINDS[kind.job] = kind


def kind_of(job_name: str) -> GeneratedKind | None:
    """The kind a job of this name generates, or None if it generates no file."""
    return _KINDS.get(job_name)


def generating_jobs() -> list[str]:
    """The names of every job that generates a file."""
    return sorted(_KINDS)
