"""The iTero endpoints and sync job against the local stand-in for the vendor's API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ortholens.app import create_app
from ortholens.intraoral import itero
from ortholens.kit.jobs import JobStatus
from ortholens.models import Image, ImageSource, PendingScan, Role, ScannerIntegration, User
from ortholens.runtime import Runtime, build_runtime
from ortholens.scanners.itero import IteroTokens
from tests.conftest import make_settings
from tests.factories import create_clinic, create_patient, create_user, sign_in
from tests.fixtures.jobs import run_job
from tests.scanners import itero_server as vendor_module
from tests.scanners.itero_server import CLIENT_ID, CLIENT_SECRET, IteroTestServer, run_itero_server

PUBLIC_URL = "https://testserver"
AUTH = "/api/imaging/3d/itero/auth"
SCANS = "/api/imaging/3d/itero/scans"
SYNC = "/api/imaging/3d/itero/sync"
JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def itero_server() -> Iterator[IteroTestServer]:
    with run_itero_server() as server:
        yield server


@pytest.fixture
def env(
    tmp_path: Path,
    database_url: str,
    itero_server: IteroTestServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Runtime, IteroTestServer, TestClient]]:
    itero_server.vendor.reset()
    # The stand-in knows one registered redirect URI; ours is the auth endpoint itself.
    monkeypatch.setattr(vendor_module, "REDIRECT_URI", PUBLIC_URL + AUTH)
    runtime = build_runtime(
        make_settings(
            tmp_path,
            database_url,
            public_url=PUBLIC_URL,
            itero_base_url=itero_server.base_url,
            itero_client_id=CLIENT_ID,
            itero_client_secret=CLIENT_SECRET,
        )
    )
    with TestClient(
        create_app(runtime), base_url=PUBLIC_URL, raise_server_exceptions=False
    ) as client:
        yield runtime, itero_server, client
    runtime.close()


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def authorize_at_vendor(client: TestClient, headers: dict[str, str]) -> str:
    """Start on our endpoint and let the vendor (the doctor agrees) send the browser back."""
    start = client.get(AUTH, headers=headers, follow_redirects=False)
    assert start.status_code == 302, start.text
    assert "/oauth/authorize?" in start.headers["location"]
    vendor = httpx.get(start.headers["location"], follow_redirects=False)
    assert vendor.status_code == 302, vendor.text
    back = vendor.headers["location"]
    assert back.startswith(PUBLIC_URL + AUTH + "?")
    return back


def connect(client: TestClient, headers: dict[str, str]) -> None:
    done = client.get(authorize_at_vendor(client, headers), headers={**headers, **JSON})
    assert done.status_code == 200, done.text
    assert done.json()["connected"] is True


def integration_of(runtime: Runtime, clinic_id: uuid.UUID) -> ScannerIntegration:
    with runtime.session_factory() as db:
        row = itero.find_integration(db, clinic_id)
        assert row is not None
        return row


def stored_tokens(runtime: Runtime, clinic_id: uuid.UUID) -> IteroTokens:
    return itero.open_tokens(
        runtime.secrets.storage_encryption_key, integration_of(runtime, clinic_id)
    )


def sync(client: TestClient, headers: dict[str, str], **body: Any) -> str:
    accepted = client.post(SYNC, headers=headers, json=body)
    assert accepted.status_code == 202, accepted.text
    return str(accepted.json()["jobId"])


def images_of(runtime: Runtime, clinic_id: uuid.UUID) -> list[Image]:
    with runtime.session_factory() as db:
        return list(
            db.scalars(select(Image).where(Image.clinic_id == clinic_id).order_by(Image.category))
        )


def staff(runtime: Runtime, role: Role) -> tuple[Any, User]:
    clinic = create_clinic(runtime)
    return clinic, create_user(runtime, clinic, role)


def test_connect_list_sync_to_a_patient_and_sync_again(
    env: tuple[Runtime, IteroTestServer, TestClient],
) -> None:
    runtime, server, client = env
    clinic, admin = staff(runtime, Role.CLINIC_ADMIN)
    doctor = create_user(runtime, clinic, Role.DOCTOR)
    patient = create_patient(runtime, clinic, first_name="Ada", last_name="Lovelace")
    connect(client, sign_in(client, admin))

    row = integration_of(runtime, clinic.id)
    assert (row.scanner_type, row.is_active, row.connected_by_id) == ("ITERO", True, admin.id)
    assert row.credentials is not None
    issued = [*server.vendor._access, *server.vendor._refresh]
    assert len(issued) == 2 and not any(token in row.credentials for token in issued)
    tokens = stored_tokens(runtime, clinic.id)
    assert {tokens.access_token, tokens.refresh_token} == set(issued)

    headers = sign_in(client, doctor)
    listed = client.get(SCANS, headers=headers)
    assert listed.status_code == 200, listed.text
    scans = listed.json()["scans"]
    assert [s["scanId"] for s in scans][:3] == ["SC-0001-1", "SC-0002-1", "SC-0003-1"]
    first = scans[0]
    assert (first["orderId"], first["patientName"], first["patientRef"]) == (
        "ORD-0001",
        "Patient Number1",
        "CH-101",
    )
    assert [(f["jaw"], f["imported"]) for f in first["files"]] == [
        ("upper", False),
        ("lower", False),
        ("bite", False),
        (None, None),
    ]
    assert first["imported"] is False
    since = client.get(SCANS, headers=headers, params={"since": "2026-03-20T00:00:00Z"})
    assert [s["scanId"] for s in since.json()["scans"]] == ["SC-0004-1", "SC-0005-1"]

    job = run_job(runtime, sync(client, headers, scanIds=["SC-0001-1"], patientId=str(patient.id)))
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert job.result is not None and job.result["images"] == 3
    images = images_of(runtime, clinic.id)
    by_category = {image.category: image for image in images}
    assert set(by_category) == {"SCAN_UPPER", "SCAN_LOWER", "SCAN_BITE"}
    assert {image.external_ref for image in images} == {
        "SC-0001-1-upper",
        "SC-0001-1-lower",
        "SC-0001-1-bite",
    }
    assert by_category["SCAN_UPPER"].external_ref == "SC-0001-1-upper"
    assert all(image.patient_id == patient.id for image in images)
    assert all(image.source is ImageSource.ITERO for image in images)
    assert all(image.scanner_type == "ITERO" for image in images)
    bite = by_category["SCAN_BITE"]
    assert bite.bite_upper_id == by_category["SCAN_UPPER"].id
    assert bite.bite_lower_id == by_category["SCAN_LOWER"].id
    assert bite.info["arch_detection"]["source"] == "scanner"
    assert integration_of(runtime, clinic.id).last_sync_at is not None

    relisted = client.get(SCANS, headers=headers).json()["scans"]
    assert relisted[0]["imported"] is True and relisted[1]["imported"] is False

    again = run_job(
        runtime, sync(client, headers, scanIds=["SC-0001-1"], patientId=str(patient.id))
    )
    assert again.status is JobStatus.SUCCEEDED, again.error
    assert again.result is not None
    assert again.result["images"] == 0 and again.result["scans"][0]["skipped"] == 3
    assert len(images_of(runtime, clinic.id)) == 3


def test_scans_go_to_the_matching_patient_or_the_pending_queue(
    env: tuple[Runtime, IteroTestServer, TestClient],
) -> None:
    runtime, _server, client = env
    clinic, admin = staff(runtime, Role.CLINIC_ADMIN)
    matched = create_patient(runtime, clinic, first_name="Patient", last_name="Number3")
    headers = sign_in(client, admin)
    connect(client, headers)

    job = run_job(runtime, sync(client, headers, scanIds=["SC-0002-1", "SC-0003-1"]))
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert job.result is not None
    unmatched, named = job.result["scans"]
    assert unmatched["patientId"] is None and len(unmatched["pending"]) == 3
    assert named["patientId"] == str(matched.id) and named["matchedBy"] == "scanner metadata"
    with runtime.session_factory() as db:
        pending = list(db.scalars(select(PendingScan).where(PendingScan.clinic_id == clinic.id)))
    assert {row.external_ref for row in pending} == {
        "SC-0002-1-upper",
        "SC-0002-1-lower",
        "SC-0002-1-bite",
    }
    assert {row.arch for row in pending} == {"UPPER", "LOWER", "BITE"}
    assert all(row.scanner_metadata["patient_name"] == "Patient Number2" for row in pending)
    assert {image.patient_id for image in images_of(runtime, clinic.id)} == {matched.id}

    again = run_job(runtime, sync(client, headers, scanIds=["SC-0002-1"]))
    assert again.status is JobStatus.SUCCEEDED, again.error
    assert again.result is not None and again.result["pending"] == 0
    with runtime.session_factory() as db:
        count = len(list(db.scalars(select(PendingScan).where(PendingScan.clinic_id == clinic.id))))
    assert count == 3


def test_a_token_renewed_mid_sync_is_saved_even_when_the_sync_then_fails(
    env: tuple[Runtime, IteroTestServer, TestClient],
) -> None:
    runtime, server, client = env
    clinic, admin = staff(runtime, Role.CLINIC_ADMIN)
    patient = create_patient(runtime, clinic)
    headers = sign_in(client, admin)
    connect(client, headers)
    assert client.get(SCANS, headers=headers).status_code == 200  # region discovered and saved
    before = stored_tokens(runtime, clinic.id)
    assert before.region_base_url == f"{server.base_url}/eu"

    files = "/eu/api/v1/orders/ORD-0001/scans/SC-0001-1/files/"
    server.vendor.fail_next(1, 401, path_prefix=files + "SC-0001-1-upper")  # token expired
    server.vendor.fail_next(1, 404, path_prefix=files + "SC-0001-1-lower")  # then a failure
    job = run_job(runtime, sync(client, headers, scanIds=["SC-0001-1"], patientId=str(patient.id)))
    assert job.status is JobStatus.QUEUED and job.error  # failed, to be retried
    assert server.vendor.token_grants == ["authorization_code", "refresh_token"]
    assert images_of(runtime, clinic.id) == []

    after = stored_tokens(runtime, clinic.id)
    assert after.refresh_token != before.refresh_token
    assert after.access_token != before.access_token
    assert after.region_base_url == before.region_base_url
    assert server.vendor._refresh[before.refresh_token].used
    assert not server.vendor._refresh[after.refresh_token].used
    # The saved grant works: an expired access token is renewed with it, in a request this time.
    server.vendor.expire_access_tokens()
    assert client.get(SCANS, headers=headers).status_code == 200
    assert stored_tokens(runtime, clinic.id).refresh_token not in {
        before.refresh_token,
        after.refresh_token,
    }
    assert integration_of(runtime, clinic.id).is_active


def test_a_revoked_grant_asks_for_a_reconnect(
    env: tuple[Runtime, IteroTestServer, TestClient],
) -> None:
    runtime, server, client = env
    clinic, admin = staff(runtime, Role.CLINIC_ADMIN)
    headers = sign_in(client, admin)
    connect(client, headers)
    job_id = sync(client, headers, scanIds=["SC-0001-1"])
    server.vendor.revoke_refresh_tokens()
    server.vendor.expire_access_tokens()

    job = run_job(runtime, job_id)
    assert job.status is JobStatus.FAILED and "reconnect iTero" in (job.error or "")
    assert integration_of(runtime, clinic.id).is_active is False
    for refused in (
        client.get(SCANS, headers=headers),
        client.post(SYNC, headers=headers, json={"scanIds": ["SC-0001-1"]}),
    ):
        assert refused.status_code == 409
        assert "reconnect iTero" in refused.json()["detail"]

    # Reconnecting brings it back; then iTero revoking it during a listing is caught there too.
    connect(client, headers)
    assert integration_of(runtime, clinic.id).is_active is True
    server.vendor.revoke_refresh_tokens()
    server.vendor.expire_access_tokens()
    listed = client.get(SCANS, headers=headers)
    assert listed.status_code == 409 and "reconnect iTero" in listed.json()["detail"]
    assert integration_of(runtime, clinic.id).is_active is False


def test_not_connected_permissions_and_other_clinics(
    env: tuple[Runtime, IteroTestServer, TestClient],
) -> None:
    runtime, _server, client = env
    clinic, admin = staff(runtime, Role.CLINIC_ADMIN)
    doctor = create_user(runtime, clinic, Role.DOCTOR)
    front = create_user(runtime, clinic, Role.FRONT_DESK)
    doctor_headers = sign_in(client, doctor)
    front_headers = sign_in(client, front)

    for refused in (
        client.get(SCANS, headers=doctor_headers),
        client.post(SYNC, headers=doctor_headers, json={"scanIds": ["SC-0001-1"]}),
    ):
        assert refused.status_code == 409
        assert "not connected" in refused.json()["detail"]
    for headers in (doctor_headers, front_headers):
        assert client.get(AUTH, headers=headers, follow_redirects=False).status_code == 403
    assert client.get(SCANS, headers=front_headers).status_code == 403

    admin_headers = sign_in(client, admin)
    connect(client, admin_headers)
    other_clinic, other_admin = staff(runtime, Role.CLINIC_ADMIN)
    other_headers = sign_in(client, other_admin)
    listed = client.get(SCANS, headers=other_headers)
    assert listed.status_code == 409 and "not connected" in listed.json()["detail"]
    patient = create_patient(runtime, clinic)
    stolen = client.post(
        SYNC, headers=other_headers, json={"scanIds": ["SC-0001-1"], "patientId": str(patient.id)}
    )
    assert stolen.status_code == 404
    with runtime.session_factory() as db:
        rows = list(db.scalars(select(ScannerIntegration)))
    assert [row.clinic_id for row in rows] == [clinic.id]
    assert other_clinic.id != clinic.id


def test_the_callback_checks_state_user_and_vendor_errors(
    env: tuple[Runtime, IteroTestServer, TestClient],
) -> None:
    runtime, _server, client = env
    clinic, admin = staff(runtime, Role.CLINIC_ADMIN)
    other_admin = create_user(runtime, clinic, Role.CLINIC_ADMIN)
    headers = sign_in(client, admin)

    back = authorize_at_vendor(client, headers)
    # The sealed state cookie belongs to the admin who started; another admin cannot finish it.
    hijacked = client.get(back, headers={**sign_in(client, other_admin), **JSON})
    assert hijacked.status_code == 422 and "start connecting again" in hijacked.json()["detail"]
    forged = query_of(back) | {"state": "not-the-state"}
    wrong_state = client.get(AUTH, headers={**headers, **JSON}, params=forged)
    assert wrong_state.status_code == 422

    state = query_of(authorize_at_vendor(client, headers))["state"]
    denied = client.get(AUTH, headers=headers, params={"error": "access_denied", "state": state})
    assert denied.status_code == 409 and "not granted" in denied.json()["detail"]
    odd = client.get(AUTH, headers=headers, params={"error": "server_error", "state": state})
    assert odd.status_code == 422 and "server_error" in odd.json()["detail"]
    with runtime.session_factory() as db:
        assert itero.find_integration(db, clinic.id) is None

    # A browser (no JSON asked for) lands on the patient list once connected.
    finished = client.get(
        authorize_at_vendor(client, headers), headers=headers, follow_redirects=False
    )
    assert finished.status_code == 303 and finished.headers["location"].startswith("/patients")
    assert integration_of(runtime, clinic.id).is_active
