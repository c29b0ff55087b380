"""Load (issue 12): 50 concurrent clients against a real `ortholens serve` on loopback, mixing
gallery reads, photo uploads and reviews, for a configurable time (default 10 minutes).

The embedded shape as `./run` starts it: SQLite, the encrypted local store and the in-process job
worker, which processes every uploaded photo while the load goes on. Seeds a clinic with a
doctor, 20 patients (photography consent, 200 READY gallery rows each) and enough sent check-ins
to review. Each client loops: 70 % `GET /api/patients/{id}/images?limit=30`, 15 % a multipart
upload of one new 640x480 JPEG (`POST /api/patients/{id}/images`), 15 % a review of a check-in
nobody reviewed yet (`POST /api/tagging/sessions/{id}/tags`). Prints throughput, p50/p99/max and
errors per kind, and the server's resident memory (VmRSS, decoder workers aside) after warm-up and
at the end.

Reference, measured in the same run: the same 50 clients fetching a saved gallery page as a static
file from Python's `http.server` on loopback (no application at all); `ratio` is its req/s over
our gallery reads' req/s.

    .venv/bin/python bench/load.py [--seconds 600] [--clients 50]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
from api_latency import Row, errors_text, ms  # bench/ is the script's dir
from live_server import free_port, live_server_process
from PIL import Image as PILImage

from ortholens.kit.db import make_engine, make_session_factory, transaction, utcnow
from ortholens.kit.passwords import hash_password
from ortholens.migrations.runner import upgrade
from ortholens.models import (
    Clinic,
    Consent,
    ConsentGrantor,
    ConsentKind,
    FileType,
    Image,
    ImageSource,
    ImageStatus,
    Patient,
    Role,
    ScanSession,
    ScanSessionStatus,
    User,
)

PATIENTS = 20
GALLERY_ROWS = 200
CHECK_INS = 6000
PASSWORD = "bench password 1"
MIX = (("gallery", 70), ("upload", 15), ("review", 15))
WARM_UP_SECONDS = 5.0
REQUEST_TIMEOUT_SECONDS = 30.0
TAGS = {"overallTracking": 1, "oralHygiene": 1, "detailTags": [], "notes": "bench"}


@dataclass
class Seeded:
    email: str
    patients: list[uuid.UUID]
    check_ins: Iterator[uuid.UUID]


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, kind: str, seconds: float, error: str | None) -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        self.errors.setdefault(kind, Counter())
        if error:
            self.errors[kind][error] += 1

    def row(self, kind: str, seconds: float) -> Row:
        return Row(
            len(self.latencies.get(kind, [])),
            self.errors.get(kind, Counter()),
            seconds,
            self.latencies.get(kind, []),
        )


def seed(database_url: str) -> Seeded:
    """The clinic, its doctor and patients, their gallery rows and the check-ins to review."""
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    now = utcnow()
    with transaction(factory) as session:
        clinic = Clinic(name="Load")
        session.add(clinic)
        session.flush()
        doctor = User(
            clinic_id=clinic.id,
            email="doctor@load.example.com",
            full_name="Load Doctor",
            role=Role.DOCTOR,
            password_hash=hash_password(PASSWORD),
        )
        patients = [
            Patient(clinic_id=clinic.id, first_name=f"P{n}", last_name=f"Load{n}")
            for n in range(PATIENTS)
        ]
        session.add(doctor)
        session.add_all(patients)
        session.flush()
        session.add_all(
            Consent(
                clinic_id=clinic.id,
                patient_id=p.id,
                kind=ConsentKind.PHOTOGRAPHY,
                granted_by=ConsentGrantor.GUARDIAN,
                guardian_name="A Guardian",
                granted_at=now - timedelta(days=1),
            )
            for p in patients
        )
    images, sessions = [], []
    for n, patient in enumerate(patients):
        for k in range(GALLERY_ROWS):
            image_id = uuid.uuid4()
            base = f"{clinic.id}/{patient.id}/photo/{image_id}"
            at = now - timedelta(minutes=GALLERY_ROWS - k)
            images.append(
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
        for k in range(CHECK_INS // PATIENTS):
            at = now - timedelta(hours=1, seconds=n * 1000 + k)
            sessions.append(
                {
                    "id": uuid.uuid4(),
                    "clinic_id": clinic.id,
                    "patient_id": patient.id,
                    "status": ScanSessionStatus.PENDING,
                    "image_count": 5,
                    "expected_views": [],
                    "submitted_at": at,
                    "created_at": at,
                    "updated_at": at,
                }
            )
    with engine.begin() as conn:
        for chunk in range(0, len(images), 2000):
            conn.execute(sa.insert(Image), images[chunk : chunk + 2000])
        for chunk in range(0, len(sessions), 2000):
            conn.execute(sa.insert(ScanSession), sessions[chunk : chunk + 2000])
    engine.dispose()
    random.shuffle(sessions)
    return Seeded(doctor.email, [p.id for p in patients], iter([s["id"] for s in sessions]))


def photo(n: int) -> bytes:
    """A new 640x480 JPEG each time (a different colour block), so none is a duplicate."""
    picture = PILImage.new("RGB", (640, 480), (200, 160, 150))
    picture.paste((n % 256, (n // 256) % 256, 90), (n % 600, 0, n % 600 + 40, 480))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run_clients(
    clients: int,
    seconds: float,
    make_client: Callable[[], httpx.AsyncClient],
    choose: Callable[[httpx.AsyncClient], Awaitable[tuple[str, httpx.Response]]],
) -> tuple[Tally, float]:
    """`clients` loops on their own connections for `seconds`; latencies and errors by kind."""
    tally = Tally()
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        async with make_client() as http:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                try:
                    kind, response = await choose(http)
                except httpx.HTTPError as error:  # a timeout or a dropped connection
                    tally.add("transport", time.perf_counter() - sent, type(error).__name__)
                    continue
                ok = response.status_code < 300
                tally.add(
                    kind, time.perf_counter() - sent, None if ok else str(response.status_code)
                )

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return tally, time.perf_counter() - started


def application_mix(seeded: Seeded) -> Callable[[httpx.AsyncClient], Awaitable[tuple[str, httpx.Response]]]:  # fmt: skip
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    uploads = itertools.count()

    async def choose(http: httpx.AsyncClient) -> tuple[str, httpx.Response]:
        kind = random.choice(kinds)
        patient = random.choice(seeded.patients)
        if kind == "review":
            check_in = next(seeded.check_ins, None)
            if check_in is not None:
                return kind, await http.post(f"/api/tagging/sessions/{check_in}/tags", json=TAGS)
            kind = "gallery"  # every check-in reviewed: read instead
        if kind == "upload":
            files = {"files": (f"p{next(uploads)}.jpg", photo(next(uploads)), "image/jpeg")}
            return kind, await http.post(f"/api/patients/{patient}/images", files=files)
        return kind, await http.get(f"/api/patients/{patient}/images?limit=30")

    return choose


@contextmanager
def static_server(directory: Path) -> Iterator[str]:
    """Python's http.server on loopback serving `directory`: the reference."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/gallery.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def print_row(label: str, row: Row, floor: Row | None = None) -> None:
    ratio = f"{floor.rate / row.rate:.1f}" if floor and row.requests else "-"
    print(
        f"| {label} | {row.requests} | {row.rate:.1f} | {ms(row.percentile(0.5))} | "
        f"{ms(row.percentile(0.99))} | {ms(row.slowest)} | {errors_text(row.errors)} | {ratio} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="length of the load")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--reference-seconds", type=float, default=None)
    args = parser.parse_args()
    reference_seconds = args.reference_seconds or min(60.0, max(10.0, args.seconds / 10))
    with tempfile.TemporaryDirectory(prefix="ortholens-load-") as tmp:
        root = Path(tmp)
        database_url = f"sqlite:///{root / 'ortholens.db'}"
        engine = make_engine(database_url)
        upgrade(engine)
        engine.dispose()
        seeded = seed(database_url)
        env = {
            **os.environ,
            "ORTHOLENS_DATA_DIR": str(root / "var"),
            "ORTHOLENS_KEY_DIR": str(root / "keys"),
            "ORTHOLENS_DATABASE_URL": database_url,
            "ORTHOLENS_LOG_LEVEL": "WARNING",
        }
        server_log = root / "server.log"
        with live_server_process(env, free_port(), log=server_log) as (base, pid):
            login = httpx.post(
                f"{base}/api/auth/login", json={"email": seeded.email, "password": PASSWORD}
            )
            login.raise_for_status()
            headers = {"Authorization": f"Bearer {login.json()['accessToken']}"}
            page = httpx.get(
                f"{base}/api/patients/{seeded.patients[0]}/images?limit=30", headers=headers
            )
            page.raise_for_status()
            (root / "static").mkdir()
            (root / "static" / "gallery.json").write_bytes(page.content)

            def ours() -> httpx.AsyncClient:
                return httpx.AsyncClient(
                    base_url=base, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS
                )

            choose = application_mix(seeded)
            asyncio.run(run_clients(args.clients, WARM_UP_SECONDS, ours, choose))
            rss_start = rss_mb(pid)
            print(
                f"{args.clients} clients for {args.seconds:.0f} s against {base} "
                f"(SQLite, local store, embedded worker); RSS after warm-up {rss_start:.0f} MB"
            )
            tally, elapsed = asyncio.run(run_clients(args.clients, args.seconds, ours, choose))
            rss_end = rss_mb(pid)

        with static_server(root / "static") as static_base:

            def reference() -> httpx.AsyncClient:
                return httpx.AsyncClient(base_url=static_base, timeout=REQUEST_TIMEOUT_SECONDS)

            async def fetch(http: httpx.AsyncClient) -> tuple[str, httpx.Response]:
                return "static", await http.get("/gallery.json")

            floor_tally, floor_elapsed = asyncio.run(
                run_clients(args.clients, reference_seconds, reference, fetch)
            )
        problems = server_problems(server_log)
    floor = floor_tally.row("static", floor_elapsed)
    total = sum(len(v) for v in tally.latencies.values())
    errors = sum(sum(c.values()) for c in tally.errors.values())
    print("| kind | requests | req/s | p50 | p99 | max | errors | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in ("gallery", "upload", "review", "transport"):
        if kind in tally.latencies:
            print_row(kind, tally.row(kind, elapsed), floor if kind == "gallery" else None)
    print_row("reference: static gallery page (http.server)", floor)
    print(
        f"all: {total} requests in {elapsed:.0f} s = {total / elapsed:.1f} req/s, {errors} errors; "
        f"server RSS {rss_start:.0f} MB after warm-up -> {rss_end:.0f} MB at the end "
        f"({rss_end - rss_start:+.0f} MB)"
    )
    if problems:
        print("the server logged (warnings and errors, counted by first line):")
        for line, count in problems.most_common(10):
            print(f"  {count} x {line}")


def server_problems(log: Path) -> Counter[str]:
    """The server's warnings and errors (it logs at WARNING here), and the last line of each
    traceback, so that an error answer in the table has its cause beside it."""
    problems: Counter[str] = Counter()
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    for n, line in enumerate(lines):
        if line.startswith("Traceback"):
            tail = next(
                (later for later in lines[n + 1 :] if not later.startswith((" ", "Traceback"))), ""
            )
            problems[f"traceback: {tail[:200]}"] += 1
        elif (
            '"level": "error"' in line
            or '"level": "warning"' in line
            or "[error" in line
            or "[warning" in line
        ):
            problems[line[:200]] += 1
    return problems


if __name__ == "__main__":
    main()
