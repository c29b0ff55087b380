"""Web Push end to end: VAPID keys on disk, a message encrypted and signed by `send_push`, received
by a local push service that verifies the VAPID JWT, and decrypted as the browser would."""

from __future__ import annotations

import json
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import http_ece
import pytest
from pywebpush import WebPushException, webpush

from ortholens.kit.errors import ConfigurationError, InvalidInput
from ortholens.notify.vapid import PRIVATE_KEY_FILE, VapidKeys, load_or_create_vapid_keys
from ortholens.notify.webpush import (
    MAX_PAYLOAD_BYTES,
    PushPayload,
    PushResult,
    PushTarget,
    PushTemporarilyFailed,
    check_endpoint_url,
    send_push,
)
from tests.notify.push_service import (
    LocalPushService,
    b64url_decode,
    decrypt,
    make_subscriber,
    running_push_service,
)

SUBJECT = "mailto:ops@clinic.example"
PAYLOAD = PushPayload(
    title="Scan reviewed", body="Dr. Lee reviewed your photos ✓", url="/portal", tag="scan-1"
)


@pytest.fixture(scope="module")
def running_service() -> Iterator[LocalPushService]:
    with running_push_service() as service:
        yield service


@pytest.fixture
def service(running_service: LocalPushService) -> LocalPushService:
    running_service.reset()
    return running_service


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> VapidKeys:
    return load_or_create_vapid_keys(tmp_path_factory.mktemp("keys"))


def send(target: PushTarget, keys: VapidKeys, **options: Any) -> PushResult:
    options.setdefault("allow_insecure_endpoints", True)
    return send_push(target, PAYLOAD, keys, subject=SUBJECT, **options)


# ---- VAPID keys ----------------------------------------------------------------------------------


def test_vapid_keys_are_generated_once_and_readable_by_the_owner_only(tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    first = load_or_create_vapid_keys(key_dir)
    again = load_or_create_vapid_keys(key_dir)

    path = key_dir / PRIVATE_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == first.private_pem
    assert again.private_pem == first.private_pem
    assert again.public_key_b64url == first.public_key_b64url
    point = b64url_decode(first.public_key_b64url)
    assert "=" not in first.public_key_b64url
    assert len(point) == 65 and point[0] == 0x04  # uncompressed P-256: applicationServerKey
    assert [p.name for p in key_dir.iterdir()] == [PRIVATE_KEY_FILE]  # no temporary left behind


def test_a_damaged_vapid_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / PRIVATE_KEY_FILE).write_bytes(b"not a key")
    with pytest.raises(ConfigurationError, match="not a PEM key"):
        load_or_create_vapid_keys(tmp_path)


# ---- Delivery ------------------------------------------------------------------------------------


def test_the_browser_decrypts_the_payload_signed_with_our_vapid_key(
    service: LocalPushService, keys: VapidKeys
) -> None:
    subscriber = make_subscriber(service)

    assert send(subscriber.target, keys, ttl=3600) is PushResult.DELIVERED

    [received] = service.received
    assert service.refused == []
    assert received.headers["content-encoding"] == "aes128gcm"
    assert received.headers["ttl"] == "3600"
    assert received.vapid_public_key == keys.public_key_b64url
    assert received.vapid_claims["aud"] == service.origin
    assert received.vapid_claims["sub"] == SUBJECT
    assert PAYLOAD.title.encode() not in received.body  # encrypted on the wire
    message = json.loads(decrypt(received.body, subscriber))
    assert message == {
        "title": "Scan reviewed",
        "body": "Dr. Lee reviewed your photos ✓",
        "url": "/portal",
        "tag": "scan-1",
    }


def test_another_subscribers_keys_cannot_decrypt_the_message(
    service: LocalPushService, keys: VapidKeys
) -> None:
    subscriber, stranger = make_subscriber(service, "a"), make_subscriber(service, "b")
    send(subscriber.target, keys)
    with pytest.raises(http_ece.ECEException, match="Decryption error"):
        decrypt(service.received[0].body, stranger)


def test_the_local_push_service_refuses_a_vapid_token_for_another_audience(
    service: LocalPushService, keys: VapidKeys
) -> None:
    subscriber = make_subscriber(service)
    with pytest.raises(WebPushException) as refused:
        webpush(
            subscriber.target.subscription_info(),
            data="{}",
            vapid_private_key=keys.vapid,
            vapid_claims={"sub": SUBJECT, "aud": "https://push.example.com"},
            ttl=60,
        )
    assert refused.value.status_code == 401
    assert service.received == []
    assert "audience" in service.refused[0].lower()


@pytest.mark.parametrize("status", [404, 410])
def test_an_expired_subscription_is_gone(
    service: LocalPushService, keys: VapidKeys, status: int
) -> None:
    subscriber = make_subscriber(service, "expired")
    service.answer("expired", status)
    assert send(subscriber.target, keys) is PushResult.GONE


