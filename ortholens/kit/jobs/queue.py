"""The job queue: Huey for delivery (SQLite file or Redis), the `jobs` table for state.

Flow of one job:
1. `request_job(session, name, args)` inserts a QUEUED row in the caller's transaction; the
   Huey message is sent only after that transaction commits (nothing is sent if it rolls back).
2. A worker receives the message and *claims* the row with a conditional UPDATE (QUEUED -> RUNNING,
   lease owner and expiry). A second copy of the message finds nothing to claim and stops.
3. The handler runs with its own session; a heartbeat thread extends the lease meanwhile.
4. Success: the handler's writes and RUNNING -> SUCCEEDED commit in one transaction, conditional on
   still owning the lease. Failure: roll back, record the error, re-queue with exponential backoff or
   mark FAILED after `max_attempts` (invalid input fails at once: retrying cannot fix it).
5. The reaper (`recover`) re-queues RUNNING rows whose lease expired (a worker was killed) and
   re-sends QUEUED rows whose message was never sent or has been waiting far too long.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from huey import Huey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import CursorResult, Update, and_, event, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ortholens.kit.db import transaction, utcnow
from ortholens.kit.errors import InvalidInput, OrthoLensError
from ortholens.kit.jobs.context import JobContext
from ortholens.kit.jobs.record import Job, JobStatus
from ortholens.kit.jobs.registry import get_handler, periodic_jobs, run_handler

log = structlog.get_logger(__name__)

PENDING_KEY = "ortholens.pending_jobs"
QUEUE_KEY = "job_queue"
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class QueuePolicy:
    lease_seconds: float = 60.0
    max_attempts: int = 5
    retry_base_seconds: float = 5.0

    @property
    def stale_dispatch_seconds(self) -> float:
        # A QUEUED job whose message went out this long ago is assumed lost (e.g. a worker died
        # between taking the message and claiming the row) and is sent again; claims dedupe.
        return self.lease_seconds * 5


def build_huey(*, name: str, redis_url: str | None, sqlite_path: str | None) -> Huey:
    """Huey on Redis when a URL is given, else on a SQLite file (the embedded default)."""
    if redis_url:
        return RedisHuey(name, url=redis_url, results=False)
    if sqlite_path is None:
        raise ValueError("a SQLite queue needs a path")
    os.makedirs(os.path.dirname(os.path.abspath(sqlite_path)), exist_ok=True)
    return SqliteHuey(name, filename=sqlite_path, results=False)


def request_job(
    session: Session,
    name: str,
    args: dict[str, Any] | None = None,
    *,
    clinic_id: uuid.UUID | None = None,
) -> Job:
    """Ask for a background job; it is sent to the queue only once `session` commits."""
    if get_handler(name) is None:
        raise ValueError(f"no handler registered for job {name!r}")
    queue: JobQueue | None = session.info.get(QUEUE_KEY)
    max_attempts = queue.policy.max_attempts if queue else QueuePolicy.max_attempts
    spec = get_handler(name)
    if spec is not None and spec.max_attempts is not None:
        max_attempts = spec.max_attempts
    job = Job(name=name, args=args or {}, clinic_id=clinic_id, max_attempts=max_attempts)
    session.add(job)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).append(job.id)
    return job


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    pending: list[uuid.UUID] = session.info.pop(PENDING_KEY, [])
    queue: JobQueue | None = session.info.get(QUEUE_KEY)
    if pending and queue is not None:
        for job_id in pending:
            queue.dispatch(job_id)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def _updated(session: Session, statement: Update) -> int:
    """Execute an UPDATE and return how many rows it changed (our conditional-claim primitive)."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


