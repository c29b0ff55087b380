"""Clicks, keystrokes and seconds a doctor needs to review a queue of check-ins (issue 23).

The same task on two versions of OrthoLens, each a real `ortholens serve` on loopback with its own
SQLite database and the same seeded clinic (N patients, each with a reviewed check-in and a pending
one of five photos): sign in, then review every pending check-in as "1 · On track (GO)" and
"1 · Good" until the queue is empty, driven by Playwright in Debian's Chromium.

    before  the tree of `--before` (default: the commit before issue 23's review work), exported
            with `git archive`: home -> Monitoring -> a row of the queue -> scroll to the form ->
            two radios -> Submit review -> back to Monitoring, and again.
    after   this working tree: the worklist on the home page, then the review screen's keys
            (j, Enter, then 1, g, s per check-in) or the same with the mouse (a row, two radios,
            "Submit and next").

Printed per flow: clicks, keystrokes, scrolls needed to reach a control (the target was outside
the window), page loads, measured seconds (the browser as fast as it goes: server and rendering
time only) and a Keystroke-Level Model estimate of a person's time (Card, Moran & Newell: point
1.1 s, click 0.2 s, key 0.28 s, scroll 1.0 s, mental preparation 1.35 s per decision), and the
ratio before / after of each.

    .venv/bin/python bench/review_flow.py [--check-ins 5] [--before REV]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import httpx
from live_server import REPO, free_port

BEFORE_REV = "c371e4ea5c29064e1c34062a42294264513d7184"  # parent of the first issue-23 commit
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOCTOR = "dr.bench@example.com"
# Keystroke-Level Model operators, in seconds.
POINT, CLICK, KEY, SCROLL, MENTAL = 1.1, 0.2, 0.28, 1.0, 1.35

SEED = """
import sys
from datetime import timedelta
from ortholens.kit.db import transaction, utcnow
from ortholens.models import Role, ScanSession, ScanSessionStatus
from ortholens.runtime import build_runtime
from ortholens.settings import Settings
from tests.factories import (
    create_clinic, create_consent, create_patient, create_scan_session, create_user,
)

count = int(sys.argv[1])
runtime = build_runtime(Settings())
clinic = create_clinic(runtime, "Bench Orthodontics")
doctor = create_user(runtime, clinic, Role.DOCTOR, email=sys.argv[2])
for index in range(count):
    patient = create_patient(runtime, clinic, first_name="Patient", last_name=f"{index:03d}")
    create_consent(runtime, patient)
    create_scan_session(runtime, patient, created_at=utcnow() - timedelta(days=15),
                        status=ScanSessionStatus.REVIEWED)
    create_scan_session(runtime, patient, created_at=utcnow() - timedelta(hours=count - index))
with transaction(runtime.session_factory) as session:
    # Versions whose queue holds only sent check-ins: these were all sent.
    if hasattr(ScanSession, "submitted_at"):
        for scan in session.query(ScanSession).all():
            scan.submitted_at = scan.submitted_at or scan.created_at
runtime.close()
"""


@dataclass
class Tally:
    """What a person would have done, counted while Playwright does it."""

    clicks: int = 0
    keys: int = 0
    scrolls: int = 0
    decisions: int = 0
    loads: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def actions(self) -> int:
        return self.clicks + self.keys

    @property
    def modelled_seconds(self) -> float:
        return (
            self.clicks * (POINT + CLICK)
            + self.keys * KEY
            + self.scrolls * SCROLL
            + self.decisions * MENTAL
        )


class Actor:
    """Clicks and keys through Playwright, counting them (and the scrolls a person would need)."""

    def __init__(self, page: Any, tally: Tally) -> None:
        self.page = page
        self.tally = tally
        page.on("load", lambda _page: self._loaded())

    def _loaded(self) -> None:
        self.tally.loads += 1

    def click(self, locator: Any, *, navigates: bool = False) -> None:
        locator.wait_for(state="attached")
        outside = locator.evaluate(
            "(el) => { const b = el.getBoundingClientRect();"
            " return b.bottom < 0 || b.top > window.innerHeight; }"
        )
        if outside:
            self.tally.scrolls += 1
        self.tally.clicks += 1
        if navigates:
            with self.page.expect_navigation():
                locator.click()
        else:
            locator.click()

    def key(self, name: str, *, navigates: bool = False) -> None:
        self.tally.keys += 1
        if navigates:
            with self.page.expect_navigation():
                self.page.keyboard.press(name)
        else:
            self.page.keyboard.press(name)


def before_flow(actor: Actor, base: str, count: int) -> None:
    """The monitoring page's queue and the review page as they were."""
    page = actor.page
    actor.click(page.locator("nav[aria-label=Main] a[href='/monitoring']"), navigates=True)
    for _ in range(count):
        actor.tally.decisions += 1
        actor.click(page.locator("#review-queue a.table__primary").first, navigates=True)
        actor.click(page.get_by_label("1 · On track (GO)"))
        actor.click(page.get_by_label("1 · Good"))
        actor.click(page.get_by_role("button", name="Submit review"), navigates=True)
        page.locator("#review-result").wait_for()
        actor.click(page.locator("nav.breadcrumbs a[href='/monitoring']"), navigates=True)
    if page.locator("#review-queue").count():
        raise RuntimeError("the queue is not empty after the before flow")


