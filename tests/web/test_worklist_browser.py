"""The doctor's day in Chromium (issue 23): the worklist with its thumbnails, quality flags and AI
triage, j / k / Enter into the oldest check-in, the review screen with synchronized zoom, the tag
form that stays in view, keyboard shortcuts and "Submit and next" through the whole queue."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ortholens.models import ScanSession, ScanSessionStatus, TagSet
from ortholens.runtime import Runtime
from tests.factories import PASSWORD
from tests.fixtures.staff_world import SHOTS, WIDE, StaffWorld, seed_staff_world
from tests.web.conftest import WatchedPage, sign_in_through_form, wait_for_js

pytestmark = pytest.mark.browser

ALL_PHOTOS_LOADED = (
    "Array.from(document.querySelectorAll('img.compare__img'))"
    ".every((img) => img.complete && img.naturalWidth > 0)"
)


@pytest.fixture
def world(live_runtime: Runtime) -> StaffWorld:
    return seed_staff_world(live_runtime)


def _in_viewport(page: WatchedPage, selector: str) -> bool:
    inside: bool = page.evaluate(
        f"""(() => {{ const box = document.querySelector({selector!r}).getBoundingClientRect();
        return box.top >= 0 && box.bottom <= window.innerHeight; }})()"""
    )
    return inside


def test_the_worklist_shows_each_check_in_with_its_flags_and_triage(
    page: WatchedPage, live_server: str, world: StaffWorld
) -> None:
    page.set_viewport_size(WIDE)
    sign_in_through_form(page, live_server, world.admin.email, PASSWORD)
    page.goto(f"{live_server}/", wait_until="networkidle")
    rows = page.locator("[data-worklist-item]")
    assert rows.count() == 3
    names = [rows.nth(i).locator(".worklist__name").inner_text() for i in range(3)]
    assert names == ["Ana Silva", "Ben Okafor", "Cleo Martin"]  # oldest first
    assert rows.nth(0).get_by_test_id("triage").inner_text() == "AI: GO"
    assert rows.nth(1).get_by_test_id("triage").inner_text() == "No AI suggestion yet"
    assert "5 photos to retake (blurred)" in rows.nth(1).get_by_test_id("quality-flag").inner_text()
    assert "3 of 5 photos" in rows.nth(2).inner_text()
    thumbs = rows.nth(0).locator("img.worklist__thumb")
    assert thumbs.count() == 5
    wait_for_js(
        page,
        "[...document.querySelectorAll('img.worklist__thumb')]"
        ".every((img) => img.complete && img.naturalWidth > 0)",
    )
    assert "Ana Silva" in page.locator("#unread-threads").inner_text()
    assert "Leo Late" in page.locator("#overdue-patients").inner_text()
    assert page.get_by_text("move").first.is_visible()  # the keys are documented on the page
    assert page.problems == []


def test_review_the_whole_queue_with_the_keyboard_and_submit_and_next(
    page: WatchedPage,
    live_server: str,
    live_runtime: Runtime,
    world: StaffWorld,
    screenshot_dir: Path,
) -> None:
    page.set_viewport_size(WIDE)
    sign_in_through_form(page, live_server, world.admin.email, PASSWORD)
    page.goto(f"{live_server}/", wait_until="networkidle")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")  # back to the first, the oldest
    assert page.locator(".worklist__link.is-selected .worklist__name").inner_text() == "Ana Silva"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/monitoring/sessions/{world.ana_current.id}")
    wait_for_js(page, ALL_PHOTOS_LOADED)

    # Current beside previous, a quality score under every photo.
    assert page.locator(".compare__cell--current img.compare__img").count() == 5
    assert page.locator(".compare__cell--previous img.compare__img").count() == 5
    assert page.get_by_test_id("photo-quality").first.inner_text().startswith("Quality 85")
    # The form's submit button is in view on arrival and still after scrolling to the last photo.
    page.screenshot(path=SHOTS / "1440-review-viewport.png")
    assert _in_viewport(page, "[data-submit-next]")
    page.locator(".compare__row").last.scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 300
    assert _in_viewport(page, "[data-submit-next]")
    page.evaluate("window.scrollTo(0, 0)")

    # Wheel zoom on the current photo moves the previous one of that view the same way.
    frame = page.locator("[data-pz]").first
    box = frame.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4)
    page.mouse.wheel(0, -400)
    group = page.locator("[data-pz-group]").first
    assert float(group.get_attribute("data-zoom") or "1") > 1.5
    transforms = group.locator("img.compare__img").evaluate_all(
        "(imgs) => imgs.map((img) => img.style.transform)"
    )
    assert len(transforms) == 2 and transforms[0] == transforms[1] and "scale" in transforms[0]
    # Drag pans both; double-click resets.
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6, steps=4)
    page.mouse.up()
    moved = group.locator("img.compare__img").evaluate_all(
        "(imgs) => imgs.map((img) => img.style.transform)"
    )
    assert moved[0] == moved[1] != transforms[0]
    page.screenshot(path=SHOTS / "1440-review-zoomed.png")
    frame.dblclick()
    assert group.get_attribute("data-zoom") == "1.00"

    # The AI's suggestion is filled in; the doctor confirms with keys and goes on.
    page.keyboard.press("2")
    page.keyboard.press("f")
    assert page.locator('input[name="overall_tracking"]:checked').get_attribute("value") == "2"
    assert page.locator('input[name="oral_hygiene"]:checked').get_attribute("value") == "2"
    with page.expect_navigation():
        page.keyboard.press("s")
    assert page.url.endswith(f"/monitoring/sessions/{world.ben_current.id}?notice=reviewed-next")
    assert page.get_by_text("This is the next check-in.").is_visible()

    # Ben's first check-in: one column of photos, no empty boxes for a previous check-in.
    wait_for_js(page, ALL_PHOTOS_LOADED)
    assert page.locator(".compare__cell--previous").count() == 0
    assert page.locator(".compare__missing").count() == 0
    assert page.locator(".compare__cell--current img.compare__img").count() == 5
    assert page.get_by_test_id("photo-quality").first.get_by_text("Retake suggested").is_visible()
    page.screenshot(path=screenshot_dir / "review-first-check-in.png", full_page=True)
    # Without a suggestion both values are the doctor's: the button submits and goes on.
    page.keyboard.press("3")
    page.keyboard.press("p")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit and next").click()
    page.keyboard.press("1")
    page.keyboard.press("g")
    with page.expect_navigation():
        page.keyboard.press("s")

    # The queue is done: back on the worklist, which says so and is empty.
    assert page.url.endswith("/?notice=queue-done")
    assert page.get_by_text("the queue is empty").is_visible()
    assert page.get_by_test_id("queue-count").inner_text() == "0"
    assert page.locator('.topnav__link[href="/monitoring"] [data-badge]').count() == 0
    with live_runtime.session_factory() as session:
        rows = session.execute(
            select(ScanSession.patient_id, TagSet.overall_tracking, TagSet.oral_hygiene)
            .join(TagSet, TagSet.scan_session_id == ScanSession.id)
            .where(ScanSession.status == ScanSessionStatus.REVIEWED)
        ).all()
        tags = {patient_id: (tracking, hygiene) for patient_id, tracking, hygiene in rows}
    assert tags[world.ana.id] == (2, 2)
    assert tags[world.ben.id] == (3, 3)
    assert sorted(tags.values()).count((1, 1)) == 1  # Cleo's
    assert page.problems == []


def test_a_reviewed_check_in_offers_the_next_one(
    page: WatchedPage, live_server: str, world: StaffWorld
) -> None:
    page.set_viewport_size(WIDE)
    sign_in_through_form(page, live_server, world.admin.email, PASSWORD)
    page.goto(f"{live_server}/monitoring/sessions/{world.ana_current.id}")
    page.keyboard.press("1")
    page.keyboard.press("g")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit review").click()
    assert page.locator("#review-result").is_visible()
    with page.expect_navigation():
        page.keyboard.press("n")
    assert page.url.endswith(f"/monitoring/sessions/{world.ben_current.id}")
    assert page.problems == []
