"""A photo whose decoder crashes fails that one photo; the worker and the server go on."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient

from ortholens.models import Image, ImageStatus
from ortholens.runtime import DecodeSteps, Runtime
from tests.factories import create_clinic, create_consent, create_patient, patient_token
from tests.fixtures.photos import jpeg
from tests.fixtures.uploads import upload
from tests.kit.isolation_decoders import CRASH_MARKER, photo_step_crashing_on_marker


def wait_for(done: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the worker did not finish the jobs"
        time.sleep(0.1)


def statuses(runtime: Runtime, ids: list[str]) -> dict[str, Image]:
    with runtime.session_factory() as session:
        rows = {i: session.get(Image, uuid.UUID(i)) for i in ids}
        session.expunge_all()
    return {i: row for i, row in rows.items() if row is not None}


def test_a_crashing_photo_decoder_fails_one_photo_and_the_worker_goes_on(
    client: TestClient, runtime: Runtime
) -> None:
    runtime.decode_steps = DecodeSteps(photo=photo_step_crashing_on_marker)
    patient = create_patient(runtime, create_clinic(runtime))
    create_consent(runtime, patient)
    headers = patient_token(runtime, patient)
    session_id = client.post("/api/patient/scans/sessions", headers=headers).json()["id"]
    # A JPEG with bytes after its end marker: viewers ignore them, our test decoder crashes on them.
    hostile = upload(client, headers, session_id, "FRONTAL", jpeg(1) + CRASH_MARKER)
    healthy = upload(client, headers, session_id, "LEFT", jpeg(2))
    ids = [str(hostile["id"]), str(healthy["id"])]

    worker = runtime.make_worker()
    worker.start()
    try:
        wait_for(
            lambda: all(
                row.status in (ImageStatus.READY, ImageStatus.FAILED)
                for row in statuses(runtime, ids).values()
            )
        )
    finally:
        worker.stop()

    rows = statuses(runtime, ids)
    crashed, processed = rows[ids[0]], rows[ids[1]]
    assert crashed.status is ImageStatus.FAILED
    assert "the decoder crashed (signal 11, SIGSEGV)" in (crashed.failure_reason or "")
    assert processed.status is ImageStatus.READY
    assert {"thumbnail", "preview"} <= set(processed.variants)
    # The server kept answering throughout.
    assert client.get("/healthz").status_code == 200
    assert client.post("/api/patient/scans/sessions", headers=headers).status_code == 201
