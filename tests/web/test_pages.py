"""The web shell through the ASGI app: every page's HTML and CSP, the status fragment, vendored
assets, manifest. The sign-in and domain pages' behaviour is in test_auth_pages.py."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from ortholens import __version__
from ortholens.app import create_app
from ortholens.models import Role
from ortholens.runtime import Runtime, build_runtime
from tests.conftest import make_settings
from tests.factories import create_clinic, create_patient, create_user, patient_token, sign_in

PUBLIC_PAGES = ["/login", "/signed-out", "/portal/login", "/portal/signed-out", "/portal/help"]
STAFF_PAGES = ["/", "/system", "/patients", "/patients/new", "/staff", "/audit", "/account"]
PATIENT_PAGES = ["/portal", "/portal/scan"]
PAGES = PUBLIC_PAGES + STAFF_PAGES + PATIENT_PAGES


@pytest.fixture
def visit(client: TestClient, runtime: Runtime) -> object:
    """`visit(path)`: GET a page as someone allowed to see it (a clinic admin, or a patient)."""
    clinic = create_clinic(runtime)
    staff = sign_in(client, create_user(runtime, clinic, Role.CLINIC_ADMIN))
    patient = patient_token(runtime, create_patient(runtime, clinic))
    client.cookies.clear()

    def get(path: str, **headers: str) -> object:
        who = staff if path in STAFF_PAGES or path.startswith("/ui/") else {}
        who = patient if path in PATIENT_PAGES else who
        return client.get(path, headers={**who, **headers})

    return get


class _InlineCodeFinder(HTMLParser):
    """Collects what the Content-Security-Policy would block: inline scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.violations: list[str] = []
        self._in_script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if "style" in names:
            self.violations.append(f"style attribute on <{tag}>")
        if any(name.startswith("on") for name in names):
            self.violations.append(f"event handler attribute on <{tag}>")
        if tag == "style":
            self.violations.append("<style> element")
        self._in_script_without_src = tag == "script" and "src" not in names

    def handle_data(self, data: str) -> None:
        if self._in_script_without_src and data.strip():
            self.violations.append("inline <script>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script_without_src = False


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_html(visit: Any, path: str) -> None:
    response = visit(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>" in response.text


@pytest.mark.parametrize("path", PAGES)
def test_page_carries_content_security_policy(visit: Any, path: str) -> None:
    response = visit(path)
    assert response.headers["cache-control"] == "no-store"
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp


@pytest.mark.parametrize("path", PAGES)
def test_page_has_no_inline_script_or_style(visit: Any, path: str) -> None:
    finder = _InlineCodeFinder()
    finder.feed(visit(path).text)
    assert finder.violations == []


def test_home_shows_product_version_and_the_nav(visit: Any) -> None:
    html = visit("/").text
    assert "OrthoLens" in html
    assert __version__ in html
    assert '<a class="brand" href="/">' in html
    assert '<a class="topnav__link" href="/system">' in html
    assert (
        '<a class="topnav__link" href="/patients" aria-current="page">' in visit("/patients").text
    )


@pytest.mark.parametrize("path", ["/login", "/"])
def test_staff_layout_configures_htmx_for_the_csp(visit: Any, path: str) -> None:
    html = visit(path).text
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in html
    assert '<script src="/static/js/app.js?v=' in html
    assert '"includeIndicatorStyles": false' in html
    assert '"allowEval": false' in html


def test_signed_out_pages_show_no_navigation(visit: Any) -> None:
    html = visit("/login").text
    assert 'aria-label="Main"' not in html
    assert "Sign out" not in html


def test_system_page_loads_checks_with_htmx(visit: Any) -> None:
    html = visit("/system").text
    assert 'hx-get="/ui/status"' in html
    assert 'hx-trigger="load"' in html
    assert 'aria-current="page"' in html


def test_status_fragment_lists_the_three_checks(visit: Any) -> None:
    response = visit("/ui/status", **{"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert "<html" not in response.text  # a fragment, not a page
    for name in ("database", "store", "queue"):
        assert f'data-check="{name}" data-status="ok"' in response.text
    assert "All systems operational" in response.text


@pytest.mark.parametrize("path", ["/portal", "/portal/help"])
def test_portal_uses_mobile_layout_with_manifest(visit: Any, path: str) -> None:
    html = visit(path).text
    assert 'name="viewport"' in html
    assert 'name="theme-color"' in html
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert 'class="bottomnav"' in html
    assert 'class="topbar"' not in html


def test_manifest_describes_installable_portal(client: TestClient) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["name"] == "OrthoLens"
    assert manifest["start_url"] == "/portal"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"].startswith("#")
    icon = client.get(manifest["icons"][0]["src"])
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")


def test_own_static_files_are_served(client: TestClient) -> None:
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


def test_vendor_htmx_is_served_as_javascript_with_long_cache(client: TestClient) -> None:
    response = client.get("/static/vendor/htmx.min.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "max-age=604800" in response.headers["cache-control"]
    assert "htmx" in response.text


def test_vendor_three_module_and_its_core_are_served(client: TestClient) -> None:
    module = client.get("/static/vendor/three/three.module.js")
    assert module.status_code == 200
    assert "'./three.core.js'" in module.text
    assert client.get("/static/vendor/three/three.core.js").status_code == 200


def test_three_addon_imports_the_served_core_module(client: TestClient) -> None:
    response = client.get("/static/vendor/three/addons/controls/OrbitControls.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "from '/static/vendor/three/three.module.js'" in response.text
    assert "from 'three'" not in response.text
    revalidated = client.get(
        "/static/vendor/three/addons/controls/OrbitControls.js",
        headers={"If-None-Match": response.headers["etag"]},
    )
    assert revalidated.status_code == 304


def test_unknown_vendor_asset_is_problem_json_404(client: TestClient) -> None:
    response = client.get("/static/vendor/jquery.js")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


@pytest.mark.parametrize(
    "path",
    [
        "/static/vendor/..%2F..%2Fpackage.json",
        "/static/vendor/htmx.org%2Fpackage.json",
        "/static/vendor/three/../../package.json",
        "/static/..%2F..%2Fpyproject.toml",
    ],
)
def test_path_traversal_is_refused(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "ortholens-web-assets" not in response.text
    assert "[project]" not in response.text


@pytest.fixture
def client_without_assets(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, database_url, web_assets_dir=tmp_path / "no-node-modules")
    runtime = build_runtime(settings)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client
    runtime.close()


def test_missing_front_end_packages_answer_404_and_say_how_to_fix(
    client_without_assets: TestClient,
) -> None:
    with capture_logs() as logs:
        response = client_without_assets.get("/static/vendor/htmx.min.js")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    warnings = [entry for entry in logs if entry["event"] == "web.assets_not_installed"]
    assert warnings
    assert "scripts/bootstrap.sh" in warnings[0]["hint"]
