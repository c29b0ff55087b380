"""The iTero partner API for one clinic's account: region discovery, scan listing and download.

    with IteroClient(config, tokens, on_tokens_refreshed=save) as itero:
        for scan in itero.list_scans(since=last_sync_at):
            files = itero.download(scan, max_bytes=...)

Access tokens last an hour. The client renews them shortly before they expire and, when iTero
answers 401 anyway (revoked early, clock skew), renews once and repeats the request. Every change to
the grant (a rotated refresh token, the discovered region) is handed to `on_tokens_refreshed` at once:
the old refresh token is dead from that moment, so the caller must store the new one before going on.

The client is synchronous and meant for a job thread; a lock keeps threads sharing one client from
spending the same refresh token twice. Different processes must not sync one clinic at the same time.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType
from typing import BinaryIO
from urllib.parse import quote

import httpx
import structlog

from ortholens.kit.errors import ConfigurationError
from ortholens.scanners.itero import oauth
from ortholens.scanners.itero.errors import IteroAuthError, IteroError, IteroFileTooLarge
from ortholens.scanners.itero.schemas import (
    DiscoveryResponse,
    DownloadedFile,
    IteroConfig,
    IteroFile,
    IteroScan,
    IteroTokens,
    OrderPage,
    check_base_url,
    scans_of_order,
)
from ortholens.scanners.itero.transport import (
    RetryPolicy,
    Sleep,
    parse_json,
    send_with_retry,
    vendor_error,
)

log = structlog.get_logger(__name__)

DISCOVERY_PATH = "/api/v1/discovery"
ORDERS_PATH = "/api/v1/orders"

DEFAULT_PAGE_SIZE = 50
DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024  # well above a high-resolution arch (DOMAIN.md)
_CHUNK_BYTES = 256 * 1024

TokensRefreshed = Callable[[IteroTokens], None]


class IteroClient:
    """A clinic's connection to the iTero partner API (see the module docstring)."""

    def __init__(
        self,
        config: IteroConfig,
        tokens: IteroTokens,
        on_tokens_refreshed: TokensRefreshed,
        *,
        http: httpx.Client | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._config = config
        self._tokens = tokens
        self._on_tokens_refreshed = on_tokens_refreshed
        self._owns_http = http is None
        self._http = http or httpx.Client(
            timeout=config.timeout, headers={"Accept": "application/json"}
        )
        self._sleep = sleep
        self._policy = RetryPolicy.for_api(config)
        self._refresh_lock = threading.Lock()

    @property
    def tokens(self) -> IteroTokens:
        """The grant as it stands now (after any refresh or discovery)."""
        return self._tokens

    def close(self) -> None:
        """Close the HTTP connections (only when the client created them)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> IteroClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---- Discovery and listing -------------------------------------------------------------------

    def discover_region(self) -> str:
        """Ask iTero for the account's regional API base URL, and keep it with the tokens."""
        what = "finding the iTero account's region"
        response = self._request("GET", self._config.base_url + DISCOVERY_PATH, what=what)
        answer = parse_json(DiscoveryResponse, response, what)
        try:
            region_url = check_base_url(answer.api_base_url, what="regional API URL from iTero")
        except ConfigurationError:
            raise IteroError(f"iTero sent an unusable regional API URL while {what}.") from None
        self._store(replace(self._tokens, region_base_url=region_url))
        log.info("itero.region_discovered", region=answer.region)
        return region_url

    def iter_scans(
        self, since: datetime | None = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[IteroScan]:
        """Every scan taken at or after `since` (all when None), oldest first, page by page."""
        if not 1 <= page_size <= 500:
            raise ValueError("page_size must be between 1 and 500")
        url = self._region_url() + ORDERS_PATH
        params: dict[str, str | int] = {"page_size": page_size}
        if since is not None:
            if since.tzinfo is None:
                raise ValueError("since must be timezone-aware")
            params["since"] = since.astimezone(UTC).isoformat().replace("+00:00", "Z")
        seen_cursors: set[str] = set()
        while True:
            response = self._request("GET", url, params=params, what="listing iTero scans")
            page = parse_json(OrderPage, response, "listing iTero scans")
            for order in page.orders:
                yield from scans_of_order(order)
            if not page.next_cursor:
                return
            if page.next_cursor in seen_cursors:  # a looping cursor would never end the sync
                raise IteroError("iTero repeated a page while listing scans; try again later.")
            seen_cursors.add(page.next_cursor)
            params["cursor"] = page.next_cursor

    def list_scans(
        self, since: datetime | None = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[IteroScan]:
        """All scans taken at or after `since` (inclusive, so a sync may see a scan twice)."""
        return list(self.iter_scans(since, page_size))

    # ---- Downloads -------------------------------------------------------------------------------

    def stream_file(
        self,
        scan: IteroScan,
        file: IteroFile,
        sink: BinaryIO,
        *,
        max_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> str:
        """Write one file of `scan` to `sink`, refusing more than `max_bytes`; returns its SHA-256.

        On any error `sink` may hold part of the file; the caller discards it.
        """
        if file.size is not None and file.size > max_bytes:
            raise _too_large(file.size, max_bytes)
        url = (
            f"{self._region_url()}{ORDERS_PATH}/{_segment(scan.order_id)}"
            f"/scans/{_segment(scan.scan_id)}/files/{_segment(file.file_id)}"
        )
        what = "downloading an iTero scan file"
        response = self._request("GET", url, what=what, stream=True)
        try:
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise _too_large(int(declared), max_bytes)
            digest = hashlib.sha256()
            received = 0
            try:
                for chunk in response.iter_bytes(_CHUNK_BYTES):
                    received += len(chunk)
                    if received > max_bytes:  # no or a false Content-Length: count ourselves
                        raise _too_large(None, max_bytes)
                    digest.update(chunk)
                    sink.write(chunk)
            except httpx.TransportError as exc:
                raise IteroError(f"The connection to iTero broke while {what}.") from exc
        finally:
            response.close()
        if file.size is not None and received != file.size:
            raise IteroError(
                f"An iTero scan file arrived incomplete ({received} of {file.size} bytes)."
            )
        sha256 = digest.hexdigest()
        if file.sha256 is not None and sha256 != file.sha256:
            raise IteroError("An iTero scan file failed its checksum; try the sync again.")
        return sha256

    def download_file(
        self, scan: IteroScan, file: IteroFile, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES
    ) -> DownloadedFile:
        """One file of `scan` in memory, at most `max_bytes` long."""
        buffer = io.BytesIO()
        sha256 = self.stream_file(scan, file, buffer, max_bytes=max_bytes)
        return DownloadedFile(file=file, content=buffer.getvalue(), sha256=sha256)

    def download(
        self, scan: IteroScan, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES
    ) -> list[DownloadedFile]:
        """Every file of `scan` (arches and order XML) in memory, each at most `max_bytes` long."""
        return [self.download_file(scan, file, max_bytes=max_bytes) for file in scan.files]

    # ---- Authorized requests ---------------------------------------------------------------------

    def _region_url(self) -> str:
        return self._tokens.region_base_url or self.discover_region()

    def _request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: dict[str, str | int] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """A successful answer; renews the access token first when due, and once on a 401."""
        if self._tokens.expires_within(self._config.refresh_margin_seconds):
            self._refresh(self._tokens.access_token, reason="expiring")
        sent_with = self._tokens.access_token
        response = self._send(method, url, sent_with, params=params, stream=stream, what=what)
        if response.status_code == 401:
            response.close()
            self._refresh(sent_with, reason="rejected")
            response = self._send(
                method, url, self._tokens.access_token, params=params, stream=stream, what=what
            )
            if response.status_code == 401:
                response.close()
                raise IteroAuthError(f"iTero refused a freshly renewed token; {oauth.RECONNECT}.")
        if not response.is_success:
            response.close()
            raise vendor_error(response, what)
        return response

    def _send(
        self,
        method: str,
        url: str,
        access_token: str,
        *,
        params: dict[str, str | int] | None,
        stream: bool,
        what: str,
    ) -> httpx.Response:
        request = self._http.build_request(
            method, url, params=params, headers={"Authorization": f"Bearer {access_token}"}
        )
        return send_with_retry(
            self._http, request, policy=self._policy, sleep=self._sleep, what=what, stream=stream
        )

    def _refresh(self, stale_access_token: str, *, reason: str) -> None:
        with self._refresh_lock:
            if self._tokens.access_token != stale_access_token:
                return  # another thread renewed it while this one waited
            renewed = oauth.refresh(self._config, self._tokens, http=self._http, sleep=self._sleep)
            self._store(renewed)
        log.info("itero.tokens_refreshed", reason=reason)

    def _store(self, tokens: IteroTokens) -> None:
        self._tokens = tokens
        self._on_tokens_refreshed(tokens)


def _segment(value: str) -> str:
    return quote(value, safe="")


def _too_large(size: int | None, max_bytes: int) -> IteroFileTooLarge:
    if size is None:
        return IteroFileTooLarge(
            f"An iTero scan file is larger than the {max_bytes}-byte limit; it was not imported."
        )
    return IteroFileTooLarge(
        f"An iTero scan file is {size} bytes, over the {max_bytes}-byte limit; it was not imported."
    )
