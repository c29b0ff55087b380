"""Every staff page in headless Chromium at 1440x900 and on a 390x844 phone (issue 23): no sideways
scroll (measured from the page), no cards drawn over each other, a menu that fits one line on a
wide screen and opens from its button on a phone; tables that fit or scroll inside themselves.

Screenshots of each page at both sizes go to /tmp/shots/ (and pytest's tmp_path) to be looked at.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

import ortholens.web
from ortholens.runtime import Runtime
from ortholens.web.routing import PageRoute
from tests.factories import (
    PASSWORD,
)
from tests.fixtures.staff_world import SHOTS, WIDE, StaffWorld, seed_staff_world
from tests.web.conftest import PHONE, WatchedPage, sign_in_through_form

pytestmark = pytest.mark.browser

# Staff GET pages that are fragments or need a running job; everything else is visited.
NOT_PAGES = {"/ui/status", "/scans/jobs/{job_id}", "/login", "/signed-out", "/welcome/{token}"}
NOT_PAGES |= {"/api/auth/web-refresh"}
# Boxes that must never be drawn over one another (unless one holds the other).
CARDS = (
    ".panel, .card, .stat-card, .fact, .photo-card, .worklist__item, .linkrows__item, "
    ".compare__figure, .auth-card, .alert, .empty-state, .brand, .topnav__item, .usermenu__who, "
    ".usermenu__form, .menu-button"
)


@pytest.fixture
def world(live_runtime: Runtime) -> StaffWorld:
    return seed_staff_world(live_runtime)


def staff_pages(world: StaffWorld) -> dict[str, str]:
    """Name -> URL of every staff page, with real ids for the ones that need them."""
    ana = world.ana.id
    return {
        "home": "/",
        "monitoring": "/monitoring",
        "review": f"/monitoring/sessions/{world.ana_current.id}",
        "review-first": f"/monitoring/sessions/{world.ben_current.id}",
        "messages": "/messages",
        "message-new": f"/messages/new?patient={ana}",
        "thread": f"/messages/{world.thread_id}",
        "patients": "/patients",
        "patient-new": "/patients/new",
        "patient": f"/patients/{ana}",
        "gallery": f"/patients/{ana}/photos",
        "photo": f"/patients/{ana}/photos/{world.image_id}",
        "scans": f"/patients/{ana}/scans",
        "pending-scans": "/scans/pending",
        "staff": "/staff",
        "audit": "/audit",
        "system": "/system",
        "account": "/account",
    }


TEMPLATES = {
    "/": "home",
    "/monitoring": "monitoring",
    "/monitoring/sessions/{session_id}": "review",
    "/messages": "messages",
    "/messages/new": "message-new",
    "/messages/{thread_id}": "thread",
    "/patients": "patients",
    "/patients/new": "patient-new",
    "/patients/{patient_id}": "patient",
    "/patients/{patient_id}/photos": "gallery",
    "/patients/{patient_id}/photos/{image_id}": "photo",
    "/patients/{patient_id}/scans": "scans",
    "/scans/pending": "pending-scans",
    "/staff": "staff",
    "/audit": "audit",
    "/system": "system",
    "/account": "account",
}


def test_every_staff_page_is_in_the_layout_check() -> None:
    """A new staff page must be added here, or it escapes the responsive checks."""
    paths = set()
    for module_info in pkgutil.iter_modules(ortholens.web.__path__):
        module = importlib.import_module(f"ortholens.web.{module_info.name}")
        for router in vars(module).values():
            if isinstance(router, APIRouter) and router.route_class is PageRoute:
                paths |= {
                    route.path
                    for route in router.routes
                    if isinstance(route, APIRoute) and "GET" in route.methods
                }
    assert paths - NOT_PAGES == set(TEMPLATES)


_OVERLAPS = """(selector) => {
  const boxes = [...document.querySelectorAll(selector)]
    .filter((el) => el.offsetParent !== null && !el.closest("dialog:not([open])"))
    .map((el) => [el, el.getBoundingClientRect()]);
  const found = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, ra] = boxes[i];
      const [b, rb] = boxes[j];
      if (a.contains(b) || b.contains(a)) continue;
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 1 && h > 1) found.push(`${a.className} over ${b.className}`);
    }
  }
  return found;
}"""

_WIDER_THAN_VIEWPORT = """() => [...document.querySelectorAll("body *")]
  .filter((el) => {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= window.innerWidth + 1) return false;
    // Inside something that scrolls sideways on its own (a table wrapper) is fine.
    for (let up = el.parentElement; up; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (["auto", "scroll", "hidden", "clip"].includes(style.overflowX)) return false;
    }
    return true;
  })
  .slice(0, 5)
  .map((el) => `${el.tagName.toLowerCase()}.${el.className}`)"""


# Where the text of an element wraps: [last character of a line, first of the next] pairs.
_LINE_BREAKS = """(el) => {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const chars = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      chars.push([node.data[i], range.getBoundingClientRect().top]);
    }
  }
  const breaks = [];
  for (let i = 1; i < chars.length; i++) {
    if (chars[i][1] > chars[i - 1][1] + 2) breaks.push([chars[i - 1][0], chars[i][0]]);
  }
  return breaks;
}"""


def _layout_problems(page: WatchedPage) -> list[str]:
    problems = []
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    inner_width = page.evaluate("window.innerWidth")
    if scroll_width > inner_width:
        wide = page.evaluate(_WIDER_THAN_VIEWPORT)
        problems.append(f"scrolls sideways ({scroll_width} > {inner_width}): {wide}")
    overlaps = page.evaluate(_OVERLAPS, CARDS)
    if overlaps:
        problems.append(f"overlapping boxes: {overlaps[:4]}")
    return problems


def _visit_all(
    page: WatchedPage, base: str, world: StaffWorld, size: str, shots: Path
) -> list[str]:
    SHOTS.mkdir(exist_ok=True)
    failures = []
    for name, path in staff_pages(world).items():
        response = page.goto(f"{base}{path}", wait_until="load")
        assert response is not None
        if response.status != 200:
            failures.append(f"{name}: HTTP {response.status}")
            continue
        failures += [f"{name} @ {size}: {problem}" for problem in _layout_problems(page)]
        for folder in (SHOTS, shots):
            page.screenshot(path=folder / f"{size}-{name}.png", full_page=True)
    return failures


def _real_problems(page: WatchedPage) -> list[str]:
    """The page's problems less requests aborted because the test navigated on (a page that
    keeps polling never reaches network idle, so the walk goes on at `load`)."""
    return [problem for problem in page.problems if "net::ERR_ABORTED" not in problem]


def _sign_in(page: WatchedPage, base: str, world: StaffWorld) -> None:
    sign_in_through_form(page, base, world.admin.email, PASSWORD)


def test_every_staff_page_fits_1440_on_one_menu_line(
    page: WatchedPage, live_server: str, world: StaffWorld, screenshot_dir: Path
) -> None:
    page.set_viewport_size(WIDE)
    _sign_in(page, live_server, world)
    page.goto(f"{live_server}/", wait_until="networkidle")
    nav = page.get_by_role("navigation", name="Main")
    assert nav.is_visible()
    assert not page.locator("[data-menu-toggle]").is_visible()
    tops = page.evaluate(
        "[...document.querySelectorAll('.topnav__link')].map((a) => a.getBoundingClientRect().top)"
    )
    assert len(tops) == 8 and max(tops) - min(tops) < 2  # every link on one line
    bar = page.locator(".topbar").bounding_box()
    assert bar is not None and bar["height"] < 80
    for label in ("Patients", "Monitoring", "Messages", "Staff", "Audit trail", "Account"):
        assert nav.get_by_role("link", name=label).is_visible()

    failures = _visit_all(page, live_server, world, "1440", screenshot_dir)
    assert failures == [], "\n".join(failures)
    assert _real_problems(page) == []

    # The audit table shows its IP column without scrolling; e-mails stay whole words.
    page.goto(f"{live_server}/audit", wait_until="networkidle")
    fits = page.evaluate(
        "(() => { const wrap = document.querySelector('#audit-table, .table-wrap');"
        " return wrap.scrollWidth <= wrap.clientWidth + 1; })()"
    )
    assert fits
    page.goto(f"{live_server}/staff", wait_until="networkidle")
    for size in (WIDE, PHONE):
        page.set_viewport_size(size)
        email = page.locator(".person__meta", has_text="alexandra.montgomery").first
        breaks = email.evaluate(_LINE_BREAKS)
        assert all(after == "@" or before == "." for before, after in breaks), breaks
    assert _real_problems(page) == []


def test_every_staff_page_fits_a_phone_with_a_menu_button(
    page: WatchedPage, live_server: str, world: StaffWorld, screenshot_dir: Path
) -> None:
    page.set_viewport_size(PHONE)
    _sign_in(page, live_server, world)
    page.goto(f"{live_server}/", wait_until="networkidle")
    nav = page.get_by_role("navigation", name="Main")
    button = page.get_by_role("button", name="Menu")
    assert button.is_visible()
    assert button.get_attribute("aria-expanded") == "false"
    assert not nav.is_visible()
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    for label in ("Patients", "Monitoring", "Messages", "Staff", "Audit trail", "Account"):
        link = nav.get_by_role("link", name=label)
        assert link.is_visible()
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert box["height"] >= 44  # a finger's target
    page.screenshot(path=SHOTS / "390-menu-open.png")
    page.keyboard.press("Escape")
    assert not nav.is_visible()
    button.click()
    with page.expect_navigation():
        nav.get_by_role("link", name="Staff").click()
    assert page.url.endswith("/staff")

    failures = _visit_all(page, live_server, world, "390", screenshot_dir)
    assert failures == [], "\n".join(failures)
    assert _real_problems(page) == []


def test_the_menu_shows_what_waits_as_badges(
    page: WatchedPage, live_server: str, world: StaffWorld
) -> None:
    page.set_viewport_size(WIDE)
    _sign_in(page, live_server, world)
    for path in ("/", "/patients", "/account"):
        page.goto(f"{live_server}{path}")
        monitoring = page.locator('.topnav__link[href="/monitoring"] [data-badge]')
        messages = page.locator('.topnav__link[href="/messages"] [data-badge]')
        assert monitoring.inner_text().split()[0] == "3"  # three check-ins wait
        assert messages.inner_text().split()[0] == "1"  # one unread patient message
    page.goto(f"{live_server}/messages/{world.thread_id}")  # opening the thread reads it
    page.goto(f"{live_server}/")
    assert page.locator('.topnav__link[href="/messages"] [data-badge]').count() == 0
    assert page.problems == []


def _checked(page: Any, name: str) -> str | None:
    value: str | None = page.evaluate(
        f"document.querySelector('input[name={name}]:checked')?.value ?? null"
    )
    return value
