"""A live server and a real browser for page tests.

    live_socket -> live_settings -> live_runtime -> live_server (base URL)
    browser (session) -> page (function; watches console errors and failed requests)
                      -> phone (the same, in a phone-sized context of its own)

The app runs under uvicorn in a background thread on 127.0.0.1 and a free port, on SQLite only
(one browser run per test is enough; the per-backend suites cover the database). Override
`live_settings` in a test module to change configuration; ask for `live_runtime` next to
`live_server` to seed rows or queue jobs for the page under test.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ortholens.app import create_app
from ortholens.runtime import Runtime, build_runtime
from ortholens.settings import Settings
from tests.conftest import empty_database, make_settings
from tests.threaded_server import listening_socket, serve_in_thread

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(
        reason=f"Chromium not installed at {CHROMIUM} (apt-get install chromium)"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


# ---- Live server ---------------------------------------------------------------------------------


@pytest.fixture
def sqlite_database_url(migrated_databases: dict[str, str]) -> Iterator[str]:
    """The session's migrated SQLite database, emptied after the test."""
    url = migrated_databases["sqlite"]
    yield url
    empty_database(url)


@pytest.fixture
def live_socket() -> Iterator[socket.socket]:
    """A listening socket on 127.0.0.1 and a free port, handed to uvicorn (no port race)."""
    sock = listening_socket()
    yield sock
    sock.close()


@pytest.fixture
def live_settings(tmp_path: Path, sqlite_database_url: str, live_socket: socket.socket) -> Settings:
    """Settings for the live server; `public_url` is its real address so signed links work."""
    port = live_socket.getsockname()[1]
    return make_settings(tmp_path, sqlite_database_url, public_url=f"http://127.0.0.1:{port}")


@pytest.fixture
def live_runtime(live_settings: Settings) -> Iterator[Runtime]:
    """The runtime the live server uses (same database, store and queue as the pages)."""
    runtime = build_runtime(live_settings)
    yield runtime
    runtime.close()


@pytest.fixture
def live_server(live_runtime: Runtime, live_socket: socket.socket) -> Iterator[str]:
    """Base URL (no trailing slash) of the app served by uvicorn in a background thread."""
    with serve_in_thread(
        create_app(live_runtime), name="live-server", sock=live_socket, lifespan="on"
    ):
        yield live_runtime.settings.public_url


# ---- Browser -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (browser downloads fail here).

    Playwright gives every launch a fresh, empty profile directory of its own (it refuses a
    `--user-data-dir` argument), which is what the flags in TESTING.md ask for.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass
class WatchedPage:
    """A Playwright page that records what went wrong while it was open.

    Attribute access falls through to the Playwright `Page`, so `page.goto(...)`,
    `page.locator(...)` and `page.evaluate(...)` work as usual.
    """

    page: Any
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("response", self._on_response)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.page, name)

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _on_request_failed(self, request: Any) -> None:
        self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def _on_response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed_requests.append(
                f"{response.request.method} {response.url}: {response.status}"
            )

    @property
    def problems(self) -> list[str]:
        """Every console error (CSP violations included), uncaught exception and failed request."""
        return [*self.console_errors, *self.page_errors, *self.failed_requests]

    def csp_violations(self) -> list[str]:
        """Content-Security-Policy violations reported in this page since it loaded."""
        violations: list[str] = self.page.evaluate("window.__cspViolations || []")
        return violations

    def clear(self) -> None:
        """Forget what was recorded so far (e.g. after a deliberate 404)."""
        self.console_errors.clear()
        self.page_errors.clear()
        self.failed_requests.clear()


# Runs before any page script, outside the page's CSP (injected through the DevTools protocol).
_RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def page(browser: Any) -> Iterator[WatchedPage]:
    """A fresh browser context and page; console errors and failed requests are collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(_RECORD_CSP_VIOLATIONS)
    watched = WatchedPage(context.new_page())
    watched.page.set_default_timeout(10_000)
    yield watched
    context.close()


PHONE = {"width": 390, "height": 844}  # CSS pixels: a common phone's screen


@pytest.fixture
def phone(browser: Any, live_server: str) -> Iterator[WatchedPage]:
    """The patient's phone: its own browser context (no staff cookies), a phone-sized screen."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.add_init_script(_RECORD_CSP_VIOLATIONS)
    watched = WatchedPage(context.new_page())
    # Longer than `page`: the patient's steps wait on uploads the staff pages do not.
    watched.page.set_default_timeout(15_000)
    yield watched
    context.close()


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """Where a test saves its screenshots (pytest's tmp_path, kept for the last few runs)."""
    path = tmp_path / "screenshots"
    path.mkdir(exist_ok=True)
    return path


def wait_for_js(page: Any, expression: str, *, timeout_s: float = 15.0) -> None:
    """Wait until a JavaScript expression is truthy in the page.

    Playwright's `wait_for_function` re-evaluates its predicate with `eval`, which our CSP forbids
    (no 'unsafe-eval'): it fails whenever the condition is not already true on the first try. This
    polls from Python with `page.evaluate` (run by the debugger protocol, outside the page's CSP).
    """
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        time.sleep(0.05)


# ---- Signing in through the pages ----------------------------------------------------------------


def sign_in_through_form(page: Any, base_url: str, email: str, password: str) -> None:
    """Fill in the staff sign-in form like a person would, and wait for the page that follows."""
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


@pytest.fixture
def clinic_admin(live_runtime: Runtime) -> Any:
    """A clinic admin of a new clinic on the live server's database."""
    from ortholens.models import Role
    from tests.factories import create_clinic, create_user

    return create_user(
        live_runtime, create_clinic(live_runtime, "Bright Smiles"), Role.CLINIC_ADMIN
    )


@pytest.fixture
def live_doctor(live_runtime: Runtime) -> Any:
    """Dr. Jonas Weber, a doctor of a new clinic on the live server's database."""
    from ortholens.kit.db import transaction
    from ortholens.models import Role, User
    from tests.factories import create_clinic, create_user

    user = create_user(live_runtime, create_clinic(live_runtime, "Bright Smiles"), Role.DOCTOR)
    with transaction(live_runtime.session_factory) as session:
        row = session.get(User, user.id)
        assert row is not None
        row.full_name = "Dr. Jonas Weber"
    return user


@pytest.fixture
def admin_page(page: WatchedPage, live_server: str, clinic_admin: Any) -> WatchedPage:
    """The browser page, signed in as `clinic_admin` through the sign-in form."""
    from tests.factories import PASSWORD

    sign_in_through_form(page, live_server, clinic_admin.email, PASSWORD)
    page.clear()  # the sign-in pages are checked by their own tests
    return page