def after_keyboard_flow(actor: Actor, base: str, count: int) -> None:
    """The worklist and the review screen's keys."""
    actor.key("j")
    actor.key("Enter", navigates=True)
    for _ in range(count):
        actor.tally.decisions += 1
        actor.key("1")
        actor.key("g")
        actor.key("s", navigates=True)
    if not actor.page.url.endswith("/?notice=queue-done"):
        raise RuntimeError(f"the queue is not empty after the keyboard flow: {actor.page.url}")


def after_mouse_flow(actor: Actor, base: str, count: int) -> None:
    """The worklist and the review screen with the mouse only."""
    page = actor.page
    actor.click(page.locator("[data-worklist-link]").first, navigates=True)
    for _ in range(count):
        actor.tally.decisions += 1
        actor.click(page.get_by_label("1 · On track (GO)"))
        actor.click(page.get_by_label("1 · Good"))
        actor.click(page.get_by_role("button", name="Submit and next"), navigates=True)
    if not page.url.endswith("/?notice=queue-done"):
        raise RuntimeError(f"the queue is not empty after the mouse flow: {page.url}")


@contextmanager
def serve(tree: Path, env: dict[str, str], port: int) -> Iterator[str]:
    """`ortholens serve --no-worker` of `tree` (its own code: the working directory comes first
    on sys.path) on 127.0.0.1:`port` until the block ends."""
    log = Path(env["ORTHOLENS_DATA_DIR"]).parent / "serve.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "ortholens", "serve", "--port", str(port), "--no-worker"],
        env=env,
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # a minute: startup is slow on a busy machine
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                break
            time.sleep(0.2)
        else:
            process.kill()
        if process.poll() is not None or httpx.get(f"{base}/readyz").status_code != 200:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the server of {tree} did not become ready:\n{tail}")
        yield base
    finally:
        process.terminate()
        process.wait(30)


@contextmanager
def exported(rev: str) -> Iterator[Path]:
    """The tree of `rev`, exported to a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="ortholens-before-") as folder:
        archive = Path(folder) / "tree.tar"
        subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", "-o", str(archive), rev],
            check=True,
        )
        with tarfile.open(archive) as tar:
            tar.extractall(Path(folder) / "tree", filter="data")
        yield Path(folder) / "tree"


def environment(tree: Path, data: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(tree),
        "ORTHOLENS_DATA_DIR": str(data / "var"),
        "ORTHOLENS_KEY_DIR": str(data / "keys"),
        "ORTHOLENS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "ORTHOLENS_WEB_ASSETS_DIR": str(REPO / "node_modules"),
        "ORTHOLENS_LOG_LEVEL": "WARNING",
        "ORTHOLENS_AI_PROVIDER": "local",
    }


def run_flow(
    browser: Any,
    tree: Path,
    count: int,
    flow: Callable[[Actor, str, int], None],
) -> Tally:
    """A fresh database and server from `tree`, seeded, and `flow` through it in a new context."""
    port = free_port()
    print(f"... {flow.__name__} on {tree}", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="ortholens-bench-") as folder:
        env = environment(tree, Path(folder), port)
        python = sys.executable
        subprocess.run(
            [python, "-m", "ortholens", "migrate"],
            env=env,
            cwd=tree,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run([python, "-c", SEED, str(count), DOCTOR], env=env, cwd=tree, check=True)
        with serve(tree, env, port) as base:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.goto(f"{base}/login")
            page.get_by_label("E-mail").fill(DOCTOR)
            page.get_by_label("Password").fill("correct horse battery")  # tests.factories
            with page.expect_navigation():
                page.get_by_role("button", name="Sign in").click()
            page.goto(f"{base}/", wait_until="networkidle")
            tally = Tally()
            actor = Actor(page, tally)
            started = time.perf_counter()
            flow(actor, base, count)
            tally.seconds = time.perf_counter() - started
            context.close()
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check-ins", type=int, default=5)
    parser.add_argument("--before", default=BEFORE_REV, help="git revision of the before tree")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, exported(args.before) as before_tree:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        results = {
            "before (mouse)": run_flow(browser, before_tree, args.check_ins, before_flow),
            "after (keys)": run_flow(browser, REPO, args.check_ins, after_keyboard_flow),
            "after (mouse)": run_flow(browser, REPO, args.check_ins, after_mouse_flow),
        }
        browser.close()

    n = args.check_ins
    print(f"Review {n} check-ins (GO, good hygiene), 1440x900, before = {args.before[:10]}")
    print(
        f"{'flow':<16}{'clicks':>8}{'keys':>6}{'scrolls':>9}{'loads':>7}"
        f"{'measured s':>12}{'per check-in':>14}{'modelled s':>12}"
    )
    for name, tally in results.items():
        print(
            f"{name:<16}{tally.clicks:>8}{tally.keys:>6}{tally.scrolls:>9}{tally.loads:>7}"
            f"{tally.seconds:>12.2f}{tally.seconds / n:>14.2f}{tally.modelled_seconds:>12.1f}"
        )
    before = results["before (mouse)"]
    for name in ("after (keys)", "after (mouse)"):
        after = results[name]
        print(
            f"ratio before/{name}: actions {before.actions / after.actions:.2f}, "
            f"measured seconds {before.seconds / after.seconds:.2f}, "
            f"modelled seconds {before.modelled_seconds / after.modelled_seconds:.2f}"
        )


if __name__ == "__main__":
    main()
