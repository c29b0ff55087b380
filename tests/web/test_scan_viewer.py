"""The staff 3D scan viewer (`/patients/{id}/scans`).

Through the ASGI app: a doctor sees the patient's scan sets with thumbnails, arch labels and signed
web-mesh links; front desk gets 403, another clinic's patient 404. In headless Chromium: the viewer
renders the upper, lower and bite of a synthetic scan set with WebGL, hides an arch when its box is
unticked and measures the distance between two points clicked on the mesh.
"""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image as PILImage
from sqlalchemy import select

from ortholens.audit.service import SYSTEM
from ortholens.intraoral import service
from ortholens.intraoral.arches_in import read_arches
from ortholens.intraoral.tasks import scan_limits
from ortholens.kit.db import transaction
from ortholens.models import Clinic, Image, ImageSource, Patient, Role
from ortholens.processing.meshes.synthetic_arches import make_arch
from ortholens.processing.meshes.types import ArchType
from ortholens.runtime import Runtime
from tests.factories import PASSWORD, create_clinic, create_patient, create_user
from tests.fixtures.accounts import staff_headers
from tests.fixtures.jobs import run_jobs
from tests.web.conftest import WatchedPage, sign_in_through_form

KINDS = (ArchType.UPPER, ArchType.LOWER, ArchType.BITE)
TRIANGLES = 3_000  # small meshes: the page and the viewer work the same, the test runs fast
MESH_URL = re.compile(r'data-mesh-url="([^"]+)"')


# A scanner exports the arches of a set in one frame, occluding; `make_arch` gives each a random
# pose. Each is put on its principal axes, the upper above the bite and the lower below it.
HEIGHT = {ArchType.UPPER: 6.0, ArchType.LOWER: -6.0, ArchType.BITE: 0.0}


def in_one_frame(mesh: Any, kind: ArchType) -> Any:
    mesh.apply_transform(mesh.principal_inertia_transform)
    mesh.apply_translation([0.0, 0.0, HEIGHT[kind]])
    return mesh


GUM_RED = (200, 60, 70, 255)


def scan_file(kind: ArchType, mesh: Any, limits: Any) -> list[Any]:
    """The upper arch as a PLY with vertex colours (as colour scanners export), the others as STL."""
    if kind is ArchType.UPPER:
        mesh.visual.vertex_colors = GUM_RED
        return read_arches(mesh.export(file_type="ply"), "upper.ply", limits)
    return read_arches(mesh.export(file_type="stl"), f"{kind.value}.stl", limits)


def red(pixels: np.ndarray) -> np.ndarray:
    """Where the coloured upper arch shows (the neutral materials and background are not red)."""
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return (r - g > 50) & (r - b > 50)


def import_scan_set(runtime: Runtime, patient: Patient, seed: int) -> dict[ArchType, Any]:
    """An upper, lower and bite imported for `patient` as one set, with their web meshes and
    thumbnails prepared; returns the synthetic meshes by arch."""
    meshes = {
        kind: in_one_frame(make_arch(kind, seed, triangles=TRIANGLES), kind) for kind in KINDS
    }
    limits = scan_limits(runtime.settings.max_scan_upload_mb)
    with transaction(runtime.session_factory) as db:
        row = db.get(Patient, patient.id)
        assert row is not None
        arches = [arch for kind, mesh in meshes.items() for arch in scan_file(kind, mesh, limits)]
        importer = service.Importer(SYSTEM, row.clinic_id, None, ImageSource.UPLOAD)
        outcome = service.import_scan_set(db, runtime.store, importer, arches, row)
        # The shape-based arch detection is not what is under test: say which arch each one is.
        for image, kind in zip(outcome.images, KINDS, strict=True):
            if image.category != kind.category:
                service.set_arch(db, SYSTEM, image, kind)
    run_jobs(runtime)
    with runtime.session_factory() as session:
        statuses = session.scalars(select(Image.status).where(Image.patient_id == patient.id))
        assert {str(status) for status in statuses} == {"READY"}
    return meshes


# ---- Server-side ---------------------------------------------------------------------------------


@pytest.fixture
def patient(runtime: Runtime, clinic: Clinic) -> Patient:
    return create_patient(runtime, clinic, first_name="Ana")


