"""Readiness checks: can this process reach everything it needs right now?"""

from __future__ import annotations

from dataclasses import dataclass

from ortholens.job import repository as jobs
from ortholens.kit.db import ping
from ortholens.kit.jobs import JobStatus
from ortholens.kit.resources import Resources
from ortholens.migrations.runner import current_revision, head_revision


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str


def check_database(runtime: Resources) -> CheckResult:
    """The database answers and its schema is at the code's migration head."""
    ping(runtime.engine)
    current, head = current_revision(runtime.engine), head_revision()
    if current != head:
        return CheckResult(False, f"schema at {current}, code needs {head}")
    return CheckResult(True, f"schema at {head}")


def check_store(runtime: Resources) -> CheckResult:
    """The object store is reachable."""
    runtime.store.check()
    return CheckResult(True, runtime.settings.storage_backend.value)


def check_queue(runtime: Resources) -> CheckResult:
    """The queue backend answers."""
    pending = runtime.queue.pending_messages()
    backend = "redis" if runtime.settings.redis_url else "sqlite"
    return CheckResult(True, f"{backend}, {pending} messages waiting")


CHECKS = {"database": check_database, "store": check_store, "queue": check_queue}


def run_checks(runtime: Resources) -> dict[str, CheckResult]:
    """Every readiness check; an exception counts as a failure named by its type only."""
    results: dict[str, CheckResult] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check(runtime)
        except Exception as exc:
            results[name] = CheckResult(False, f"unreachable ({type(exc).__name__})")
    return results


def job_counts(runtime: Resources) -> dict[str, int]:
    """How many jobs are in each state (for /metrics)."""
    with runtime.session_factory() as session:
        found = jobs.count_by_status(session)
    counts = {status.value: 0 for status in JobStatus}
    counts.update({status.value: n for status, n in found.items()})
    return counts
