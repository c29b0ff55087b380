"""A local stand-in for the iTero partner API, served by uvicorn on 127.0.0.1 in a thread.

    with run_itero_server() as itero:           # itero.base_url, itero.vendor (state and knobs)
        config = itero.config()                 # an IteroConfig for the registered test client

It does what the vendor documents, for one registered client and one signed-in test doctor:

- `GET /oauth/authorize` checks client_id, redirect_uri and the PKCE method, then (the doctor has
  already agreed) redirects to redirect_uri with `code` and `state`; a bad client or redirect_uri is
  answered with 400 and no redirect (RFC 6749 section 4.1.2.1).
- `POST /oauth/token`: authorization_code (single use, PKCE S256 checked) and refresh_token grants;
  client authentication by HTTP Basic or form fields; access tokens expire after
  `vendor.access_token_lifetime`; refresh tokens rotate, and presenting a used one revokes its family.
- `GET /api/v1/discovery` returns the account's regional API base URL: this server under `/eu`.
- `GET /eu/api/v1/orders?since=&page_size=&cursor=` lists orders (oldest scan first) with their
  scans and files; `GET /eu/api/v1/orders/{order}/scans/{scan}/files/{file}` sends a file: binary
  STL meshes made with trimesh for the upper, lower and bite, and an order XML naming the jaws.

Knobs on `vendor` (`reset()` undoes them all, so one server can serve many tests): `fail_next(count, status, retry_after=..., path_prefix=...)` makes the next
requests fail (500, 503, 429 with Retry-After, 401 as if the token expired);
`expire_access_tokens()`, `revoke_refresh_tokens()`, `access_token_lifetime`, `hide_sizes`
(list files without sizes and stream downloads without Content-Length). `requests` and
`token_grants` record what clients asked for.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

import httpx
import trimesh
from fastapi import FastAPI, Request
from fastapi.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from ortholens.scanners.itero import IteroConfig
from tests.threaded_server import serve_in_thread

CLIENT_ID = "ortholens-test-client"
CLIENT_SECRET = "test-secret-not-for-production"
REDIRECT_URI = "http://127.0.0.1:8000/api/imaging/3d/itero/callback"
REGION = "eu"


# ---- The account's data --------------------------------------------------------------------------


@dataclass(frozen=True)
class VendorFile:
    file_id: str
    jaw: str | None
    format: str
    content: bytes


@dataclass(frozen=True)
class VendorScan:
    scan_id: str
    scanned_at: datetime
    files: tuple[VendorFile, ...]


@dataclass(frozen=True)
class VendorOrder:
    order_id: str
    patient_name: str
    chart_number: str
    scans: tuple[VendorScan, ...]


def _stl(mesh: trimesh.Trimesh) -> bytes:
    data = mesh.export(file_type="stl")
    assert isinstance(data, bytes)
    return data


def _scan_files(scan_id: str, index: int) -> tuple[VendorFile, ...]:
    """An upper and lower arch stand-in and a bite strip; each scan's meshes differ in position."""
    x = index * 1.5  # mm along the arch, so no two scans share bytes
    upper = trimesh.creation.icosphere(subdivisions=2, radius=25.0)
    upper.apply_translation((x, 0.0, 6.0))
    lower = trimesh.creation.icosphere(subdivisions=2, radius=23.0)
    lower.apply_translation((x, 0.0, -6.0))
    bite = trimesh.creation.box(extents=(30.0, 6.0, 2.0))
    bite.apply_translation((x, 0.0, 0.0))
    meshes = {"upper": upper, "lower": lower, "bite": bite}
    order_xml = ET.Element("Order", {"scanId": scan_id})
    files = []
    for jaw, mesh in meshes.items():
        file_id = f"{scan_id}-{jaw}"
        ET.SubElement(order_xml, "Model", {"fileId": file_id, "jaw": jaw, "format": "stl"})
        files.append(VendorFile(file_id, jaw, "stl", _stl(mesh)))
    xml = ET.tostring(order_xml, encoding="utf-8", xml_declaration=True)
    files.append(VendorFile(f"{scan_id}-order", None, "xml", xml))
    return tuple(files)


