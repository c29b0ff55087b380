"""Shared fixtures. Every test that asks for `settings`, `runtime` or `client` runs once per
database backend available here (SQLite always, PostgreSQL when it answers). The schema is built by running
the Alembic migrations once per backend; rows are removed after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from fastapi.testclient import TestClient

from ortholens.app import create_app
from ortholens.kit.db import Base, make_engine
from ortholens.migrations.runner import upgrade
from ortholens.runtime import Runtime, build_runtime
from ortholens.settings import Settings
from tests.backends import DATABASE_BACKENDS, QUEUE_BACKENDS, REDIS_URL, postgres_database

# The shared `clinic`, `doctor` and `doctor_headers` fixtures.
pytest_plugins = ["tests.fixtures.accounts"]


def pytest_report_header() -> list[str]:
    return [
        f"ortholens database backends: {', '.join(DATABASE_BACKENDS)}",
        f"ortholens queue backends: {', '.join(QUEUE_BACKENDS)}",
    ]


@pytest.fixture(scope="session")
def migrated_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per backend for the whole session."""
    urls: dict[str, str] = {}
    sqlite_path = tmp_path_factory.mktemp("db") / "ortholens.db"
    urls["sqlite"] = f"sqlite:///{sqlite_path}"
    with _maybe_postgres() as pg_url:
        if pg_url:
            urls["postgresql"] = pg_url
        for url in urls.values():
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
        yield urls


def _maybe_postgres() -> object:
    from contextlib import nullcontext

    return postgres_database() if "postgresql" in DATABASE_BACKENDS else nullcontext(None)


@pytest.fixture(params=DATABASE_BACKENDS)
def database_url(
    request: pytest.FixtureRequest, migrated_databases: dict[str, str]
) -> Iterator[str]:
    """A migrated database on each backend, emptied after the test."""
    url = migrated_databases[request.param]
    yield url
    empty_database(url)


def empty_database(url: str) -> None:
    """Delete every row of every model table (children first)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(sa.delete(table))
    engine.dispose()


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    """Settings confined to `tmp_path`, for tests and the processes they start."""
    values: dict[str, object] = {
        "data_dir": tmp_path / "var",
        "key_dir": tmp_path / "keys",
        "database_url": database_url,
        "public_url": "http://testserver",
        "log_format": "console",
        "job_lease_seconds": 2.0,
        "job_retry_base_seconds": 0.2,
        "job_reaper_interval_seconds": 0.5,
        "strict_read_transactions": True,  # a GET that writes without @writes fails its test
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = build_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    # https: the session cookies are Secure, and a client only sends them back over TLS.
    with TestClient(
        create_app(runtime), base_url="https://testserver", raise_server_exceptions=False
    ) as test_client:
        yield test_client


@pytest.fixture(params=QUEUE_BACKENDS)
def queue_redis_url(request: pytest.FixtureRequest) -> str | None:
    """None for the SQLite queue, or a Redis URL, once each where Redis answers."""
    return REDIS_URL if request.param == "redis" else None


@pytest.fixture
def run_cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """Invoke `ortholens ...` in-process against the test runtime's database, store and keys."""
    from typer.testing import CliRunner

    from ortholens.cli import app
    from ortholens.settings import get_settings

    settings = runtime.settings
    monkeypatch.setenv("ORTHOLENS_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("ORTHOLENS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ORTHOLENS_KEY_DIR", str(settings.key_dir))
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, [str(a) for a in args])
    get_settings.cache_clear()
