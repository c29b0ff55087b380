"""The web shell in headless Chromium against a live server: scripts load under the CSP, htmx
swaps in the status panel, and the portal fits a phone screen. Staff pages need a sign-in, which
`admin_page` does through the form."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import PHONE, WatchedPage, wait_for_js

pytestmark = pytest.mark.browser


def test_home_loads_cleanly_with_htmx(
    admin_page: WatchedPage, live_server: str, screenshot_dir: Path
) -> None:
    page = admin_page
    page.goto(f"{live_server}/", wait_until="networkidle")
    assert page.title().startswith("Home")
    nav = page.get_by_role("navigation", name="Main")
    assert nav.is_visible()
    assert nav.get_by_role("link", name="Patients").is_visible()
    assert page.evaluate("typeof window.htmx") == "object"
    page.screenshot(path=screenshot_dir / "home.png", full_page=True)
    assert page.csp_violations() == []
    assert page.problems == []


def test_system_status_panel_loads_through_htmx(
    admin_page: WatchedPage, live_server: str, screenshot_dir: Path
) -> None:
    page = admin_page
    page.goto(f"{live_server}/system")
    checks = page.locator("#status-checks .check")
    checks.first.wait_for()
    assert checks.count() == 3
    for name in ("database", "store", "queue"):
        check = page.locator(f'.check[data-check="{name}"]')
        assert check.get_attribute("data-status") == "ok"
        assert check.locator(".badge").inner_text() == "OK"
    page.screenshot(path=screenshot_dir / "system.png", full_page=True)
    assert page.csp_violations() == []
    assert page.problems == []


def test_status_panel_refreshes_on_demand(admin_page: WatchedPage, live_server: str) -> None:
    page = admin_page
    page.goto(f"{live_server}/system")
    page.locator("#status-checks .check").first.wait_for()
    with page.expect_response(f"{live_server}/ui/status") as refreshed:
        page.get_by_role("button", name="Check again").click()
    assert refreshed.value.status == 200
    assert page.locator("#status-checks .check").count() == 3
    assert page.problems == []


def test_portal_fits_a_phone(page: WatchedPage, live_server: str, screenshot_dir: Path) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/portal/help", wait_until="networkidle")
    bottom_nav = page.get_by_role("navigation", name="Portal")
    assert bottom_nav.is_visible()
    box = bottom_nav.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] == pytest.approx(PHONE["height"], abs=1)
    help_link = bottom_nav.get_by_role("link", name="Help")
    assert help_link.get_attribute("aria-current") == "page"
    link_box = help_link.bounding_box()
    assert link_box is not None
    assert link_box["height"] >= 48  # comfortable touch target
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate("typeof window.htmx") == "object"
    page.screenshot(path=screenshot_dir / "portal.png", full_page=True)
    assert page.csp_violations() == []
    assert page.problems == []


def test_portal_manifest_is_linked_and_valid(page: WatchedPage, live_server: str) -> None:
    page.goto(f"{live_server}/portal/login")
    href = page.locator('link[rel="manifest"]').get_attribute("href")
    manifest = page.request.get(f"{live_server}{href}").json()
    assert manifest["start_url"] == "/portal"
    assert page.request.get(f"{live_server}{manifest['icons'][0]['src']}").ok


def test_three_and_orbit_controls_import_under_the_csp(page: WatchedPage, live_server: str) -> None:
    page.goto(f"{live_server}/login")
    exported = page.evaluate(
        """async () => {
            const three = await import("/static/vendor/three/three.module.js");
            const controls = await import("/static/vendor/three/addons/controls/OrbitControls.js");
            return [typeof three.Scene, typeof controls.OrbitControls];
        }"""
    )
    assert exported == ["function", "function"]
    assert page.problems == []


def test_harness_reports_csp_violations(page: WatchedPage, live_server: str) -> None:
    page.goto(f"{live_server}/login")
    page.evaluate(
        """() => document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>')"""
    )
    wait_for_js(page, "window.__cspViolations.length > 0")
    assert any("style-src" in violation for violation in page.csp_violations())
    assert any("Content Security Policy" in error for error in page.console_errors)
