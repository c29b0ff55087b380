"""Send one Web Push message (RFC 8030) to one browser subscription, encrypted for that browser
(RFC 8291, `aes128gcm`) and signed with the deployment's VAPID key (RFC 8292), through `pywebpush`.

    send_push(target, payload, keys, subject=...) -> PushResult.DELIVERED
                                                    PushResult.GONE      (404/410: delete it)
                                                    PushResult.REJECTED  (other 4xx: retrying won't help)
                                              raises PushTemporarilyFailed (429, 5xx, network: retry)
                                              raises InvalidInput          (endpoint not allowed)

The endpoint URL comes from the patient's browser, so it is untrusted: only `https` to a public
address is contacted (no redirects, no proxies from the environment), and the address actually
connected to is checked, so a host name that resolves to a private address (DNS rebinding) is
refused too. The endpoint is a capability URL and the payload may name the practice: neither is
ever logged.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import re
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog
from pywebpush import WebPushException, webpush  # type: ignore[import-untyped]
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ortholens.kit.errors import ConfigurationError, InvalidInput, ServiceUnavailable
from ortholens.notify.vapid import VapidKeys

log = structlog.get_logger(__name__)

# RFC 8030 push services must accept 4096 octets of encrypted body; aes128gcm adds a 86-octet header,
# a 16-octet tag and a 1-octet padding delimiter to the plaintext.
MAX_PAYLOAD_BYTES = 4096 - 86 - 16 - 1
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_SUBJECT = re.compile(r"^(mailto:[^@\s]+@[^@\s]+|https://[^\s/]+(/\S*)?)$", re.IGNORECASE)


class PushResult(enum.Enum):
    """What the push service made of one message."""

    DELIVERED = "delivered"  # accepted (201/202); the service delivers it when the device is online
    GONE = "gone"  # 404/410: the subscription expired or was revoked; delete it
    REJECTED = "rejected"  # another 4xx (bad VAPID, payload too large): retrying will not help


class PushTemporarilyFailed(ServiceUnavailable):
    """The push service was unreachable, overloaded (5xx) or rate-limiting us (429); try again.

    Not an `InvalidInput`, so the job queue retries the job with back-off. `retry_after` is the
    service's `Retry-After` header when it sent one (seconds or an HTTP date), else None.
    """

    title = "Push service temporarily unavailable"

    def __init__(self, detail: str, *, status: int | None, retry_after: str | None) -> None:
        super().__init__(detail)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class PushTarget:
    """A browser's push subscription, as `PushSubscription.toJSON()` gives it.

    `p256dh` (the browser's P-256 public key) and `auth` (its 16-byte secret) are base64url.
    """

    endpoint: str
    p256dh: str
    auth: str

    def subscription_info(self) -> dict[str, Any]:
        """The subscription in the shape `pywebpush.webpush` takes."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass(frozen=True)
class PushPayload:
    """What the portal's service worker shows: a title, a body, and the page a tap opens.

    `url` must be a path on our own origin (the service worker opens it); `tag` makes a newer
    notification replace an older one with the same tag instead of stacking up.
    """

    title: str
    body: str
    url: str = "/portal"
    tag: str | None = None

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise InvalidInput("A notification needs a title.")
        if not self.url.startswith("/") or self.url.startswith("//") or "\\" in self.url:
            raise InvalidInput("A notification's link must be a path on this site, like /portal.")

    def to_json(self) -> str:
        """The message body the service worker parses (compact UTF-8 JSON)."""
        body: dict[str, str] = {"title": self.title, "body": self.body, "url": self.url}
        if self.tag is not None:
            body["tag"] = self.tag
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def check_vapid_subject(subject: str) -> None:
    """Refuse a VAPID contact that push services would reject: a `mailto:` address or https URL."""
    if not _SUBJECT.match(subject):
        raise ConfigurationError(
            "The Web Push contact must be a mailto: address or an https:// URL of the operator."
        )


def check_endpoint_url(endpoint: str, *, allow_insecure_endpoints: bool = False) -> None:
    """Refuse a push endpoint we must never contact (checked on subscribe and again on send).

    Only `https` URLs without credentials, to a host name or a public IP address. With
    `allow_insecure_endpoints` (tests, local development) `http` to 127.0.0.1/localhost/::1 is
    allowed too. Host names are checked against the address actually connected to, in `send_push`.
    """
    try:
        parts = urlsplit(endpoint)
        port = parts.port  # raises on a malformed port
    except ValueError as exc:
        raise InvalidInput("The push endpoint is not a valid URL.") from exc
    host = (parts.hostname or "").lower()
    if not host or parts.username is not None or parts.password is not None or port == 0:
        raise InvalidInput("The push endpoint is not a valid URL.")
    loopback = host in LOOPBACK_HOSTS
    if parts.scheme == "http" and loopback and allow_insecure_endpoints:
        return
    if parts.scheme != "https":
        raise InvalidInput("The push endpoint must be an https:// URL.")
    if loopback and not allow_insecure_endpoints:
        raise InvalidInput("The push endpoint must be on the public internet.")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return  # a host name: its addresses are checked when we connect
    if not _allowed_address(address, allow_loopback=allow_insecure_endpoints):
        raise InvalidInput("The push endpoint must be on the public internet.")


def send_push(
    subscription: PushTarget,
    payload: PushPayload,
    keys: VapidKeys,
    *,
    subject: str,
    ttl: int = 86400,
    timeout: float = 10,
    allow_insecure_endpoints: bool = False,
) -> PushResult:
    """Encrypt `payload` for one subscription and hand it to its push service.

    `subject` is the operator's contact (`mailto:` or `https:`) that push services use when our
    traffic misbehaves; `ttl` is how long in seconds the service keeps the message for an offline
    device. Raises `PushTemporarilyFailed` when a retry may succeed.
    """
    check_vapid_subject(subject)
    if ttl < 0:
        raise InvalidInput("A push message's TTL is a number of seconds, 0 or more.")
    check_endpoint_url(subscription.endpoint, allow_insecure_endpoints=allow_insecure_endpoints)
    data = payload.to_json()
    if len(data.encode()) > MAX_PAYLOAD_BYTES:
        raise InvalidInput(f"A notification may carry at most {MAX_PAYLOAD_BYTES} bytes.")
    with _guarded_session(allow_loopback=allow_insecure_endpoints) as session:
        try:
            webpush(
                subscription.subscription_info(),
                data=data,
                vapid_private_key=keys.vapid,
                # A fresh dict every time: pywebpush writes `aud` and `exp` into it.
                vapid_claims={"sub": subject},
                content_encoding="aes128gcm",
                ttl=ttl,
                timeout=timeout,
                requests_session=session,
            )
        except WebPushException as exc:
            return _result_of_refusal(exc)
        except requests.RequestException as exc:
            # `from None`: requests' messages carry the endpoint URL, which must not reach a log.
            error = type(exc).__name__
            log.warning("push.unreachable", error=error)
            raise PushTemporarilyFailed(
                f"The push service could not be reached ({error}).", status=None, retry_after=None
            ) from None
    return PushResult.DELIVERED


def _result_of_refusal(exc: WebPushException) -> PushResult:
    """Map a push service's error answer (pywebpush raises for any status above 202)."""
    status: int | None = exc.status_code
    if status is None:  # raised before sending: the subscription's keys are malformed
        raise InvalidInput("The push subscription's keys are not valid.") from exc
    if status in (404, 410):
        log.info("push.subscription_gone", status=status)
        return PushResult.GONE
    if status == 429 or status >= 500:
        log.warning("push.deferred", status=status)
        raise PushTemporarilyFailed(
            f"The push service answered {status}; try again later.",
            status=status,
            retry_after=exc.retry_after,
        ) from None  # the exception's text quotes the service's answer: keep it out of logs
    log.warning("push.rejected", status=status)
    return PushResult.REJECTED


# ---- Connections only to public addresses ------------------------------------------------------


def _allowed_address(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_loopback: bool
) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global or (allow_loopback and address.is_loopback)


def _check_peer(sock: socket.socket, *, allow_loopback: bool) -> None:
    """Close and refuse a connection that reached a private, loopback or reserved address."""
    address = ipaddress.ip_address(sock.getpeername()[0])
    if not _allowed_address(address, allow_loopback=allow_loopback):
        sock.close()
        raise InvalidInput("The push endpoint must be on the public internet.")


class _PublicHTTPConnection(HTTPConnection):
    allow_loopback = False

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock, allow_loopback=self.allow_loopback)
        return sock


