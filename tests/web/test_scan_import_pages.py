"""Importing intraoral scans from the staff pages, correcting an arch and the pending queue.

Through the ASGI app: a doctor imports an STL on the patient's scans page and sees it listed with
its detected arch; a broken file is refused on the page and stores nothing; a scanner export
naming no patient lands in the pending queue, from where it is assigned or discarded; a person's
arch correction replaces the detection; a large file goes to the background job and the page
follows it. Front desk gets 403, another clinic 404. In headless Chromium: the same import through
the form, and a background import's progress bar reaching the end.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ortholens.kit.jobs import Job
from ortholens.models import Clinic, Image, Patient, PendingScan, PendingScanStatus, Role
from ortholens.processing.meshes.types import ArchType
from ortholens.runtime import Runtime
from tests.factories import PASSWORD, create_clinic, create_patient, create_user
from tests.fixtures.accounts import staff_headers
from tests.intraoral.scan_files import arch as scan_arch
from tests.intraoral.scan_files import itero_bundle, stl
from tests.processing.meshes.mesh_files import binary_stl
from tests.web.conftest import WatchedPage, sign_in_through_form

PENDING_ROW = re.compile(r'data-pending-row="([^"]+)"')
SCAN_ID = re.compile(r'action="/patients/[^/]+/scans/([^/]+)/arch"')
CATEGORIES = {kind.category for kind in ArchType}


@pytest.fixture
def patient(runtime: Runtime, clinic: Clinic) -> Patient:
    return create_patient(runtime, clinic, first_name="Ana")


def upload(client: TestClient, path: str, headers: dict[str, str], name: str, data: bytes) -> Any:
    return client.post(
        path,
        headers=headers,
        files={"file": (name, data, "application/octet-stream")},
        follow_redirects=False,
    )


def images_of(runtime: Runtime, patient: Patient) -> list[Image]:
    with runtime.session_factory() as session:
        return list(session.scalars(select(Image).where(Image.patient_id == patient.id)))


def pending_rows(runtime: Runtime) -> list[PendingScan]:
    with runtime.session_factory() as session:
        return list(session.scalars(select(PendingScan)))


def test_a_doctor_imports_an_stl_and_sees_its_arch(
    client: TestClient, runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    doctor = staff_headers(client, runtime, clinic, Role.DOCTOR)
    page = client.get(f"/patients/{patient.id}/scans", headers=doctor)
    assert 'action="/patients/' + str(patient.id) + '/scans/import"' in page.text
    assert 'enctype="multipart/form-data"' in page.text

    sent = upload(
        client, f"/patients/{patient.id}/scans/import", doctor, "upper.stl", stl(ArchType.UPPER)
    )
    assert sent.status_code == 303, sent.text
    (image,) = images_of(runtime, patient)
    assert image.category in CATEGORIES
    assert image.info["arch_detection"]["confidence"] is not None
    assert sent.headers["location"] == (
        f"/patients/{patient.id}/scans?set={image.scan_set_id}&notice=imported"
    )

    shown = client.get(sent.headers["location"], headers=doctor)
    assert shown.status_code == 200
    assert "Imported scan set" in shown.text
    assert f'data-scan-set="{image.scan_set_id}"' in shown.text
    percent = round(image.info["arch_detection"]["confidence"] * 100)
    assert f"Detected ({percent} %)" in shown.text
    label = {"SCAN_UPPER": "Upper arch", "SCAN_LOWER": "Lower arch", "SCAN_BITE": "Bite"}
    assert re.search(
        rf"data-import-outcome.*<strong>{label[str(image.category)]}</strong>", shown.text, re.S
    )


def test_a_broken_file_is_refused_on_the_page_and_nothing_is_stored(
    client: TestClient, runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    doctor = staff_headers(client, runtime, clinic, Role.DOCTOR)
    refused = upload(
        client, f"/patients/{patient.id}/scans/import", doctor, "broken.stl", b"solid nothing"
    )
    assert refused.status_code == 422
    assert "The file was not imported" in refused.text
    assert 'class="alert alert--error"' in refused.text
    assert "Import scans" in refused.text  # the form is there to try again
    empty = upload(client, f"/patients/{patient.id}/scans/import", doctor, "empty.stl", b"")
    assert empty.status_code == 422
    assert "The file is empty." in empty.text
    assert images_of(runtime, patient) == []
    assert pending_rows(runtime) == []
    assert list(runtime.store.iter_keys(str(clinic.id))) == []


def test_a_bundle_naming_no_patient_waits_and_is_assigned(
    client: TestClient, runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    doctor = staff_headers(client, runtime, clinic, Role.DOCTOR)
    sent = upload(client, "/scans/import", doctor, "export.zip", itero_bundle())
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == "/scans/pending?notice=pending"
    assert images_of(runtime, patient) == []

    queue = client.get(sent.headers["location"], headers=doctor)
    assert queue.status_code == 200
    assert "wait here for a person to assign them" in queue.text
    rows = PENDING_ROW.findall(queue.text)
    assert len(rows) == 3
    assert queue.text.count("data-pending-set=") == 1
    assert "Ann Example" in queue.text  # the patient the scanner's order names
    for name in ("a1.stl", "b2.stl", "c3.stl"):
        assert name in queue.text
    assert f'<option value="{patient.id}">' in queue.text

    first = re.search(r'action="/scans/pending/([^/]+)/assign"', queue.text)
    assert first is not None
    assigned = client.post(
        f"/scans/pending/{first.group(1)}/assign",
        headers=doctor,
        data={"patient_id": str(patient.id)},
        follow_redirects=False,
    )
    assert assigned.status_code == 303, assigned.text
    images = images_of(runtime, patient)
    assert len(images) == 3
    assert assigned.headers["location"] == (
        f"/patients/{patient.id}/scans?set={images[0].scan_set_id}&notice=assigned"
    )
    page = client.get(assigned.headers["location"], headers=doctor)
    assert "The pending scans were given to this patient." in page.text
    assert set(SCAN_ID.findall(page.text)) == {str(image.id) for image in images}
    assert {row.status for row in pending_rows(runtime)} == {PendingScanStatus.ASSIGNED}
    after = client.get("/scans/pending", headers=doctor)
    assert "Nothing is waiting" in after.text
    assert PENDING_ROW.findall(after.text) == []


def test_a_pending_set_is_discarded(
    client: TestClient, runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    doctor = staff_headers(client, runtime, clinic, Role.DOCTOR)
    upload(client, "/scans/import", doctor, "export.zip", itero_bundle())
    queue = client.get("/scans/pending", headers=doctor)
    target = re.search(r'action="/scans/pending/([^/]+)/discard"', queue.text)
    assert target is not None
    gone = client.post(
        f"/scans/pending/{target.group(1)}/discard", headers=doctor, follow_redirects=False
    )
    assert gone.status_code == 303
    assert gone.headers["location"] == "/scans/pending?notice=discarded"
    assert {row.status for row in pending_rows(runtime)} == {PendingScanStatus.DISCARDED}
    after = client.get(gone.headers["location"], headers=doctor)
    assert "The pending scans were discarded." in after.text
    assert PENDING_ROW.findall(after.text) == []
    again = client.post(
        f"/scans/pending/{target.group(1)}/discard", headers=doctor, follow_redirects=False
    )
    assert again.status_code == 409


def test_a_person_corrects_the_arch(
    client: TestClient, runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    doctor = staff_headers(client, runtime, clinic, Role.DOCTOR)
    upload(client, f"/patients/{patient.id}/scans/import", doctor, "scan.stl", stl(ArchType.UPPER))
    (image,) = images_of(runtime, patient)
    wanted = "BITE" if image.category != "SCAN_BITE" else "LOWER"
    action = f"/patients/{patient.id}/scans/{image.id}/arch"
    changed = client.post(action, headers=doctor, data={"arch": wanted}, follow_redirects=False)
    assert changed.status_code == 303, changed.text
    (image,) = images_of(runtime, patient)
    assert image.category == f"SCAN_{wanted}"
    assert image.info["arch_set_by_user"] is True
    page = client.get(changed.headers["location"], headers=doctor)
    assert "The arch was changed." in page.text
    assert "Set by a person" in page.text
    assert f'<option value="{wanted}" selected>' in page.text

    wrong = client.post(action, headers=doctor, data={"arch": "MIDDLE"}, follow_redirects=False)
    assert wrong.status_code == 422
    (image,) = images_of(runtime, patient)
    assert image.category == f"SCAN_{wanted}"


def test_a_large_file_is_imported_in_the_background(
    client: TestClient,
    runtime: Runtime,
    clinic: Clinic,
    patient: Patient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runtime.settings, "scan_background_mb", 0)
    doctor = staff_headers(client, runtime, clinic, Role.DOCTOR)
    sent = upload(
        client, f"/patients/{patient.id}/scans/import", doctor, "upper.stl", stl(ArchType.UPPER)
    )
    assert sent.status_code == 303, sent.text
    match = re.fullmatch(r"/scans/jobs/([0-9a-f-]+)", sent.headers["location"])
    assert match is not None
    job_id = uuid.UUID(match.group(1))
    assert images_of(runtime, patient) == []

    waiting = client.get(sent.headers["location"], headers=doctor, follow_redirects=False)
    assert waiting.headers["location"] == f"/patients/{patient.id}/scans?job={job_id}"
    page = client.get(waiting.headers["location"], headers=doctor)
    assert f'data-job-url="/api/jobs/{job_id}"' in page.text
    assert "<progress" in page.text

    runtime.queue.execute(job_id)
    with runtime.session_factory() as session:
        job = session.get(Job, job_id)
        assert job is not None and str(job.status) == "succeeded"
    (image,) = images_of(runtime, patient)
    done = client.get(sent.headers["location"], headers=doctor, follow_redirects=False)
    assert done.headers["location"] == (
        f"/patients/{patient.id}/scans?set={image.scan_set_id}&notice=imported"
    )


def test_front_desk_may_not_import_or_see_the_queue(
    client: TestClient, runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    front_desk = staff_headers(client, runtime, clinic, Role.FRONT_DESK)
    doctor = staff_headers(client, runtime, clinic, Role.DOCTOR)
    data = stl(ArchType.UPPER)
    for path in (f"/patients/{patient.id}/scans/import", "/scans/import"):
        assert upload(client, path, front_desk, "upper.stl", data).status_code == 403
    assert client.get("/scans/pending", headers=front_desk).status_code == 403
    assert images_of(runtime, patient) == [] and pending_rows(runtime) == []
    assert 'href="/scans/pending"' not in client.get("/patients", headers=front_desk).text
    assert 'href="/scans/pending"' in client.get("/patients", headers=doctor).text


def test_another_clinic_finds_nothing(
    client: TestClient, runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    doctor = staff_headers(client, runtime, clinic, Role.DOCTOR)
    upload(client, f"/patients/{patient.id}/scans/import", doctor, "scan.stl", stl(ArchType.UPPER))
    upload(client, "/scans/import", doctor, "export.zip", itero_bundle())
    (image,) = images_of(runtime, patient)
    pending = pending_rows(runtime)[0]

    outsider = staff_headers(client, runtime, create_clinic(runtime, "Elsewhere"), Role.DOCTOR)
    imported = upload(
        client, f"/patients/{patient.id}/scans/import", outsider, "x.stl", stl(ArchType.LOWER)
    )
    assert imported.status_code == 404
    arch = client.post(
        f"/patients/{patient.id}/scans/{image.id}/arch",
        headers=outsider,
        data={"arch": "LOWER"},
        follow_redirects=False,
    )
    assert arch.status_code == 404
    queue = client.get("/scans/pending", headers=outsider)
    assert queue.status_code == 200 and PENDING_ROW.findall(queue.text) == []
    for action in ("assign", "discard"):
        answer = client.post(
            f"/scans/pending/{pending.id}/{action}",
            headers=outsider,
            data={"patient_id": str(patient.id)},
            follow_redirects=False,
        )
        assert answer.status_code == 404
    with runtime.session_factory() as session:
        count = session.scalar(select(func.count()).select_from(Image))
        assert count == 1
    assert {row.status for row in pending_rows(runtime)} == {PendingScanStatus.PENDING}


# ---- In the browser ------------------------------------------------------------------------------


@pytest.mark.browser
def test_a_doctor_imports_through_the_form_and_follows_a_background_import(
    page: WatchedPage,
    live_server: str,
    live_runtime: Runtime,
    screenshot_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clinic = create_clinic(live_runtime, "Bright Smiles")
    patient = create_patient(live_runtime, clinic, first_name="Ana")
    doctor = create_user(live_runtime, clinic, Role.DOCTOR)
    upper = tmp_path / "upper.stl"
    upper.write_bytes(stl(ArchType.UPPER))
    lower = tmp_path / "lower.stl"
    lower.write_bytes(stl(ArchType.LOWER, seed=2))

    sign_in_through_form(page, live_server, doctor.email, PASSWORD)
    page.goto(f"{live_server}/patients/{patient.id}/scans")
    page.set_input_files("#scan-file", str(upper))
    with page.expect_navigation():
        page.get_by_role("button", name="Import").click()
    outcome = page.locator("[data-import-outcome]")
    outcome.wait_for()
    assert "Detected (" in outcome.inner_text()
    assert len(images_of(live_runtime, patient)) == 1
    page.screenshot(path=str(screenshot_dir / "scan-import-done.png"), full_page=True)

    # Every file is "large" now: the upload is stored and the import left to the job queue.
    monkeypatch.setattr(live_runtime.settings, "scan_background_mb", 0)
    page.set_input_files("#scan-file", str(lower))
    with page.expect_navigation(url=re.compile(r"/scans\?job=")):
        page.get_by_role("button", name="Import").click()
    panel = page.locator("[data-scan-job]")
    panel.wait_for()
    job_id = uuid.UUID(page.url.rsplit("job=", 1)[1])
    assert panel.get_attribute("data-state") in ("waiting", "queued")
    page.screenshot(path=str(screenshot_dir / "scan-import-waiting.png"), full_page=True)

    live_runtime.queue.execute(job_id)
    # The script goes on to the outcome only once the job API has said "succeeded".
    page.wait_for_url(re.compile(r"notice=imported"))
    page.locator("[data-import-outcome]").wait_for()
    assert len(images_of(live_runtime, patient)) == 2
    assert page.locator("[data-scan-job]").count() == 0

    # A file the job cannot read: the bar stops and says why, and nothing is recorded.
    broken = tmp_path / "broken.stl"
    broken.write_bytes(b"solid nothing at all")
    page.set_input_files("#scan-file", str(broken))
    with page.expect_navigation(url=re.compile(r"/scans\?job=")):
        page.get_by_role("button", name="Import").click()
    failed_id = uuid.UUID(page.url.rsplit("job=", 1)[1])
    live_runtime.queue.execute(failed_id)
    page.locator('[data-scan-job][data-state="failed"]').wait_for()
    error = page.locator("[data-job-error]")
    assert error.is_visible()
    assert error.inner_text().startswith("The import failed:")
    page.screenshot(path=str(screenshot_dir / "scan-import-failed.png"), full_page=True)
    assert len(images_of(live_runtime, patient)) == 2

    # A scanner export naming nobody of the clinic waits in the queue until it is assigned.
    monkeypatch.setattr(live_runtime.settings, "scan_background_mb", 100)
    bundle = tmp_path / "export.zip"
    bundle.write_bytes(itero_bundle())
    with page.expect_navigation():
        page.get_by_role("link", name="Pending scans").click()
    page.set_input_files("#scan-file", str(bundle))
    with page.expect_navigation(url=re.compile(r"notice=pending")):
        page.get_by_role("button", name="Import").click()
    assert page.locator("[data-pending-row]").count() == 3
    page.screenshot(path=str(screenshot_dir / "scan-pending.png"), full_page=True)
    page.locator("select[name=patient_id]").select_option(str(patient.id))
    with page.expect_navigation(url=re.compile(r"notice=assigned")):
        page.get_by_role("button", name="Assign").click()
    assert len(images_of(live_runtime, patient)) == 5
    assert page.problems == []
    assert page.csp_violations() == []


def test_the_form_offers_other_units_and_reads_the_scan_in_them(
    client: TestClient, runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    # A lower arch written in metres: as millimetres it is 0.07 mm across and is left unset with
    # the conversion named; chosen "Metres" on the form, it is read as the arch it is.
    doctor = staff_headers(client, runtime, clinic, Role.DOCTOR)
    page = client.get(f"/patients/{patient.id}/scans", headers=doctor).text
    assert 'name="units"' in page and '<option value="m">Metres</option>' in page
    assert '<option value="in">Inches</option>' in client.get("/scans/pending", headers=doctor).text
    mesh = scan_arch(ArchType.LOWER, 11)
    mesh.apply_scale(0.001)
    sent = client.post(
        f"/patients/{patient.id}/scans/import",
        headers=doctor,
        files={"file": ("lower.stl", binary_stl(mesh), "application/octet-stream")},
        data={"units": "m"},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    (image,) = images_of(runtime, patient)
    assert image.category == "SCAN_LOWER"
    assert image.info["arch_detection"]["size"]["declared"] == "m"

    refused = client.post(
        f"/patients/{patient.id}/scans/import",
        headers=doctor,
        files={"file": ("lower.stl", binary_stl(mesh), "application/octet-stream")},
        data={"units": "parsecs"},
        follow_redirects=False,
    )
    assert refused.status_code == 422 and "Unknown units" in refused.text
    assert len(images_of(runtime, patient)) == 1
