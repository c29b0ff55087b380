"""3D scans as items of the imaging record: in the photo gallery each arch is a 3D card titled by
its arch (never the mesh file in an <img>, never a photo's quality text), its detail page leads to
the viewer, and in Chromium a 3D item opened from the gallery reaches the viewer, which follows
the preparation of the 3D view live, has preset views and is worked by keyboard."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ortholens.audit.service import SYSTEM
from ortholens.intraoral import service
from ortholens.intraoral.arches_in import read_arches
from ortholens.intraoral.tasks import scan_limits
from ortholens.kit.db import transaction
from ortholens.models import Clinic, Image, ImageSource, Patient, Role, User
from ortholens.processing.meshes.synthetic_arches import make_arch
from ortholens.processing.meshes.types import ArchType
from ortholens.runtime import Runtime
from tests.factories import PASSWORD, create_clinic, create_patient, create_user
from tests.fixtures.jobs import run_jobs
from tests.web.conftest import WatchedPage, sign_in_through_form, wait_for_js

KINDS = (ArchType.UPPER, ArchType.LOWER, ArchType.BITE)
HEIGHT = {ArchType.UPPER: 6.0, ArchType.LOWER: -6.0, ArchType.BITE: 0.0}
TITLES = {"Upper arch", "Lower arch", "Bite"}


def import_set(runtime: Runtime, patient: Patient, *, prepare: bool = True) -> list[Image]:
    """An upper, lower and bite of one set (arches said by hand where detection differs); their
    3D views are prepared unless `prepare` is False."""
    limits = scan_limits(runtime.settings.max_scan_upload_mb)
    with transaction(runtime.session_factory) as db:
        row = db.get(Patient, patient.id)
        assert row is not None
        arches = []
        for kind in KINDS:
            mesh = make_arch(kind, 5, triangles=3_000)
            mesh.apply_transform(mesh.principal_inertia_transform)
            mesh.apply_translation([0.0, 0.0, HEIGHT[kind]])
            arches += read_arches(mesh.export(file_type="stl"), f"{kind.value}.stl", limits)
        importer = service.Importer(SYSTEM, row.clinic_id, None, ImageSource.UPLOAD)
        outcome = service.import_scan_set(db, runtime.store, importer, arches, row)
        for image, kind in zip(outcome.images, KINDS, strict=True):
            if image.category != kind.category:
                service.set_arch(db, SYSTEM, image, kind)
        ids = [image.id for image in outcome.images]
    if prepare:
        run_jobs(runtime)
    with runtime.session_factory() as session:
        return list(session.scalars(select(Image).where(Image.id.in_(ids))))


def login(client: TestClient, user: User) -> None:
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": client.cookies["ol_csrf"]},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def patient(runtime: Runtime, clinic: Clinic) -> Patient:
    return create_patient(runtime, clinic, first_name="Ana")


def test_the_gallery_shows_scans_as_3d_items(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User, patient: Patient
) -> None:
    images = import_set(runtime, patient)
    login(client, doctor)
    html = client.get(f"/patients/{patient.id}/photos").text
    cards = re.findall(
        r'<li class="photo-card photo-card--scan" data-scan-item>(.*?)</li>', html, re.S
    )
    assert len(cards) == 3
    titles = {re.search(r'photo-card__title">([^<]+)<', card).group(1) for card in cards}  # type: ignore[union-attr]
    assert titles == TITLES
    assert "View not set" not in html
    for card in cards:
        assert f'href="/patients/{patient.id}/scans?set={images[0].scan_set_id}"' in card
        assert "3D" in card and "triangles" in card
        for src in re.findall(r'<img[^>]+src="([^"]+)"', card):
            assert ".stl" not in src and "original" not in src  # the rendered thumbnail only

    detail = client.get(f"/patients/{patient.id}/photos/{images[0].id}").text
    assert "Scored once the image is processed" not in detail
    assert "View not set" not in detail
    assert re.search(r"<h1[^>]*>(Upper arch|Lower arch|Bite)</h1>", detail)
    assert "Open in the 3D viewer" in detail
    assert not re.search(r'<img[^>]+src="[^"]*original[^"]*"', detail)


def test_front_desk_sees_3d_cards_without_a_viewer_link(
    client: TestClient, runtime: Runtime, clinic: Clinic, patient: Patient
) -> None:
    import_set(runtime, patient)
    login(client, create_user(runtime, clinic, Role.FRONT_DESK))
    html = client.get(f"/patients/{patient.id}/photos").text
    assert html.count("data-scan-item") == 3
    assert "/scans?set=" not in html and "Open in 3D" not in html


@pytest.mark.browser
def test_a_3d_item_from_the_gallery_reaches_the_viewer(
    page: WatchedPage, live_server: str, live_runtime: Runtime, screenshot_dir: Any
) -> None:
    clinic = create_clinic(live_runtime, "Bright Smiles")
    patient = create_patient(live_runtime, clinic, first_name="Ana")
    import_set(live_runtime, patient)
    doctor = create_user(live_runtime, clinic, Role.DOCTOR)
    sign_in_through_form(page, live_server, doctor.email, PASSWORD)

    page.goto(f"{live_server}/patients/{patient.id}/photos")
    cards = page.locator("[data-scan-item]")
    assert cards.count() == 3
    wait_for_js(
        page,
        "Array.from(document.querySelectorAll('[data-scan-item] img'))"
        ".every((img) => img.complete && img.naturalWidth > 0)",
    )
    page.screenshot(path=str(screenshot_dir / "gallery-3d.png"), full_page=True)
    with page.expect_navigation():
        page.locator("[data-scan-item]").filter(has_text="Upper arch").locator("a").click()
    assert "/scans?set=" in page.url
    viewer = page.locator("[data-viewer]")
    viewer.and_(page.locator('[data-state="ready"]')).wait_for()
    assert viewer.get_attribute("data-visible-arches") == "upper lower bite"
    # The viewer comes before the import form on the page.
    order = page.evaluate(
        "[document.querySelector('[data-viewer]'), document.querySelector('.scan-import')]"
        ".map((el) => el.getBoundingClientRect().top)"
    )
    assert order[0] < order[1]

    # Preset views: the occlusal ones show their arch alone, from below or above.
    page.get_by_role("button", name="Upper occlusal").click()
    viewer.and_(page.locator('[data-view="upper"]')).wait_for()
    assert viewer.get_attribute("data-visible-arches") == "upper"
    assert viewer.get_attribute("data-camera-direction") == "0.000 0.001 -1.000"
    page.locator("[data-canvas]").screenshot(path=str(screenshot_dir / "viewer-upper-occlusal.png"))

    # The keyboard: the canvas takes focus; 2 is the right side, arrows turn, + zooms in.
    page.keyboard.press("Tab")
    page.locator("[data-canvas]").focus()
    assert page.evaluate("document.activeElement.matches('[data-canvas]')")
    page.keyboard.press("2")
    viewer.and_(page.locator('[data-view="right"]')).wait_for()
    page.locator("[data-canvas]").screenshot(path=str(screenshot_dir / "viewer-right.png"))
    assert viewer.get_attribute("data-camera-direction") == "1.000 0.000 0.000"
    page.keyboard.press("ArrowRight")
    turned = viewer.get_attribute("data-camera-direction")
    assert turned == "0.985 0.174 0.000"  # 10 degrees around the vertical axis
    before = page.evaluate("document.querySelector('[data-canvas]').getBoundingClientRect().top")
    page.keyboard.press("+")
    page.keyboard.press("ArrowDown")
    assert (
        page.evaluate("document.querySelector('[data-canvas]').getBoundingClientRect().top")
        == before
    )
    assert viewer.get_attribute("data-camera-direction") != turned
    page.keyboard.press("0")
    wait_for_js(page, "!document.querySelector('[data-viewer]').dataset.view")
    assert page.problems == []
    assert page.csp_violations() == []


@pytest.mark.browser
def test_the_viewer_follows_the_preparation_live(
    page: WatchedPage, live_server: str, live_runtime: Runtime, screenshot_dir: Any
) -> None:
    clinic = create_clinic(live_runtime, "Bright Smiles")
    patient = create_patient(live_runtime, clinic, first_name="Ana")
    import_set(live_runtime, patient, prepare=False)
    doctor = create_user(live_runtime, clinic, Role.DOCTOR)
    sign_in_through_form(page, live_server, doctor.email, PASSWORD)

    page.goto(f"{live_server}/patients/{patient.id}/scans")
    progress = page.locator("[data-scan-progress]")
    progress.wait_for()
    assert "0 of 3" in progress.inner_text()
    assert "Reload the page" not in page.content()
    page.screenshot(path=str(screenshot_dir / "viewer-preparing.png"), full_page=True)
    run_jobs(live_runtime)  # the worker prepares the web meshes meanwhile
    page.locator('[data-viewer][data-state="ready"]').wait_for(timeout=20_000)
    assert page.locator("[data-viewer]").get_attribute("data-meshes") == "3"
    assert page.locator("[data-scan-progress]").count() == 0
    assert page.problems == []
