"""Front-end packages (htmx, three.js) served from the installed `node_modules` directory.

Only the files named in `VENDOR_ASSETS` are served, so a request can never reach anything else
in that directory. three.js addons import the bare specifier `'three'`; browsers resolve that only
through an inline import map, which our Content-Security-Policy (script-src 'self') forbids, so the
addons are served with that one specifier rewritten to the URL of the core module.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from ortholens.auth.deps import Public
from ortholens.http.deps import RuntimeDep
from ortholens.kit.errors import NotFound
from ortholens.web.templating import vendor_url

log = structlog.get_logger(__name__)

JS = "text/javascript; charset=utf-8"
# Vendor URLs carry no version, so they are cached for a week and revalidated by ETag, not marked
# immutable: after an upgrade browsers pick up the new files within that week at the latest.
VENDOR_CACHE_CONTROL = "public, max-age=604800"
THREE_MODULE = "three/three.module.js"
_BARE_THREE_IMPORT = re.compile(r"""(\bfrom\s*)(['"])three\2""")


@dataclass(frozen=True)
class VendorAsset:
    """A file inside the front-end packages directory, and how to serve it."""

    path: str
    media_type: str = JS
    resolve_three_import: bool = False


def _three_addon(path: str) -> VendorAsset:
    return VendorAsset(f"three/examples/jsm/{path}", resolve_three_import=True)


# Public name (under /static/vendor/) -> file under `settings.web_assets_dir`.
VENDOR_ASSETS: dict[str, VendorAsset] = {
    "htmx.min.js": VendorAsset("htmx.org/dist/htmx.min.js"),
    # three.module.js imports "./three.core.js", so both live side by side under three/.
    THREE_MODULE: VendorAsset("three/build/three.module.js"),
    "three/three.core.js": VendorAsset("three/build/three.core.js"),
    "three/addons/controls/OrbitControls.js": _three_addon("controls/OrbitControls.js"),
    "three/addons/controls/TrackballControls.js": _three_addon("controls/TrackballControls.js"),
    "three/addons/loaders/STLLoader.js": _three_addon("loaders/STLLoader.js"),
    "three/addons/loaders/PLYLoader.js": _three_addon("loaders/PLYLoader.js"),
    "three/addons/loaders/OBJLoader.js": _three_addon("loaders/OBJLoader.js"),
}

# Public: open-source front-end files.
router = APIRouter(include_in_schema=False, dependencies=[Public])


def resolve_three_import(source: str) -> str:
    """Point `from 'three'` at the served core module (no import map needed)."""
    return _BARE_THREE_IMPORT.sub(rf"\1\2{vendor_url(THREE_MODULE)}\2", source)


def report_missing_assets(assets_dir: Path) -> list[str]:
    """Names of allow-listed files that are not installed, logged once so operators see it early."""
    missing = [
        name for name, asset in VENDOR_ASSETS.items() if not (assets_dir / asset.path).is_file()
    ]
    if missing:
        _log_not_installed(assets_dir, missing=len(missing))
    return missing


def _log_not_installed(assets_dir: Path, **fields: object) -> None:
    log.warning(
        "web.assets_not_installed",
        hint="front-end packages are not installed; run scripts/bootstrap.sh (or `npm ci`)",
        assets_dir=str(assets_dir),
        **fields,
    )


@router.get("/static/vendor/{name:path}")
def vendor_asset(name: str, request: Request, runtime: RuntimeDep) -> Response:
    """One allow-listed file from the installed front-end packages."""
    asset = VENDOR_ASSETS.get(name)
    if asset is None:
        raise NotFound("No such front-end asset.")
    assets_dir = runtime.settings.web_assets_dir
    file = assets_dir / asset.path
    if not file.is_file():
        _log_not_installed(assets_dir, asset=name)
        raise NotFound("This front-end asset is not installed on the server.")
    headers = {"Cache-Control": VENDOR_CACHE_CONTROL}
    if not asset.resolve_three_import:
        return FileResponse(file, media_type=asset.media_type, headers=headers)
    body = resolve_three_import(file.read_text(encoding="utf-8")).encode()
    headers["ETag"] = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=asset.media_type, headers=headers)