class _PublicHTTPSConnection(HTTPSConnection):
    allow_loopback = False

    def _new_conn(self) -> socket.socket:  # before the TLS handshake
        sock = super()._new_conn()
        _check_peer(sock, allow_loopback=self.allow_loopback)
        return sock


class _LoopbackHTTPConnection(_PublicHTTPConnection):
    allow_loopback = True


class _LoopbackHTTPSConnection(_PublicHTTPSConnection):
    allow_loopback = True


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _LoopbackHTTPPool(HTTPConnectionPool):
    ConnectionCls = _LoopbackHTTPConnection


class _LoopbackHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _LoopbackHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    """An adapter whose connections check the peer address right after connecting."""

    def __init__(self, *, allow_loopback: bool) -> None:
        self._pools: dict[str, type[HTTPConnectionPool]] = (
            {"http": _LoopbackHTTPPool, "https": _LoopbackHTTPSPool}
            if allow_loopback
            else {"http": _PublicHTTPPool, "https": _PublicHTTPSPool}
        )
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pools


class _NoRedirectSession(requests.Session):
    """A push service never redirects; following one would let an endpoint bounce us inward."""

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        return None


def _guarded_session(*, allow_loopback: bool) -> requests.Session:
    session = _NoRedirectSession()
    session.trust_env = False  # no proxy or .netrc from the environment: we check the real peer
    adapter = _GuardedAdapter(allow_loopback=allow_loopback)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
