"""End to end: 100 photos uploaded through the API by 10 concurrent clients to a real
`ortholens serve` (embedded worker, SQLite, local encrypted store) on 127.0.0.1.

Reports how many became READY, the median and 90th-percentile time from a confirm's answer to the
thumbnail being available, and the ratio of that median to the bare processing time of one photo
(`make_variants` + quality + view on the same file in this process): the queueing and bookkeeping
overhead of the pipeline.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
from live_server import free_port, live_server  # bench/ is the script's directory
from PIL import Image as PILImage

from ortholens.kit.db import make_engine, make_session_factory, transaction, utcnow
from ortholens.kit.passwords import hash_password
from ortholens.models import (
    Clinic,
    Consent,
    ConsentGrantor,
    ConsentKind,
    Image,
    ImageStatus,
    Patient,
    Role,
    User,
)
from ortholens.processing.photos import make_variants
from ortholens.processing.quality import score_quality
from ortholens.processing.views import classify_view

CLIENTS, PER_CLIENT = 10, 10
REPO = Path(__file__).resolve().parents[1]


def photo(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(60, 200, size=(1500, 2000, 3), dtype=np.uint8)
    out = io.BytesIO()
    PILImage.fromarray(pixels).save(out, "JPEG", quality=85)
    return out.getvalue()


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ortholens-e2e-"))
    port = free_port()
    env = {
        **os.environ,
        "ORTHOLENS_DATA_DIR": str(tmp / "var"),
        "ORTHOLENS_KEY_DIR": str(tmp / "keys"),
        "ORTHOLENS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "ORTHOLENS_LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "-m", "ortholens", "migrate"],
        env=env,
        check=True,
        cwd=REPO,
        capture_output=True,
    )
    engine = make_engine(f"sqlite:///{tmp / 'var' / 'ortholens.db'}")
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        clinic = Clinic(name="Bench")
        session.add(clinic)
        session.flush()
        user = User(
            clinic_id=clinic.id,
            email="bench@example.com",
            full_name="Bench",
            role=Role.CLINICAL_STAFF,
            password_hash=hash_password("bench password 1"),
        )
        patient = Patient(clinic_id=clinic.id, first_name="B", last_name="Ench")
        session.add_all([user, patient])
        session.flush()
        session.add(
            Consent(
                clinic_id=clinic.id,
                patient_id=patient.id,
                kind=ConsentKind.PHOTOGRAPHY,
                granted_by=ConsentGrantor.PATIENT,
                granted_at=utcnow() - timedelta(days=1),
            )
        )
    try:
        with live_server(env, port) as base:
            token = httpx.post(
                f"{base}/api/auth/login",
                json={"email": "bench@example.com", "password": "bench password 1"},
            ).json()["accessToken"]
            headers = {"Authorization": f"Bearer {token}"}
            photos = [photo(i) for i in range(CLIENTS * PER_CLIENT)]
            confirmed_at: dict[uuid.UUID, float] = {}
            lock = threading.Lock()

            def client(index: int) -> None:
                with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
                    for n in range(PER_CLIENT):
                        data = photos[index * PER_CLIENT + n]
                        target = http.post(
                            f"/api/patients/{patient.id}/uploads/url",
                            json={"contentType": "image/jpeg"},
                        ).json()
                        url = urlsplit(target["url"])
                        http.put(
                            f"{url.path}?{url.query}",
                            content=data,
                            headers={"Content-Type": "image/jpeg"},
                        ).raise_for_status()
                        body = http.post(
                            f"/api/patients/{patient.id}/uploads/confirm",
                            json={"key": target["key"]},
                        ).json()
                        with lock:
                            confirmed_at[uuid.UUID(body["id"])] = time.monotonic()

            started = time.monotonic()
            threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
            for thread in threads:
                thread.start()
            ready_at: dict[uuid.UUID, float] = {}
            while len(ready_at) < CLIENTS * PER_CLIENT and time.monotonic() - started < 600:
                with factory() as session:
                    rows = session.execute(
                        Image.__table__.select().with_only_columns(
                            Image.id, Image.status, Image.variants
                        )
                    ).all()
                now = time.monotonic()
                for image_id, status, variants in rows:
                    if (
                        image_id not in ready_at
                        and status is ImageStatus.READY
                        and variants.get("thumbnail")
                    ):
                        ready_at[image_id] = now
                time.sleep(0.05)
            for thread in threads:
                thread.join()
            latencies = sorted(ready_at[i] - confirmed_at[i] for i in ready_at if i in confirmed_at)
            total = time.monotonic() - started
    finally:
        engine.dispose()

    one = photos[0]
    t0 = time.perf_counter()
    for _ in range(5):
        variants = make_variants(one)
        rgb = np.asarray(PILImage.open(io.BytesIO(variants.preview)).convert("RGB"))
        score_quality(rgb, original_size=(variants.width, variants.height))
        classify_view(rgb)
    bare = (time.perf_counter() - t0) / 5
    median = statistics.median(latencies)
    p90 = latencies[int(len(latencies) * 0.9) - 1]
    print(
        f"{len(ready_at)}/{CLIENTS * PER_CLIENT} photos READY in {total:.1f} s ({CLIENTS} clients x {PER_CLIENT})"
    )
    print(f"confirm -> thumbnail available: median {median * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms")
    print(f"bare processing of one photo in this process: {bare * 1000:.0f} ms")
    print(f"ratio median latency / bare processing: {median / bare:.1f}")


if __name__ == "__main__":
    main()
