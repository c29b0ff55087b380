"""The job queue against real backends: SQLite or PostgreSQL for state, SQLite-Huey or Redis
for delivery. Jobs go out only after commit, run once, retry with backoff, and survive a killed worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ortholens.kit.db import make_engine, make_session_factory, transaction, utcnow
from ortholens.kit.jobs import (
    Job,
    JobQueue,
    JobStatus,
    QueuePolicy,
    Worker,
    build_huey,
    request_job,
)
from ortholens.kit.jobs.queue import QUEUE_KEY
from tests.kit import job_handlers

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def make_queue(
    tmp_path: Path, database_url: str, queue_redis_url: str | None
) -> Iterator[Callable[[], JobQueue]]:
    """Builds queues sharing one database and one Huey backend, as separate workers would."""
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text(job_handlers.EFFECTS_DDL))
        conn.execute(sa.text("DELETE FROM test_job_effects"))
    name = f"test-{uuid.uuid4().hex[:8]}"
    made: list[JobQueue] = []

    def make() -> JobQueue:
        factory = make_session_factory(engine)
        huey = build_huey(
            name=name, redis_url=queue_redis_url, sqlite_path=str(tmp_path / "queue.db")
        )
        job_queue = JobQueue(
            huey,
            factory,
            policy=QueuePolicy(lease_seconds=2, max_attempts=3, retry_base_seconds=0.2),
        )
        factory.configure(info={QUEUE_KEY: job_queue})
        made.append(job_queue)
        return job_queue

    yield make
    if made:
        made[0].huey.flush()
    engine.dispose()


@pytest.fixture
def queue(make_queue: Callable[[], JobQueue]) -> JobQueue:
    return make_queue()


def effects(factory: sessionmaker[Session], job_id: uuid.UUID) -> list[int]:
    with factory() as session:
        rows = session.execute(
            sa.text("SELECT attempt FROM test_job_effects WHERE job_id = :j"), {"j": str(job_id)}
        )
        return [row[0] for row in rows]


def load(factory: sessionmaker[Session], job_id: uuid.UUID) -> Job:
    with factory() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def submit(queue: JobQueue, **args: Any) -> uuid.UUID:
    with transaction(queue.session_factory) as session:
        return request_job(session, "test.record_effect", args).id


def test_job_is_sent_only_after_commit(queue: JobQueue) -> None:
    session = queue.session_factory()
    job = request_job(session, "test.record_effect", {})
    assert queue.pending_messages() == 0
    session.commit()
    session.close()
    assert queue.pending_messages() == 1
    assert load(queue.session_factory, job.id).dispatched_at is not None


def test_rolled_back_request_leaves_no_row_and_no_message(queue: JobQueue) -> None:
    session = queue.session_factory()
    job_id = request_job(session, "test.record_effect", {}).id
    session.rollback()
    session.close()
    assert queue.pending_messages() == 0
    with queue.session_factory() as session:
        assert session.get(Job, job_id) is None


def test_unknown_job_name_is_refused(queue: JobQueue) -> None:
    with queue.session_factory() as session, pytest.raises(ValueError, match="no handler"):
        request_job(session, "no.such_job", {})


def test_execute_commits_effect_and_success_together(queue: JobQueue) -> None:
    job_id = submit(queue, steps=2)
    assert queue.execute(job_id) is JobStatus.SUCCEEDED
    job = load(queue.session_factory, job_id)
    assert (job.status, job.progress, job.attempts, job.result) == (
        JobStatus.SUCCEEDED,
        1.0,
        1,
        {"attempt": 1},
    )
    assert job.finished_at is not None
    assert effects(queue.session_factory, job_id) == [1]


def test_a_second_message_for_a_finished_job_does_nothing(queue: JobQueue) -> None:
    job_id = submit(queue)
    queue.execute(job_id)
    assert queue.execute(job_id) is None
    assert effects(queue.session_factory, job_id) == [1]


def set_run_after(queue: JobQueue, job_id: uuid.UUID, at: datetime) -> None:
    with transaction(queue.session_factory) as session:
        session.execute(sa.update(Job).where(Job.id == job_id).values(run_after=at))


def test_failure_is_retried_with_backoff_until_it_succeeds(queue: JobQueue) -> None:
    job_id = submit(queue, fail_times=2)
    assert queue.execute(job_id) is JobStatus.QUEUED
    job = load(queue.session_factory, job_id)
    assert job.error == "RuntimeError: transient failure on attempt 1"
    # The first retry waits about the base delay after the failure (not the doubled one).
    base = timedelta(seconds=queue.policy.retry_base_seconds)
    assert job.run_after is not None and job.updated_at < job.run_after < job.updated_at + 2 * base
    # Not due yet: a message arriving early claims nothing (pushed an hour out, so no race).
    set_run_after(queue, job_id, utcnow() + timedelta(hours=1))
    assert queue.execute(job_id) is None
    set_run_after(queue, job_id, utcnow())
    queue.dispatch(job_id)
    worker = Worker(queue, threads=1, reaper_interval=0.5)
    worker.start()
    try:
        wait_for(lambda: load(queue.session_factory, job_id).status is JobStatus.SUCCEEDED)
    finally:
        worker.stop()
    assert load(queue.session_factory, job_id).attempts == 3
    assert effects(queue.session_factory, job_id) == [3]


def test_job_fails_after_max_attempts(queue: JobQueue) -> None:
    job_id = submit(queue, fail_times=99)
    worker = Worker(queue, threads=1, reaper_interval=0.5)
    worker.start()
    try:
        wait_for(lambda: load(queue.session_factory, job_id).status is JobStatus.FAILED)
    finally:
        worker.stop()
    job = load(queue.session_factory, job_id)
    assert job.attempts == 3
    assert job.error == "RuntimeError: transient failure on attempt 3"
    assert effects(queue.session_factory, job_id) == []


def test_invalid_input_fails_at_once_without_retry(queue: JobQueue) -> None:
    job_id = submit(queue, invalid=True)
    assert queue.execute(job_id) is JobStatus.FAILED
    job = load(queue.session_factory, job_id)
    assert (job.attempts, job.error) == (1, "This input can never be processed.")


def test_progress_is_visible_while_the_job_runs(queue: JobQueue) -> None:
    job_id = submit(queue, steps=4, step_seconds=0.4)
    worker = Worker(queue, threads=1, reaper_interval=0.5)
    worker.start()
    seen: set[str] = set()
    try:

        def progressed() -> bool:
            job = load(queue.session_factory, job_id)
            if job.status is JobStatus.RUNNING and job.message:
                seen.add(job.message)
            return job.status is JobStatus.SUCCEEDED

        wait_for(progressed)
    finally:
        worker.stop()
    assert seen & {"step 1 of 4", "step 2 of 4", "step 3 of 4"}


def test_expired_lease_is_taken_over_and_the_late_worker_discards_its_work(
    make_queue: Callable[[], JobQueue],
) -> None:
    late, other = make_queue(), make_queue()
    job_id = submit(late, steps=4, step_seconds=0.5)
    outcome: list[JobStatus | None] = []
    thread = threading.Thread(target=lambda: outcome.append(late.execute(job_id)))
    thread.start()
    wait_for(lambda: load(late.session_factory, job_id).status is JobStatus.RUNNING)

    def expire_and_recover() -> bool:
        # The late worker stalls (as under a long GC pause); its lease runs out.
        with transaction(late.session_factory) as session:
            session.execute(
                sa.update(Job)
                .where(Job.id == job_id, Job.lease_owner == late.worker_id)
                .values(lease_expires_at=utcnow() - timedelta(seconds=1))
            )
        return other.recover() >= 1

    wait_for(expire_and_recover)
    assert other.execute(job_id) is JobStatus.SUCCEEDED
    thread.join(10)
    assert outcome == [None]  # the late worker found its lease gone and rolled back
    assert effects(late.session_factory, job_id) == [2]
    assert load(late.session_factory, job_id).status is JobStatus.SUCCEEDED


def test_recover_resends_a_job_whose_message_was_never_sent(queue: JobQueue) -> None:
    with transaction(queue.session_factory) as session:
        job = Job(name="test.record_effect", args={}, created_at=utcnow().replace(year=2020))
        session.add(job)
    assert queue.pending_messages() == 0
    assert queue.recover() == 1
    assert queue.pending_messages() == 1


@pytest.mark.slow
def test_killed_worker_job_completes_exactly_once_after_restart(
    tmp_path: Path, database_url: str, queue_redis_url: str | None
) -> None:
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text(job_handlers.EFFECTS_DDL))
    factory = make_session_factory(engine)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "ORTHOLENS_DATABASE_URL": database_url,
        "ORTHOLENS_DATA_DIR": str(tmp_path / "var"),
        "ORTHOLENS_KEY_DIR": str(tmp_path / "keys"),
        "ORTHOLENS_QUEUE_NAME": f"kill-{uuid.uuid4().hex[:8]}",
        "ORTHOLENS_JOB_MODULES": '["tests.kit.job_handlers"]',
        "ORTHOLENS_JOB_LEASE_SECONDS": "2",
        "ORTHOLENS_JOB_REAPER_INTERVAL_SECONDS": "0.5",
        "ORTHOLENS_LOG_FORMAT": "console",
    }
    if queue_redis_url:
        env["ORTHOLENS_REDIS_URL"] = queue_redis_url
    else:
        env.pop("ORTHOLENS_REDIS_URL", None)

    huey = build_huey(
        name=env["ORTHOLENS_QUEUE_NAME"],
        redis_url=queue_redis_url,
        sqlite_path=str(tmp_path / "var" / "queue.db"),
    )
    producer = JobQueue(huey, factory, policy=QueuePolicy(lease_seconds=2))
    factory.configure(info={QUEUE_KEY: producer})
    with transaction(factory) as session:
        job_id = request_job(session, "test.record_effect", {"steps": 6, "step_seconds": 0.5}).id

    def start_worker(log_name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "ortholens", "worker"],
            cwd=REPO_ROOT,
            env=env,
            stdout=(tmp_path / log_name).open("wb"),
            stderr=subprocess.STDOUT,
        )

    first = start_worker("worker1.log")
    try:
        wait_for(lambda: load(factory, job_id).progress > 0.2, timeout=60)
        assert load(factory, job_id).status is JobStatus.RUNNING
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert effects(factory, job_id) == []

    second = start_worker("worker2.log")
    try:
        wait_for(lambda: load(factory, job_id).status is JobStatus.SUCCEEDED, timeout=60)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(15)
        except subprocess.TimeoutExpired:
            second.kill()
    job = load(factory, job_id)
    assert job.attempts == 2
    assert effects(factory, job_id) == [2]
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM test_job_effects"))
    huey.flush()
    engine.dispose()