class JobQueue:
    """Sends job messages through Huey and executes them against the `jobs` table."""

    def __init__(
        self,
        huey: Huey,
        session_factory: sessionmaker[Session],
        *,
        policy: QueuePolicy,
        resources: Any = None,
    ) -> None:
        self.huey = huey
        self.session_factory = session_factory
        self.policy = policy
        self.resources = resources
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._task = huey.task(name="ortholens.run_job")(self._on_message)
        for job_name, (minute, hour) in periodic_jobs().items():
            tick = functools.partial(self._request_periodic, job_name)
            huey.periodic_task(
                crontab(minute=minute, hour=hour), name=f"ortholens.tick.{job_name}"
            )(tick)

    # -- sending ---------------------------------------------------------------------------------

    def dispatch(self, job_id: uuid.UUID, *, delay: float | None = None) -> None:
        """Send the message for a job (after its row is committed) and note when it went out."""
        try:
            if delay and delay > 0:
                self._task.schedule(args=(str(job_id),), delay=delay)
            else:
                self._task(str(job_id))
        except Exception:
            # The row stays QUEUED with no dispatch time; the reaper sends it later.
            log.exception("job.dispatch_failed", job_id=str(job_id))
            return
        with transaction(self.session_factory) as session:
            session.execute(update(Job).where(Job.id == job_id).values(dispatched_at=utcnow()))

    def _request_periodic(self, name: str) -> None:
        with transaction(self.session_factory) as session:
            request_job(session, name, {})

    def pending_messages(self) -> int:
        """Messages waiting in the queue (used by readiness checks and the CLI)."""
        return int(self.huey.pending_count())

    # -- executing -------------------------------------------------------------------------------

    def _on_message(self, job_id: str) -> None:
        self.execute(uuid.UUID(job_id))

    def claim(self, job_id: uuid.UUID) -> Job | None:
        """Take a QUEUED, due job for this worker; None when another worker has it or it is done."""
        now = utcnow()
        with transaction(self.session_factory) as session:
            claimed = _updated(
                session,
                update(Job)
                .where(
                    Job.id == job_id,
                    Job.status == JobStatus.QUEUED,
                    or_(Job.run_after.is_(None), Job.run_after <= now),
                )
                .values(
                    status=JobStatus.RUNNING,
                    attempts=Job.attempts + 1,
                    lease_owner=self.worker_id,
                    lease_expires_at=now + timedelta(seconds=self.policy.lease_seconds),
                    started_at=now,
                    error=None,
                    updated_at=now,
                ),
            )
            if not claimed:
                return None
            return session.get(Job, job_id)

    def execute(self, job_id: uuid.UUID) -> JobStatus | None:
        """Claim and run one job; returns its new status, or None when there was nothing to run."""
        job = self.claim(job_id)
        if job is None:
            return None
        spec = get_handler(job.name)
        bound = log.bind(job_id=str(job.id), job=job.name, attempt=job.attempts)
        if spec is None:
            return self._fail(job, f"no handler registered for job {job.name!r}", final=True)
        stop = threading.Event()
        heartbeat = threading.Thread(target=self._heartbeat, args=(job.id, stop), daemon=True)
        heartbeat.start()
        session = self.session_factory()
        try:
            ctx = JobContext(
                job_id=job.id,
                attempt=job.attempts,
                session=session,
                resources=self.resources,
                _session_factory=self.session_factory,
                _report=lambda fraction, message: self._report(job.id, fraction, message),
            )
            bound.info("job.started")
            result = run_handler(spec, ctx, dict(job.args))
            now = utcnow()
            owned = _updated(
                session,
                update(Job)
                .where(Job.id == job.id, Job.lease_owner == self.worker_id)
                .values(
                    status=JobStatus.SUCCEEDED,
                    progress=1.0,
                    result=result,
                    finished_at=now,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=now,
                ),
            )
            if not owned:
                # Our lease expired and another worker took the job: discard our writes.
                session.rollback()
                bound.warning("job.lease_lost")
                return None
            session.commit()
            bound.info("job.succeeded")
            return JobStatus.SUCCEEDED
        except Exception as exc:
            session.rollback()
            final = isinstance(exc, InvalidInput)
            detail = (
                exc.detail if isinstance(exc, OrthoLensError) else f"{type(exc).__name__}: {exc}"
            )
            bound.warning("job.failed", error_type=type(exc).__name__, final=final)
            return self._fail(job, detail, final=final)
        finally:
            stop.set()
            session.close()
            heartbeat.join(timeout=5)

    def _fail(self, job: Job, detail: str, *, final: bool) -> JobStatus:
        now = utcnow()
        retry = not final and job.attempts < job.max_attempts
        delay = self.policy.retry_base_seconds * 2 ** (job.attempts - 1)
        with transaction(self.session_factory) as session:
            session.execute(
                update(Job)
                .where(Job.id == job.id, Job.lease_owner == self.worker_id)
                .values(
                    status=JobStatus.QUEUED if retry else JobStatus.FAILED,
                    error=detail[:MAX_ERROR_CHARS],
                    run_after=now + timedelta(seconds=delay) if retry else None,
                    finished_at=None if retry else now,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=now,
                )
            )
            spec = get_handler(job.name)
            if not retry and spec is not None and spec.on_give_up is not None:
                spec.on_give_up(session, dict(job.args), detail)
        if retry:
            self.dispatch(job.id, delay=delay)
            return JobStatus.QUEUED
        return JobStatus.FAILED

    def _report(self, job_id: uuid.UUID, fraction: float, message: str | None) -> None:
        self._touch(job_id, progress=fraction, message=(message or None))

    def _heartbeat(self, job_id: uuid.UUID, stop: threading.Event) -> None:
        while not stop.wait(self.policy.lease_seconds / 3):
            self._touch(job_id)

    def _touch(self, job_id: uuid.UUID, **values: Any) -> None:
        """Extend our lease (and record progress) in its own short transaction; best effort."""
        now = utcnow()
        try:
            with transaction(self.session_factory) as session:
                session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.lease_owner == self.worker_id)
                    .values(
                        lease_expires_at=now + timedelta(seconds=self.policy.lease_seconds),
                        updated_at=now,
                        **values,
                    )
                )
        except Exception:
            # A busy SQLite database must not kill the job; the next beat tries again.
            log.warning("job.heartbeat_failed", job_id=str(job_id))

    # -- recovering ------------------------------------------------------------------------------

    def recover(self) -> int:
        """Re-queue jobs whose worker vanished and re-send lost messages; returns how many."""
        now = utcnow()
        resend: list[uuid.UUID] = []
        with transaction(self.session_factory) as session:
            expired = session.scalars(
                select(Job.id).where(Job.status == JobStatus.RUNNING, Job.lease_expires_at < now)
            ).all()
            for job_id in expired:
                job = session.get(Job, job_id)
                if job is None:
                    continue
                exhausted = job.attempts >= job.max_attempts
                taken = _updated(
                    session,
                    update(Job)
                    .where(
                        Job.id == job_id,
                        Job.status == JobStatus.RUNNING,
                        Job.lease_expires_at < now,
                    )
                    .values(
                        status=JobStatus.FAILED if exhausted else JobStatus.QUEUED,
                        error="The worker running this job stopped responding.",
                        finished_at=now if exhausted else None,
                        lease_owner=None,
                        lease_expires_at=None,
                        run_after=None,
                        updated_at=now,
                    ),
                )
                if taken and not exhausted:
                    resend.append(job_id)
            stale = now - timedelta(seconds=self.policy.stale_dispatch_seconds)
            grace = now - timedelta(seconds=min(self.policy.lease_seconds, 30))
            lost = session.scalars(
                select(Job.id).where(
                    Job.status == JobStatus.QUEUED,
                    or_(Job.run_after.is_(None), Job.run_after <= now),
                    or_(
                        and_(Job.dispatched_at.is_(None), Job.created_at < grace),
                        Job.dispatched_at < stale,
                    ),
                )
            ).all()
            resend.extend(lost)
        for job_id in resend:
            log.info("job.recovered", job_id=str(job_id))
            self.dispatch(job_id)
        return len(resend)