def test_a_doctor_sees_the_scan_sets_and_their_links(
    client: TestClient, runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    import_scan_set(runtime, patient, seed=3)
    import_scan_set(runtime, patient, seed=4)
    doctor = staff_headers(client, runtime, clinic, Role.DOCTOR)
    with runtime.session_factory() as session:
        images = list(session.scalars(select(Image).where(Image.patient_id == patient.id)))
    sets = {image.scan_set_id for image in images}
    newest = max(images, key=lambda image: image.created_at).scan_set_id
    (older,) = sets - {newest}

    record = client.get(f"/patients/{patient.id}", headers=doctor)
    assert record.status_code == 200
    assert f'href="/patients/{patient.id}/scans"' in record.text

    page = client.get(f"/patients/{patient.id}/scans", headers=doctor)
    assert page.status_code == 200, page.text
    assert page.text.count('class="scan-set') >= 2
    for set_id in sets:
        assert f'data-scan-set="{set_id}"' in page.text
    assert page.text.count('<img class="scan-arch__img"') == 6
    for label in ("Upper arch", "Lower arch", "Bite"):
        assert label in page.text
    selected = re.search(r'data-scan-set="([^"]+)"[^>]*>\s*<a[^>]*aria-current="true"', page.text)
    assert selected and selected.group(1) == str(newest)
    meshes = MESH_URL.findall(page.text)
    assert len(meshes) == 3
    arches = re.findall(r'data-mesh-toggle data-arch="(\w+)"', page.text)
    assert arches == ["upper", "lower", "bite"]
    fetched = client.get(meshes[0].replace("&amp;", "&"))
    assert fetched.status_code == 200
    assert fetched.content.startswith(b"ply\n") and b"binary_little_endian" in fetched.content[:80]

    chosen = client.get(f"/patients/{patient.id}/scans?set={older}", headers=doctor)
    assert chosen.status_code == 200
    selected = re.search(r'data-scan-set="([^"]+)"[^>]*>\s*<a[^>]*aria-current="true"', chosen.text)
    assert selected and selected.group(1) == str(older)
    older_ids = {str(image.id) for image in images if image.scan_set_id == older}
    shown = set(re.findall(r'data-scan-id="([^"]+)"', chosen.text))
    assert shown == older_ids


def test_a_patient_without_scans_sees_an_empty_state(
    client: TestClient, runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    doctor = staff_headers(client, runtime, clinic, Role.DOCTOR)
    page = client.get(f"/patients/{patient.id}/scans", headers=doctor)
    assert page.status_code == 200
    assert "No 3D scans yet" in page.text
    assert "data-viewer" not in page.text


def test_front_desk_may_not_open_the_viewer(
    client: TestClient, runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    front_desk = staff_headers(client, runtime, clinic, Role.FRONT_DESK)
    page = client.get(f"/patients/{patient.id}/scans", headers=front_desk)
    assert page.status_code == 403
    assert "data-mesh-url" not in page.text
    record = client.get(f"/patients/{patient.id}", headers=front_desk)
    assert record.status_code == 200
    assert f'href="/patients/{patient.id}/scans"' not in record.text


def test_another_clinics_patient_is_not_found(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    outsider = staff_headers(client, runtime, create_clinic(runtime, "Elsewhere"), Role.DOCTOR)
    page = client.get(f"/patients/{patient.id}/scans", headers=outsider)
    assert page.status_code == 404
    assert "data-mesh-url" not in page.text
    missing = client.get(f"/patients/{uuid.uuid4()}/scans", headers=outsider)
    assert missing.status_code == 404


# ---- In the browser ------------------------------------------------------------------------------


def canvas_pixels(page: WatchedPage) -> np.ndarray:
    """The viewer's canvas as an RGB array (device scale 1: one pixel per CSS pixel)."""
    shot = page.locator("[data-canvas]").screenshot()
    return np.asarray(PILImage.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)


def most_common_colour(pixels: np.ndarray) -> np.ndarray:
    colours, counts = np.unique(pixels.reshape(-1, 3), axis=0, return_counts=True)
    return np.asarray(colours[np.argmax(counts)])


def mesh_mask(pixels: np.ndarray, background: np.ndarray) -> np.ndarray:
    return np.abs(pixels - background).max(axis=2) > 6


def inner_points(mask: np.ndarray, margin: int = 4) -> np.ndarray:
    """(y, x) of mask pixels whose whole neighbourhood is mask too (safely on the mesh)."""
    inner = mask.copy()
    for dy in range(-margin, margin + 1):
        for dx in range(-margin, margin + 1):
            inner &= np.roll(mask, (dy, dx), axis=(0, 1))
    inner[:margin] = inner[-margin:] = False
    inner[:, :margin] = inner[:, -margin:] = False
    return np.argwhere(inner)


def set_arch_visible(page: WatchedPage, arch: str, visible: bool) -> None:
    box = page.locator(f'input[data-mesh-toggle][data-arch="{arch}"]')
    if visible:
        box.check()
    else:
        box.uncheck()


@pytest.mark.browser
def test_the_viewer_renders_toggles_and_measures(
    page: WatchedPage, live_server: str, live_runtime: Runtime, screenshot_dir: Path
) -> None:
    clinic = create_clinic(live_runtime, "Bright Smiles")
    patient = create_patient(live_runtime, clinic, first_name="Ana")
    meshes = import_scan_set(live_runtime, patient, seed=7)
    doctor = create_user(live_runtime, clinic, Role.DOCTOR)
    with live_runtime.session_factory() as session:
        web_faces = sum(
            image.info["web_mesh"]["faces"]
            for image in session.scalars(select(Image).where(Image.patient_id == patient.id))
        )

    sign_in_through_form(page, live_server, doctor.email, PASSWORD)
    page.goto(f"{live_server}/patients/{patient.id}")
    with page.expect_navigation():
        page.get_by_role("link", name="Open 3D scans").click()
    viewer = page.locator("[data-viewer]")
    viewer.and_(page.locator('[data-state="ready"]')).wait_for()
    assert viewer.get_attribute("data-meshes") == "3"
    assert viewer.get_attribute("data-visible-arches") == "upper lower bite"
    assert viewer.get_attribute("data-triangles") == str(web_faces)

    everything = canvas_pixels(page)
    page.screenshot(path=str(screenshot_dir / "scan-viewer-page.png"), full_page=True)
    background = most_common_colour(everything)  # the clear colour: the arches fill far less
    shown = mesh_mask(everything, background)
    assert shown.mean() > 0.02, "the canvas is blank"
    assert everything[shown].std() > 8, "the meshes are drawn flat, without shading"
    assert red(everything).sum() > 500, "the upper arch's vertex colours are not shown"

    set_arch_visible(page, "upper", False)
    viewer.and_(page.locator('[data-visible-arches="lower bite"]')).wait_for()
    assert viewer.get_attribute("data-visible-meshes") == "2"
    without_upper = canvas_pixels(page)
    changed = np.abs(without_upper - everything).max(axis=2) > 6
    assert changed.mean() > 0.002, "hiding the upper arch did not change the picture"
    assert mesh_mask(without_upper, background).sum() < shown.sum()
    assert red(without_upper).sum() == 0

    # Measure on the lower arch alone: its pixels are those that differ from an empty scene.
    set_arch_visible(page, "bite", False)
    set_arch_visible(page, "lower", False)
    viewer.and_(page.locator('[data-visible-meshes="0"]')).wait_for()
    empty = canvas_pixels(page)
    set_arch_visible(page, "lower", True)
    viewer.and_(page.locator('[data-visible-arches="lower"]')).wait_for()
    lower = canvas_pixels(page)
    on_lower = inner_points(np.abs(lower - empty).max(axis=2) > 6)
    assert len(on_lower) > 50, "the lower arch is not on screen"
    first = on_lower[np.argmin(on_lower[:, 1])]  # its leftmost and rightmost safe pixels
    second = on_lower[np.argmax(on_lower[:, 1])]
    box = page.locator("[data-canvas]").bounding_box()
    assert box is not None
    for y, x in (first, second):
        page.mouse.click(box["x"] + int(x) + 0.5, box["y"] + int(y) + 0.5)
    distance = page.locator("[data-distance]")
    page.locator("[data-viewer][data-measured-mm]").wait_for()
    text = distance.inner_text()
    assert re.fullmatch(r"\d+\.\d\d mm", text), text
    mm = float(text.split()[0])
    assert viewer.get_attribute("data-measured-mm") == text.split()[0]
    diagonal = float(np.linalg.norm(meshes[ArchType.LOWER].extents))
    assert 0 < mm < 100
    assert 5 < mm <= diagonal + 0.5  # two far-apart points of one arch, no further than its size
    measured = canvas_pixels(page)
    assert (np.abs(measured - lower).max(axis=2) > 6).sum() > 20, "no markers or line drawn"
    page.locator("[data-canvas]").screenshot(path=str(screenshot_dir / "scan-viewer-measure.png"))

    page.get_by_role("button", name="Clear measurement").click()
    assert distance.inner_text() == ""
    assert viewer.get_attribute("data-measured-mm") is None
    page.get_by_role("button", name="Reset view").click()
    assert page.problems == []
    assert page.csp_violations() == []
