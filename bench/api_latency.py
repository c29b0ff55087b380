"""Read latency under concurrent clients (issue 25): a real `ortholens serve` on 127.0.0.1.

Seeds a clinic, a doctor and five patients, one with 10 images and one with 20,000 (rows inserted
in bulk: the list endpoints read rows, not objects), signs in as the doctor and runs 1, 10 and 50
concurrent clients (httpx async, one connection each) for a fixed time per row against
`GET /api/patients` and a gallery page `GET /api/patients/{id}/images?limit=30`. Prints req/s, p50,
p99 and max per row. The reference is `/healthz` at the same concurrency, measured in the same run
(the server's floor: routing, middleware, one JSON answer, no database); `ratio` is its req/s over
the row's req/s, the cost of a request as a multiple of the floor.

Runs on SQLite (the embedded shape) and, if it answers on 127.0.0.1:5432 with trust auth, on
PostgreSQL in a throw-away database, with one server process and with two API processes
(`serve --no-worker` on two ports, the clients spread over them: the scaled shape's replicas).
`python bench/api_latency.py [sqlite] [postgresql] [postgresql-2]` runs only those shapes; each
takes about 1.5 minutes.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from live_server import cpu_seconds, free_port, live_server_process  # bench/ is the script's dir

from ortholens.kit.db import make_engine, make_session_factory, transaction, utcnow
from ortholens.kit.passwords import hash_password
from ortholens.models import Clinic, FileType, Image, ImageSource, ImageStatus, Patient, Role, User

SECONDS_PER_ROW = 4.0
WARM_UP_SECONDS = 1.0
# Bounds a row's tail: a request still unanswered after this counts as an error.
REQUEST_TIMEOUT_SECONDS = 20.0
CLIENTS = (1, 10, 50)
SMALL, LARGE = 10, 20_000
PAGE = 30
PASSWORD = "bench password 1"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Seeded:
    email: str
    small_patient: uuid.UUID
    large_patient: uuid.UUID


@dataclass(frozen=True)
class Row:
    requests: int
    errors: Counter[str]  # by status code or transport error
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def slowest(self) -> float:
        return max(self.latencies, default=float("nan"))

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def seed(database_url: str) -> Seeded:
    """A clinic, its doctor and five patients; two of them with 10 and 20,000 READY photos."""
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        clinic = Clinic(name="Bench")
        session.add(clinic)
        session.flush()
        doctor = User(
            clinic_id=clinic.id,
            email="doctor@bench.example.com",
            full_name="Bench Doctor",
            role=Role.DOCTOR,
            password_hash=hash_password(PASSWORD),
        )
        patients = [
            Patient(clinic_id=clinic.id, first_name=f"P{n}", last_name=name)
            for n, name in enumerate(["Small", "Large", "Ames", "Brook", "Chen"])
        ]
        session.add(doctor)
        session.add_all(patients)
        session.flush()
        small, large = patients[0], patients[1]
    start = utcnow().timestamp() - LARGE * 60
    for patient, count in ((small, SMALL), (large, LARGE)):
        rows = []
        for n in range(count):
            image_id = uuid.uuid4()
            base = f"{clinic.id}/{patient.id}/photo/{image_id}"
            at = datetime.fromtimestamp(start + n * 60, UTC)
            rows.append(
                {
                    "id": image_id,
                    "clinic_id": clinic.id,
                    "patient_id": patient.id,
                    "file_type": FileType.PHOTO,
                    "source": ImageSource.UPLOAD,
                    "status": ImageStatus.READY,
                    "view_code": "IV07",
                    "original_key": f"{base}/original.jpg",
                    "variants": {"thumbnail": f"{base}/thumbnail.webp"},
                    "info": {},
                    "tags": [],
                    "created_at": at,
                    "updated_at": at,
                }
            )
        with engine.begin() as conn:
            for chunk in range(0, len(rows), 2000):
                conn.execute(sa.insert(Image), rows[chunk : chunk + 2000])
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load; committed, or the statistics are discarded.
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    return Seeded(doctor.email, small.id, large.id)


async def load(
    bases: list[str],
    path: str,
    headers: dict[str, str],
    clients: int,
    seconds: float = SECONDS_PER_ROW,
) -> Row:
    """`clients` loops, each on its own connection to one of `bases` in turn, sending `path`
    for `seconds`."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    per_server = -(-clients // len(bases))
    limits = httpx.Limits(max_connections=per_server, max_keepalive_connections=per_server)
    https = [
        httpx.AsyncClient(
            base_url=base, headers=headers, limits=limits, timeout=REQUEST_TIMEOUT_SECONDS
        )
        for base in bases
    ]
    started = time.perf_counter()
    deadline = started + seconds

    async def client(http: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            try:
                response = await http.get(path)
            except httpx.HTTPError as error:  # a timeout or a dropped connection
                errors[type(error).__name__] += 1
                continue
            latencies.append(time.perf_counter() - sent)
            if response.status_code != 200:
                errors[str(response.status_code)] += 1

    try:
        await asyncio.gather(*(client(https[n % len(https)]) for n in range(clients)))
        elapsed = time.perf_counter() - started
    finally:
        for http in https:
            await http.aclose()
    return Row(len(latencies), errors, elapsed, latencies)


def ratio(floor: Row, row: Row) -> str:
    """The floor's req/s over the row's ("no answer" if nothing came back in time)."""
    return f"{floor.rate / row.rate:.1f}" if row.requests else "no answer"


def errors_text(errors: Counter[str]) -> str:
    return ", ".join(f"{n} x {kind}" for kind, n in sorted(errors.items())) or "0"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def run_shape(label: str, database_url: str | None, processes: int = 1) -> None:
    """Seed, start `processes` servers (one: with its embedded worker, as `./run`; more:
    `serve --no-worker` on ports of their own, the clients spread over them) and print the rows."""
    tmp = Path(tempfile.mkdtemp(prefix="ortholens-latency-"))
    ports = [free_port() for _ in range(processes)]
    env = {
        **os.environ,
        "ORTHOLENS_DATA_DIR": str(tmp / "var"),
        "ORTHOLENS_KEY_DIR": str(tmp / "keys"),
        "ORTHOLENS_PUBLIC_URL": f"http://127.0.0.1:{ports[0]}",
        "ORTHOLENS_LOG_LEVEL": "WARNING",
        # The processes share one signing key, as API replicas must (README, Running at scale).
        "ORTHOLENS_TOKEN_SIGNING_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
    }
    if database_url is not None:
        env["ORTHOLENS_DATABASE_URL"] = database_url
    subprocess.run(
        [sys.executable, "-m", "ortholens", "migrate"],
        env=env,
        check=True,
        cwd=REPO,
        capture_output=True,
    )
    t0 = time.perf_counter()
    seeded = seed(database_url or f"sqlite:///{tmp / 'var' / 'ortholens.db'}")
    print(f"\n## {label}: seeded {SMALL + LARGE:,} images in {time.perf_counter() - t0:.1f} s")
    args = ["--no-worker"] if processes > 1 else []
    with ExitStack() as servers:
        started = [servers.enter_context(live_server_process(env, port, args)) for port in ports]
        bases = [base for base, _ in started]
        token = httpx.post(
            f"{bases[0]}/api/auth/login", json={"email": seeded.email, "password": PASSWORD}
        ).json()["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        run_rows(bases, [pid for _, pid in started], headers, seeded)


def measured(
    bases: list[str], pids: list[int], path: str, headers: dict[str, str], clients: int
) -> tuple[Row, float]:
    """A row, and the CPU time the servers spent per answered request (ms): unlike latency,
    it hardly moves with what else the machine runs."""
    before = sum(cpu_seconds(pid) for pid in pids)
    row = asyncio.run(load(bases, path, headers, clients))
    spent = sum(cpu_seconds(pid) for pid in pids) - before
    return row, spent * 1000 / max(row.requests, 1)


def run_rows(bases: list[str], pids: list[int], headers: dict[str, str], seeded: Seeded) -> None:
    requests = [
        ("GET /api/patients (5 patients)", "/api/patients"),
        (
            f"gallery page, {SMALL} images",
            f"/api/patients/{seeded.small_patient}/images?limit={PAGE}",
        ),
        (
            f"gallery page, {LARGE:,} images",
            f"/api/patients/{seeded.large_patient}/images?limit={PAGE}",
        ),
    ]
    for _, path in [("healthz", "/healthz"), *requests]:
        # Warm-up, on every server: first imports, caches and the pool's database connections.
        asyncio.run(load(bases, path, headers, len(bases), WARM_UP_SECONDS))
    floors = {n: measured(bases, pids, "/healthz", headers, n) for n in CLIENTS}
    floor = {n: row for n, (row, _) in floors.items()}
    print(
        "| request | clients | req/s | p50 | p99 | max | errors | server CPU per request "
        "| /healthz req/s | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    # Concurrency outermost: an overloaded row's backlog then spills into no lighter row.
    for n in CLIENTS:
        for title, path in requests:
            row, cpu_ms = measured(bases, pids, path, headers, n)
            print(
                f"| {title} | {n} | {row.rate:,.0f} "
                f"| {ms(row.percentile(0.5))} | {ms(row.percentile(0.99))} "
                f"| {ms(row.slowest)} | {errors_text(row.errors)} | {cpu_ms:.1f} ms "
                f"| {floor[n].rate:,.0f} | {ratio(floor[n], row)} |",
                flush=True,
            )
    for n in CLIENTS:
        f, cpu_ms = floors[n]
        print(
            f"/healthz, {n} clients: {f.rate:,.0f} req/s, p50 {ms(statistics.median(f.latencies))}, "
            f"p99 {ms(f.percentile(0.99))}, max {ms(f.slowest)}, server CPU {cpu_ms:.1f} ms"
        )


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A throw-away database on the local PostgreSQL, or None if it does not answer."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"ortholens_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        print(f"\nPostgreSQL at 127.0.0.1:5432 does not answer ({error.orig}); skipped.")
        admin.dispose()
        yield None
        return
    try:
        yield sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


SHAPES = ("sqlite", "postgresql", "postgresql-2")


def main() -> None:
    """Every shape, or those named on the command line (`sqlite`, `postgresql`, `postgresql-2`)."""
    shapes = sys.argv[1:] or list(SHAPES)
    unknown = set(shapes) - set(SHAPES)
    if unknown:
        sys.exit(f"unknown shape {sorted(unknown)}; choose from {', '.join(SHAPES)}")
    started = time.perf_counter()
    load_1m, _, _ = os.getloadavg()
    print(
        f"{SECONDS_PER_ROW:g} s per row, loopback, {os.cpu_count()} cores, "
        f"load average {load_1m:.1f} at the start"
    )
    if "sqlite" in shapes:
        run_shape("SQLite (embedded shape: one process, embedded worker)", None)
    for shape, processes in (("postgresql", 1), ("postgresql-2", 2)):
        if shape not in shapes:
            continue
        with postgres_database() as url:
            if url is not None:
                title = (
                    "one process, embedded worker"
                    if processes == 1
                    else (
                        f"{processes} API processes (serve --no-worker), clients spread over them"
                    )
                )
                run_shape(f"PostgreSQL ({title})", url, processes)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