def make_orders() -> list[VendorOrder]:
    """Five orders, a week apart from 2026-03-02; order 3 holds a rescan two days later."""
    start = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    orders = []
    index = 0
    for number in range(1, 6):
        scans = []
        for rescan in range(2 if number == 3 else 1):
            scan_id = f"SC-{number:04d}-{rescan + 1}"
            at = start + timedelta(weeks=number - 1, days=2 * rescan)
            scans.append(VendorScan(scan_id, at, _scan_files(scan_id, index)))
            index += 1
        orders.append(
            VendorOrder(
                f"ORD-{number:04d}", f"Patient Number{number}", f"CH-{100 + number}", tuple(scans)
            )
        )
    return orders


# ---- State and knobs -----------------------------------------------------------------------------


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    code_challenge: str | None
    expires_at: datetime
    used: bool = False


@dataclass
class _Refresh:
    family: str
    used: bool = False


@dataclass
class _Failure:
    status: int
    retry_after: str | None
    path_prefix: str


@dataclass
class Vendor:
    """The fake vendor's state. Change knobs between requests; a lock guards it from the server."""

    orders: list[VendorOrder] = field(default_factory=make_orders)
    access_token_lifetime: timedelta = timedelta(hours=1)
    hide_sizes: bool = False
    requests: list[tuple[str, str]] = field(default_factory=list)
    token_grants: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _codes: dict[str, _Code] = field(default_factory=dict)
    _access: dict[str, datetime] = field(default_factory=dict)
    _refresh: dict[str, _Refresh] = field(default_factory=dict)
    _revoked_families: set[str] = field(default_factory=set)
    _failures: list[_Failure] = field(default_factory=list)

    def reset(self) -> None:
        """Back to a fresh account with the same orders: no grants, knobs or records."""
        fresh = Vendor(orders=self.orders)
        with self.lock:
            for name in (f.name for f in fields(self) if f.name != "lock"):
                setattr(self, name, getattr(fresh, name))

    def fail_next(
        self, count: int, status: int, *, retry_after: str | None = None, path_prefix: str = "/"
    ) -> None:
        """Answer the next `count` requests under `path_prefix` with `status` instead."""
        with self.lock:
            self._failures.extend(_Failure(status, retry_after, path_prefix) for _ in range(count))

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is expired from now on (clients still think not)."""
        with self.lock:
            past = datetime.now(UTC) - timedelta(seconds=1)
            self._access = dict.fromkeys(self._access, past)

    def revoke_refresh_tokens(self) -> None:
        """The doctor disconnected OrthoLens in the iTero portal: no refresh token works."""
        with self.lock:
            self._revoked_families.update(r.family for r in self._refresh.values())

    def file(self, order_id: str, scan_id: str, file_id: str) -> VendorFile | None:
        for order in self.orders:
            for scan in order.scans:
                for f in scan.files:
                    if (order.order_id, scan.scan_id, f.file_id) == (order_id, scan_id, file_id):
                        return f
        return None

    def _take_failure(self, path: str) -> _Failure | None:
        with self.lock:
            for i, failure in enumerate(self._failures):
                if path.startswith(failure.path_prefix):
                    return self._failures.pop(i)
        return None

    def _issue(self, family: str) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
        self._access[access] = datetime.now(UTC) + self.access_token_lifetime
        self._refresh[refresh] = _Refresh(family)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(self.access_token_lifetime.total_seconds()),
            "refresh_token": refresh,
            "scope": "orders.read scans.read offline_access",
        }


# ---- The app -------------------------------------------------------------------------------------


def _oauth_error(error: str, status: int = 400) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="itero"'
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _token_invalid(description: str) -> JSONResponse:
    challenge = f'Bearer realm="itero", error="invalid_token", error_description="{description}"'
    return JSONResponse(
        {"error": "invalid_token"}, status_code=401, headers={"WWW-Authenticate": challenge}
    )


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _client_from(request: Request, form: dict[str, str]) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        if "client_secret" in form:
            return None  # RFC 6749 2.3: one authentication method per request
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
        except ValueError:
            return None
        client_id, _, secret = decoded.partition(":")
        return unquote_plus(client_id), unquote_plus(secret)
    if "client_id" in form and "client_secret" in form:
        return form["client_id"], form["client_secret"]
    return None


def create_vendor_app(vendor: Vendor) -> FastAPI:
    """The fake iTero API as an ASGI app over `vendor`."""
    app = FastAPI()

    async def record_and_inject(request: Request, call_next: RequestResponseEndpoint) -> Response:
        with vendor.lock:
            vendor.requests.append((request.method, request.url.path))
        failure = vendor._take_failure(request.url.path)
        if failure is None:
            return await call_next(request)
        if failure.status == 401:
            return _token_invalid("The access token expired")
        headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
        return JSONResponse({"error": "injected"}, status_code=failure.status, headers=headers)

    app.add_middleware(BaseHTTPMiddleware, dispatch=record_and_inject)

    def bearer(request: Request) -> JSONResponse | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return _token_invalid("No access token")
        with vendor.lock:
            expires_at = vendor._access.get(header[7:])
        if expires_at is None:
            return _token_invalid("Unknown access token")
        if expires_at <= datetime.now(UTC):
            return _token_invalid("The access token expired")
        return None

    @app.get("/oauth/authorize")
    def authorize(request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("redirect_uri") != REDIRECT_URI:
            return PlainTextResponse("Unknown client or redirect URI", status_code=400)
        back = httpx.URL(REDIRECT_URI)
        state = {"state": q["state"]} if "state" in q else {}
        if q.get("response_type") != "code":
            error = {"error": "unsupported_response_type"}
            return RedirectResponse(str(back.copy_merge_params({**error, **state})), 302)
        challenge = q.get("code_challenge")
        if challenge is not None and q.get("code_challenge_method") != "S256":
            error = {"error": "invalid_request"}
            return RedirectResponse(str(back.copy_merge_params({**error, **state})), 302)
        code = secrets.token_urlsafe(16)
        with vendor.lock:
            vendor._codes[code] = _Code(
                CLIENT_ID, REDIRECT_URI, challenge, datetime.now(UTC) + timedelta(minutes=1)
            )
        return RedirectResponse(str(back.copy_merge_params({"code": code, **state})), 302)

    @app.post("/oauth/token")
    async def token(request: Request) -> JSONResponse:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        client = _client_from(request, form)
        if client != (CLIENT_ID, CLIENT_SECRET):
            return _oauth_error("invalid_client", 401)
        grant = form.get("grant_type", "")
        with vendor.lock:
            vendor.token_grants.append(grant)
            if grant == "authorization_code":
                return _authorization_code_grant(vendor, form)
            if grant == "refresh_token":
                return _refresh_grant(vendor, form)
        return _oauth_error("unsupported_grant_type")

    @app.get("/api/v1/discovery")
    def discovery(request: Request) -> JSONResponse:
        if (refused := bearer(request)) is not None:
            return refused
        base = str(request.base_url).rstrip("/")
        return JSONResponse({"region": REGION, "api_base_url": f"{base}/{REGION}"})

    @app.get(f"/{REGION}/api/v1/orders")
    def orders(request: Request) -> JSONResponse:
        if (refused := bearer(request)) is not None:
            return refused
        q = request.query_params
        try:
            since = datetime.fromisoformat(q["since"]) if "since" in q else None
            page_size = int(q.get("page_size", "50"))
            offset = int(base64.urlsafe_b64decode(q["cursor"]).decode()) if "cursor" in q else 0
        except ValueError:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if not 1 <= page_size <= 500:
            return JSONResponse({"error": "invalid_page_size"}, status_code=400)
        listed = []
        for order in vendor.orders:
            scans = [s for s in order.scans if since is None or s.scanned_at >= since]
            if scans:
                listed.append(_order_json(order, scans, hide_sizes=vendor.hide_sizes))
        page = listed[offset : offset + page_size]
        more = offset + page_size < len(listed)
        next_cursor = base64.urlsafe_b64encode(str(offset + page_size).encode()).decode()
        return JSONResponse({"orders": page, "next_cursor": next_cursor if more else None})

    @app.get(f"/{REGION}/api/v1/orders/{{order_id}}/scans/{{scan_id}}/files/{{file_id}}")
    def download(request: Request, order_id: str, scan_id: str, file_id: str) -> Response:
        if (refused := bearer(request)) is not None:
            return refused
        found = vendor.file(order_id, scan_id, file_id)
        if found is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        media_type = "application/xml" if found.format == "xml" else "model/stl"
        if vendor.hide_sizes:
            chunks = [found.content[i : i + 4096] for i in range(0, len(found.content), 4096)]
            return StreamingResponse(iter(chunks), media_type=media_type)
        return Response(found.content, media_type=media_type)

    return app


def _authorization_code_grant(vendor: Vendor, form: dict[str, str]) -> JSONResponse:
    code = vendor._codes.get(form.get("code", ""))
    if code is None or code.used or code.expires_at <= datetime.now(UTC):
        return _oauth_error("invalid_grant")
    code.used = True  # single use, even when the rest of the request is wrong
    if form.get("redirect_uri") != code.redirect_uri:
        return _oauth_error("invalid_grant")
    verifier = form.get("code_verifier")
    if code.code_challenge is not None:
        if verifier is None or _s256(verifier) != code.code_challenge:
            return _oauth_error("invalid_grant")
    elif verifier is not None:
        return _oauth_error("invalid_request")
    body = vendor._issue(family=secrets.token_hex(8))
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _refresh_grant(vendor: Vendor, form: dict[str, str]) -> JSONResponse:
    presented = vendor._refresh.get(form.get("refresh_token", ""))
    if presented is None or presented.family in vendor._revoked_families:
        return _oauth_error("invalid_grant")
    if presented.used:  # replayed: someone else may hold the family, so end it
        vendor._revoked_families.add(presented.family)
        return _oauth_error("invalid_grant")
    presented.used = True
    return JSONResponse(vendor._issue(presented.family), headers={"Cache-Control": "no-store"})


def _order_json(order: VendorOrder, scans: list[VendorScan], *, hide_sizes: bool) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "patient": {"name": order.patient_name, "chart_number": order.chart_number},
        "scans": [
            {
                "scan_id": scan.scan_id,
                "scanned_at": scan.scanned_at.isoformat().replace("+00:00", "Z"),
                "files": [
                    {
                        "file_id": f.file_id,
                        "jaw": f.jaw,
                        "format": f.format,
                        "size": None if hide_sizes else len(f.content),
                        "sha256": hashlib.sha256(f.content).hexdigest(),
                    }
                    for f in scan.files
                ],
            }
            for scan in scans
        ],
    }


# ---- Running it ----------------------------------------------------------------------------------


@dataclass
class IteroTestServer:
    base_url: str
    vendor: Vendor

    def config(self, **overrides: Any) -> IteroConfig:
        """An IteroConfig for the registered test client; retries back off by a millisecond."""
        values: dict[str, Any] = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "base_url": self.base_url,
            "redirect_uri": REDIRECT_URI,
            "timeout": 10.0,
            "backoff_seconds": 0.001,
        }
        values.update(overrides)
        return IteroConfig(**values)


@contextmanager
def run_itero_server(vendor: Vendor | None = None) -> Iterator[IteroTestServer]:
    """Serve the fake iTero API on 127.0.0.1 and a free port until the block ends."""
    vendor = vendor or Vendor()
    with serve_in_thread(create_vendor_app(vendor), name="itero-server") as base_url:
        yield IteroTestServer(base_url, vendor)