@pytest.mark.parametrize("status", [429, 500, 503])
def test_an_overloaded_push_service_is_retried(
    service: LocalPushService, keys: VapidKeys, status: int
) -> None:
    subscriber = make_subscriber(service, "busy")
    service.answer("busy", status)
    with pytest.raises(PushTemporarilyFailed) as failed:
        send(subscriber.target, keys)
    assert failed.value.status == status
    assert failed.value.retry_after == ("30" if status == 429 else None)
    assert not isinstance(failed.value, InvalidInput)  # the job queue retries only these

    assert send(subscriber.target, keys) is PushResult.DELIVERED  # the retry goes through


@pytest.mark.parametrize("status", [400, 403, 413])
def test_a_refused_message_is_rejected_without_retry(
    service: LocalPushService, keys: VapidKeys, status: int
) -> None:
    subscriber = make_subscriber(service, "refuses")
    service.answer("refuses", status)
    assert send(subscriber.target, keys) is PushResult.REJECTED


def test_an_unreachable_push_service_is_retried(service: LocalPushService, keys: VapidKeys) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    browser = make_subscriber(service).target
    target = PushTarget(f"http://127.0.0.1:{port}/push/x", browser.p256dh, browser.auth)
    with pytest.raises(PushTemporarilyFailed, match="could not be reached"):
        send(target, keys, timeout=2)


def test_a_redirect_is_not_followed(service: LocalPushService, keys: VapidKeys) -> None:
    subscriber = make_subscriber(service, "moves")
    service.answer("moves", 307)
    assert send(subscriber.target, keys) is PushResult.REJECTED
    assert service.received == []  # nothing reached /push/redirected


# ---- What we refuse to send ----------------------------------------------------------------------


def test_an_http_endpoint_is_refused_without_the_test_flag(
    service: LocalPushService, keys: VapidKeys
) -> None:
    subscriber = make_subscriber(service)
    with pytest.raises(InvalidInput, match="https"):
        send(subscriber.target, keys, allow_insecure_endpoints=False)
    assert service.received == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://10.0.0.5/push/x",
        "https://192.168.1.20:8443/push/x",
        "https://172.16.0.1/push/x",
        "https://169.254.169.254/latest/meta-data",
        "https://127.0.0.1/push/x",
        "https://localhost/push/x",
        "https://[::1]/push/x",
        "https://[fd00::1]/push/x",
        "https://[::ffff:10.0.0.1]/push/x",
        "https://0.0.0.0/push/x",
    ],
)
def test_a_private_network_endpoint_is_refused(endpoint: str) -> None:
    with pytest.raises(InvalidInput, match="public internet"):
        check_endpoint_url(endpoint)


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://push.example.com/x",
        "ftp://push.example.com/x",
        "https://user:secret@push.example.com/x",
        "https:///x",
        "https://push.example.com:99999/x",
        "http://10.0.0.5/x",
    ],
)
def test_a_malformed_or_insecure_endpoint_is_refused(endpoint: str) -> None:
    with pytest.raises(InvalidInput):
        check_endpoint_url(endpoint, allow_insecure_endpoints=True)


def test_public_push_services_are_allowed() -> None:
    check_endpoint_url("https://fcm.googleapis.com/fcm/send/abc:def")
    check_endpoint_url("https://updates.push.services.mozilla.com/wpush/v2/gAAAA")
    check_endpoint_url("https://web.push.apple.com/QGx")


def test_a_host_name_resolving_to_a_private_address_is_refused_on_connect(
    service: LocalPushService, keys: VapidKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name passes the URL check, the address it resolves to does not."""
    real_getaddrinfo = socket.getaddrinfo

    def resolve_to_loopback(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real_getaddrinfo(
            "127.0.0.1" if host == "push.example.com" else host, *args, **kwargs
        )

    monkeypatch.setattr(socket, "getaddrinfo", resolve_to_loopback)
    port = service.origin.rsplit(":", 1)[1]
    subscriber = make_subscriber(service)
    target = PushTarget(
        f"https://push.example.com:{port}/push/rebound",
        subscriber.target.p256dh,
        subscriber.target.auth,
    )
    with pytest.raises(InvalidInput, match="public internet"):
        send(target, keys, allow_insecure_endpoints=False)
    assert service.received == []
    assert service.refused == []  # the request never reached the service


def test_a_link_off_our_site_is_refused() -> None:
    for url in ("https://evil.example/", "//evil.example/", "portal", "/\\evil.example"):
        with pytest.raises(InvalidInput, match="path on this site"):
            PushPayload(title="Hi", body="", url=url)


def test_an_oversized_payload_is_refused(service: LocalPushService, keys: VapidKeys) -> None:
    subscriber = make_subscriber(service)
    payload = PushPayload(title="Long", body="x" * MAX_PAYLOAD_BYTES)
    with pytest.raises(InvalidInput, match="at most"):
        send_push(subscriber.target, payload, keys, subject=SUBJECT, allow_insecure_endpoints=True)
    assert service.received == []


def test_a_subject_push_services_would_refuse_is_a_configuration_error(
    service: LocalPushService, keys: VapidKeys
) -> None:
    subscriber = make_subscriber(service)
    with pytest.raises(ConfigurationError, match="mailto"):
        send_push(subscriber.target, PAYLOAD, keys, subject="ops", allow_insecure_endpoints=True)
