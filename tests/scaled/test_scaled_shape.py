"""The scaled shape, for real: two API replicas and two workers as processes on PostgreSQL, Redis
and S3 (moto's server), a patient check-in and its review through both replicas, and a worker
killed with SIGKILL in the middle of a job. Every effect must happen exactly once: image rows and
their variants, jobs, audit events, the tag set and the push notification.

Runs where PostgreSQL and Redis answer (CI has both); skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import redis
import sqlalchemy as sa

from ortholens.kit.db import make_engine
from ortholens.kit.jobs.record import Job, JobStatus
from ortholens.kit.storage.s3 import make_s3_client
from ortholens.migrations.runner import upgrade
from ortholens.models import AuditEvent, Image, ImageStatus, Role, TagSet
from ortholens.runtime import build_runtime
from tests.backends import REDIS_URL, postgres_available, postgres_database, redis_available
from tests.conftest import make_settings
from tests.factories import PASSWORD, create_clinic, create_consent, create_patient, create_user
from tests.factories import patient_token as portal_header
from tests.fixtures.photos import jpeg
from tests.kit.s3server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, running_s3_server
from tests.notify.push_service import LocalPushService, make_subscriber, running_push_service
from tests.threaded_server import listening_socket

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (postgres_available() and redis_available()),
        reason="the scaled shape needs PostgreSQL and Redis (127.0.0.1:5432 and :6379)",
    ),
]

REPO = Path(__file__).resolve().parents[2]
VIEWS = ("FRONTAL", "RIGHT", "LEFT", "UPPER", "LOWER")
TAGS = {"overallTracking": 1, "oralHygiene": 1, "detailTags": [], "notes": "Looks good."}
WAIT_S = 45.0
STARTUP_S = 180.0  # importing the app takes seconds, far more on a loaded machine
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = WAIT_S) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def process(env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m ortholens ARGS` until the block ends (SIGTERM, then SIGKILL); its output goes
    to a log file in the data directory, named by its pid."""
    log = (Path(env["ORTHOLENS_DATA_DIR"]) / f"{args[0]}-{uuid.uuid4().hex[:6]}.log").open("wb")
    child = subprocess.Popen(
        [sys.executable, "-m", "ortholens", *args],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield child
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        log.close()


def free_port() -> int:
    with listening_socket() as sock:
        return int(sock.getsockname()[1])


def start_replica(stack: ExitStack, env: dict[str, str]) -> str:
    """A `serve --no-worker` replica starting; its base URL (see `wait_until_ready`)."""
    port = free_port()
    stack.enter_context(process(env, "serve", "--no-worker", "--port", str(port)))
    return f"http://127.0.0.1:{port}"


def wait_until_ready(base: str, env: dict[str, str]) -> None:
    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(f"{base} to answer", ready, timeout=STARTUP_S)
    except AssertionError:
        raise AssertionError(process_logs(env, "serve")) from None


def process_logs(env: dict[str, str], command: str) -> str:
    """The end of each `command` process's log, for a failure message."""
    logs = sorted(Path(env["ORTHOLENS_DATA_DIR"]).glob(f"{command}-*.log"))
    return "\n".join(f"{log.name}:\n{log.read_text()[-2000:]}" for log in logs)


def send_photo(upload_from: str, confirm_at: str, headers: dict[str, str], session: str, view: str, seed: int) -> None:  # fmt: skip
    """One photo as the phone sends it: a signed S3 form from one replica, confirmed at the other."""
    target = httpx.post(
        f"{upload_from}/api/patient/scans/upload-url",
        headers=headers,
        json={"sessionId": session, "imageType": view, "contentType": "image/jpeg"},
    )
    assert target.status_code == 200, target.text
    body = target.json()
    assert body["method"] == "POST"  # S3: a presigned form straight to the bucket
    stored = httpx.post(
        body["url"], data=body["fields"], files={"file": ("p.jpg", jpeg(seed, (3000, 2250)))}
    )
    assert stored.status_code in (200, 201, 204), stored.text
    confirmed = httpx.post(
        f"{confirm_at}/api/patient/scans/upload/confirm",
        headers=headers,
        json={"sessionId": session, "imageType": view, "key": body["key"]},
    )
    assert confirmed.status_code == 200, confirmed.text


def forget_queue(name: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"*{name}*"):
        client.delete(key)


def test_replicas_and_workers_do_every_effect_once(tmp_path: Path) -> None:
    queue = f"scaled-{uuid.uuid4().hex[:10]}"
    with ExitStack() as stack:
        database_url = stack.enter_context(postgres_database())
        s3 = stack.enter_context(running_s3_server(bucket=f"scaled-{uuid.uuid4().hex[:8]}"))
        push: LocalPushService = stack.enter_context(running_push_service())
        stack.callback(forget_queue, queue)
        engine = make_engine(database_url)
        stack.callback(engine.dispose)
        upgrade(engine)
        overrides: dict[str, object] = {
            "redis_url": REDIS_URL,
            "queue_name": queue,
            "storage_backend": "s3",
            "s3_bucket": s3.bucket,
            "s3_endpoint_url": s3.url,
            "s3_region": REGION,
            "s3_access_key_id": ACCESS_KEY_ID,
            "s3_secret_access_key": SECRET_ACCESS_KEY,
            "push_allow_insecure_endpoints": True,
            "worker_threads": 1,
            "job_lease_seconds": 3.0,
            "decoder_processes": 1,
        }
        settings = make_settings(tmp_path, database_url, **overrides)
        settings.data_dir.mkdir(parents=True, exist_ok=True)  # the processes' logs go there
        runtime = build_runtime(settings)  # writes the keys every process shares
        stack.callback(runtime.close)
        env = {
            **os.environ,
            **{
                f"ORTHOLENS_{name.upper()}": str(value)
                for name, value in {
                    **overrides,
                    "database_url": database_url,
                    "data_dir": settings.data_dir,
                    "key_dir": settings.key_dir,
                    "job_retry_base_seconds": settings.job_retry_base_seconds,
                    "job_reaper_interval_seconds": settings.job_reaper_interval_seconds,
                    "log_format": "console",
                }.items()
            },
        }

        clinic = create_clinic(runtime, "Scaled Smiles")
        doctor = create_user(runtime, clinic, Role.DOCTOR)
        patient = create_patient(runtime, clinic)
        create_consent(runtime, patient)
        portal = portal_header(runtime, patient)

        # All three start at once; the second worker only after the first is killed.
        first, second = start_replica(stack, env), start_replica(stack, env)
        killed = stack.enter_context(process(env, "worker"))
        for base in (first, second):
            wait_until_ready(base, env)

        device = make_subscriber(push, "phone")
        subscribed = httpx.post(
            f"{second}/api/patient/push/subscribe",
            headers=portal,
            json={
                "endpoint": device.target.endpoint,
                "keys": {"p256dh": device.target.p256dh, "auth": device.target.auth},
            },
        )
        assert subscribed.status_code == 200, subscribed.text
        started = httpx.post(f"{first}/api/patient/scans/sessions", headers=portal)
        assert started.status_code == 201, started.text
        session_id = started.json()["id"]
        for seed, view in enumerate(VIEWS):
            here, there = (first, second) if seed % 2 else (second, first)
            send_photo(here, there, portal, session_id, view, seed)

        def processing_on_killed_worker() -> Job | None:
            with runtime.session_factory() as db:
                return db.scalars(
                    sa.select(Job).where(
                        Job.name == "image.process",
                        Job.status == JobStatus.RUNNING,
                        Job.lease_owner.like(f"%:{killed.pid}:%"),
                    )
                ).first()

        interrupted = wait_for(
            "a photo job on the first worker", processing_on_killed_worker, timeout=STARTUP_S
        )
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(10)
        stack.enter_context(process(env, "worker"))

        def all_processed() -> list[Image] | None:
            with runtime.session_factory() as db:
                images = db.scalars(
                    sa.select(Image).where(Image.scan_session_id == uuid.UUID(session_id))
                ).all()
            done = [i for i in images if i.status in (ImageStatus.READY, ImageStatus.FAILED)]
            return list(images) if len(images) == len(VIEWS) and len(done) == len(VIEWS) else None

        try:
            images = wait_for("photos processed after the kill", all_processed, timeout=STARTUP_S)
        except AssertionError:
            raise AssertionError(process_logs(env, "worker")) from None
        assert {i.status for i in images} == {ImageStatus.READY}

        submitted = httpx.post(
            f"{second}/api/patient/scans/sessions/{session_id}/submit", headers=portal
        )
        assert submitted.status_code in (200, 201, 404), submitted.text  # 404: no send step
        signed_in = httpx.post(
            f"{first}/api/auth/login", json={"email": doctor.email, "password": PASSWORD}
        )
        assert signed_in.status_code == 200, signed_in.text
        staff = {"Authorization": f"Bearer {signed_in.json()['accessToken']}"}
        detail = httpx.get(f"{second}/api/scans/sessions/{session_id}", headers=staff)
        assert detail.status_code == 200 and len(detail.json()["images"]) == len(VIEWS)
        tags_url = f"/api/tagging/sessions/{session_id}/tags"
        assert httpx.post(f"{first}{tags_url}", headers=staff, json=TAGS).status_code == 201
        assert httpx.post(f"{second}{tags_url}", headers=staff, json=TAGS).status_code == 409

        wait_for("the review's push", lambda: push.received)
        time.sleep(2 * settings.job_reaper_interval_seconds + 1)  # room for a duplicate to show

        image_ids = {i.id for i in images}
        with runtime.session_factory() as db:
            jobs = db.scalars(sa.select(Job)).all()
            uploads = db.scalars(
                sa.select(AuditEvent.target_id).where(AuditEvent.action == "image.upload")
            ).all()
            tag_sets = db.scalars(sa.select(TagSet)).all()
        photo_jobs = [j for j in jobs if j.name == "image.process"]
        assert sorted(str(j.args.get("image_id")) for j in photo_jobs) == sorted(
            str(i) for i in image_ids
        )  # one job per photo, none doubled by the retry
        assert {j.status for j in photo_jobs} == {JobStatus.SUCCEEDED}
        retried = next(j for j in photo_jobs if j.id == interrupted.id)
        assert retried.attempts >= 2 and str(killed.pid) not in (retried.lease_owner or "")
        assert sorted(uploads) == sorted(image_ids)  # one upload audit event per photo
        assert len(tag_sets) == 1
        assert [j.status for j in jobs if j.name == "notify.send"] == [JobStatus.SUCCEEDED]
        assert len(push.received) == 1  # the patient's phone was told once

        bucket = make_s3_client(
            endpoint_url=s3.url,
            region=REGION,
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
        ).list_objects_v2(Bucket=s3.bucket)
        stored = {entry["Key"] for entry in bucket.get("Contents", [])}
        for image in images:
            assert image.original_key in stored
            for variant_key in image.variants.values():
                assert variant_key in stored
