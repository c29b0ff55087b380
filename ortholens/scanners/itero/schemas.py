"""The data the iTero connector hands out, and the vendor's wire format it is parsed from.

Public types are frozen dataclasses. Anything that is a secret (tokens, the client secret) or PHI
(patient name, chart number, file contents) is left out of `repr`, so a stray log line or traceback
that formats one of these objects shows ids only.

Wire models (`*Wire`, `TokenResponse`, ...) follow the partner API's documented JSON shapes; unknown
fields are ignored so additions on the vendor's side do not break a sync.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from ortholens.kit.errors import ConfigurationError
from ortholens.scanners.itero.errors import IteroAuthError

Jaw = Literal["upper", "lower", "bite"]

DEFAULT_SCOPE = "orders.read scans.read offline_access"


def check_base_url(url: str, *, what: str) -> str:
    """`url` without a trailing slash; refuses anything but HTTPS (plain HTTP only on loopback).

    Bearer tokens travel on every request, so they must never cross a network unencrypted.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url.rstrip("/")
    if parts.scheme == "http" and _is_loopback(host):
        return url.rstrip("/")
    raise ConfigurationError(f"The {what} must be an https:// URL.")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class IteroConfig:
    """How OrthoLens is registered with iTero, and how patient the client is with it.

    `base_url` is the global host of the authorization server and the discovery endpoint; the
    account's regional API host is learned from discovery and kept in `IteroTokens`.
    """

    client_id: str
    client_secret: str = field(repr=False)
    base_url: str
    redirect_uri: str
    scope: str = DEFAULT_SCOPE
    timeout: float = 30.0  # seconds, per connect/read/write
    max_attempts: int = 4  # per request, counting the first, for 429, 5xx and network errors
    backoff_seconds: float = 0.5  # first retry delay without Retry-After; doubles each time
    max_retry_after_seconds: float = 60.0  # a longer Retry-After gives up instead of blocking
    refresh_margin_seconds: float = 300.0  # refresh proactively this long before expiry

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", check_base_url(self.base_url, what="iTero base URL"))
        if self.max_attempts < 1:
            raise ConfigurationError("max_attempts must be at least 1.")


class _StoredTokens(BaseModel):
    model_config = ConfigDict(extra="forbid")

    access_token: str = Field(min_length=1)
    refresh_token: str = Field(min_length=1)
    expires_at: AwareDatetime
    region_base_url: str | None = None


@dataclass(frozen=True)
class IteroTokens:
    """A clinic's iTero grant; store `to_json()` sealed and rebuild it with `from_json`."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime  # timezone-aware, UTC
    region_base_url: str | None = None  # the account's regional API host, once discovered

    def expires_within(self, seconds: float, *, now: datetime | None = None) -> bool:
        """Whether the access token expires within `seconds` from `now` (default: the clock)."""
        now = now or datetime.now(UTC)
        return self.expires_at - now <= timedelta(seconds=seconds)

    def to_json(self) -> str:
        """The tokens as JSON text, for sealing into `ScannerIntegration.credentials`."""
        return json.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_at": self.expires_at.astimezone(UTC).isoformat(),
                "region_base_url": self.region_base_url,
            }
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> IteroTokens:
        """Tokens from `to_json()` output; unreadable data asks for a reconnect."""
        try:
            stored = _StoredTokens.model_validate_json(text)
        except ValidationError:
            raise IteroAuthError(
                "The stored iTero connection is unreadable; reconnect iTero."
            ) from None
        return cls(
            access_token=stored.access_token,
            refresh_token=stored.refresh_token,
            expires_at=stored.expires_at.astimezone(UTC),
            region_base_url=stored.region_base_url,
        )


@dataclass(frozen=True)
class IteroFile:
    """One file of a scan as listed by iTero (a mesh per jaw, or the order XML)."""

    file_id: str
    jaw: Jaw | None  # None for files that are not one arch (order XML, reports)
    format: str  # lower-case extension as iTero names it: "stl", "ply", "xml"
    size: int | None  # bytes, when iTero declares it
    sha256: str | None = None  # hex, when iTero declares it; checked after download


@dataclass(frozen=True)
class IteroScan:
    """One scan (an upper, lower and bite set) of an iTero order."""

    scan_id: str
    order_id: str
    patient_name: str | None = field(repr=False)
    patient_ref: str | None = field(repr=False)  # the practice's chart number, as typed in iTero
    scanned_at: datetime
    files: tuple[IteroFile, ...]


@dataclass(frozen=True)
class DownloadedFile:
    """A scan file's bytes, checked against the listed size and checksum."""

    file: IteroFile
    content: bytes = field(repr=False)
    sha256: str


# ---- Wire format ---------------------------------------------------------------------------------


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TokenResponse(_Wire):
    """RFC 6749 section 5.1 successful token response."""

    access_token: str = Field(min_length=1)
    token_type: str
    expires_in: int = Field(gt=0)
    refresh_token: str | None = None
    scope: str | None = None


class DiscoveryResponse(_Wire):
    region: str | None = None
    api_base_url: str


class FileWire(_Wire):
    file_id: str
    jaw: str | None = None
    format: str
    size: int | None = Field(default=None, ge=0)
    sha256: str | None = None


class ScanWire(_Wire):
    scan_id: str
    scanned_at: AwareDatetime
    files: list[FileWire]


class PatientWire(_Wire):
    name: str | None = None
    chart_number: str | None = None


class OrderWire(_Wire):
    order_id: str
    patient: PatientWire = Field(default_factory=PatientWire)
    scans: list[ScanWire]


class OrderPage(_Wire):
    orders: list[OrderWire]
    next_cursor: str | None = None


_JAWS: dict[str, Jaw] = {"upper": "upper", "lower": "lower", "bite": "bite"}


def scans_of_order(order: OrderWire) -> list[IteroScan]:
    """The public scans of one wire order."""
    return [
        IteroScan(
            scan_id=scan.scan_id,
            order_id=order.order_id,
            patient_name=order.patient.name,
            patient_ref=order.patient.chart_number,
            scanned_at=scan.scanned_at.astimezone(UTC),
            files=tuple(
                IteroFile(
                    file_id=f.file_id,
                    jaw=_JAWS.get((f.jaw or "").lower()),
                    format=f.format.lower(),
                    size=f.size,
                    sha256=f.sha256.lower() if f.sha256 else None,
                )
                for f in scan.files
            ),
        )
        for scan in order.scans
    ]
