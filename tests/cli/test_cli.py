"""The `ortholens` command line, in-process (typer's runner) and as real processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ortholens.cli import app
from ortholens.kit.db import make_engine, make_session_factory, transaction
from ortholens.kit.jobs import Job, JobQueue, JobStatus, QueuePolicy, build_huey, request_job
from ortholens.kit.jobs.queue import QUEUE_KEY
from ortholens.models import Role
from ortholens.settings import get_settings
from tests.kit import job_handlers

REPO_ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Environment for a fresh embedded installation under tmp_path."""
    env = {
        "ORTHOLENS_DATA_DIR": str(tmp_path / "var"),
        "ORTHOLENS_KEY_DIR": str(tmp_path / "keys"),
        "ORTHOLENS_LOG_FORMAT": "console",
        "ORTHOLENS_QUEUE_NAME": f"cli-{uuid.uuid4().hex[:8]}",
    }
    for name in [key for key in os.environ if key.startswith("ORTHOLENS_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


def test_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.stdout.strip()


def test_migrate_then_again_is_a_no_op(cli_env: dict[str, str]) -> None:
    first = runner.invoke(app, ["migrate"])
    assert first.exit_code == 0, first.output
    assert "migrated to revision" in first.stdout
    second = runner.invoke(app, ["migrate"])
    assert second.exit_code == 0
    assert "already at revision" in second.stdout


def test_serve_refuses_an_unmigrated_database(cli_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert "Run `ortholens migrate` first" in result.output


def test_worker_refuses_an_unmigrated_database(cli_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["worker"])
    assert result.exit_code == 2
    assert "ortholens migrate" in result.output


def test_demo_is_refused_in_production(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORTHOLENS_ENVIRONMENT", "production")
    get_settings.cache_clear()
    result = runner.invoke(app, ["serve", "--demo"])
    assert result.exit_code == 2
    assert "not allowed in production" in result.output


def test_jobs_show_and_list(cli_env: dict[str, str]) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    unknown = runner.invoke(app, ["jobs", "show", str(uuid.uuid4())])
    assert unknown.exit_code == 2
    assert "No job with this id" in unknown.output
    engine = make_engine(get_settings().resolved_database_url)
    with transaction(make_session_factory(engine)) as session:
        job = Job(name="image.process", args={}, status=JobStatus.FAILED, error="bad pixels")
        session.add(job)
    engine.dispose()
    shown = runner.invoke(app, ["jobs", "show", str(job.id)])
    assert shown.exit_code == 0
    assert "image.process failed" in shown.stdout
    assert "bad pixels" in shown.stdout
    waited = runner.invoke(app, ["jobs", "show", str(job.id), "--wait"])
    assert waited.exit_code == 1
    listed = runner.invoke(app, ["jobs", "list", "--status", "failed"])
    assert str(job.id) in listed.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_demo_answers_and_runs_jobs_in_process(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **os.environ,
        **cli_env,
        "PYTHONPATH": str(REPO_ROOT),
        "ORTHOLENS_JOB_MODULES": '["tests.kit.job_handlers"]',
    }
    subprocess.run(
        [sys.executable, "-m", "ortholens", "migrate"], env=env, check=True, cwd=REPO_ROOT
    )
    port = _free_port()
    log_path = tmp_path / "serve.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "ortholens", "serve", "--demo", "--port", str(port)],
        env={**env, "COLUMNS": "200"},
        cwd=REPO_ROOT,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.3)
        output = log_path.read_text()
        for role in Role:
            assert role.value in output
        assert "Password" in output
        assert "text/html" in httpx.get(f"{base}/", follow_redirects=True).headers["content-type"]

        # A job requested against the same database and queue is run by serve's own worker.
        engine = make_engine(get_settings().resolved_database_url)
        factory = make_session_factory(engine)
        huey = build_huey(
            name=cli_env["ORTHOLENS_QUEUE_NAME"],
            redis_url=None,
            sqlite_path=str(Path(cli_env["ORTHOLENS_DATA_DIR"]) / "queue.db"),
        )
        factory.configure(info={QUEUE_KEY: JobQueue(huey, factory, policy=QueuePolicy())})
        with engine.begin() as conn:
            conn.exec_driver_sql(job_handlers.EFFECTS_DDL)  # importing it registered the handler
        with transaction(factory) as session:
            job_id = request_job(session, "test.record_effect", {}).id
        deadline = time.monotonic() + 30

        def job_status() -> JobStatus | None:
            with factory() as session:
                job = session.get(Job, job_id)
                return job.status if job else None

        while job_status() is not JobStatus.SUCCEEDED:
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        engine.dispose()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            assert server.wait(20) == 0
        finally:
            if server.poll() is None:
                server.kill()


def test_create_clinic_and_user_then_sign_in(cli_env: dict[str, str]) -> None:
    from fastapi.testclient import TestClient

    from ortholens.app import create_app
    from ortholens.runtime import build_runtime

    assert runner.invoke(app, ["migrate"]).exit_code == 0
    made = runner.invoke(app, ["create-clinic", "Smile Studio", "--require-mfa"])
    assert made.exit_code == 0, made.output
    clinic_id = made.stdout.strip().rsplit(" ", 1)[1]
    user = runner.invoke(
        app,
        [
            "create-user",
            "--email",
            "Admin@Smile.example",
            "--name",
            "Ada Admin",
            "--role",
            "clinic_admin",
            "--clinic",
            clinic_id,
        ],
        input="a long enough password\na long enough password\n",
    )
    assert user.exit_code == 0, user.output
    duplicate = runner.invoke(
        app,
        [
            "create-user",
            "--email",
            "admin@smile.example",
            "--name",
            "X",
            "--role",
            "doctor",
            "--clinic",
            clinic_id,
            "--password",
            "another long password",
        ],
    )
    assert duplicate.exit_code == 2
    assert "already exists" in duplicate.output
    runtime = build_runtime(get_settings())
    with TestClient(create_app(runtime), base_url="https://testserver") as client:
        response = client.post(
            "/api/auth/login",
            json={"email": "admin@smile.example", "password": "a long enough password"},
        )
        assert response.status_code == 200
        me = client.get(
            "/api/auth/me", headers={"Authorization": f"Bearer {response.json()['accessToken']}"}
        )
        assert me.json()["mfaEnrollmentRequired"] is True
    runtime.close()


def test_create_user_refuses_a_weak_password(cli_env: dict[str, str]) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    result = runner.invoke(
        app,
        [
            "create-user",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--role",
            "super_admin",
            "--password",
            "short",
        ],
    )
    assert result.exit_code == 2
    assert "at least 10 characters" in result.output


def test_unexpected_errors_never_print_local_variables() -> None:
    assert app.pretty_exceptions_show_locals is False
