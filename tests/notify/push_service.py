"""A local Web Push service and browser-side subscriber for end-to-end push tests.

    with running_push_service() as service:          # FastAPI + uvicorn on 127.0.0.1:<free port>
        subscriber = make_subscriber(service)         # what pushManager.subscribe() would create
        send_push(subscriber.target, payload, keys, subject=..., allow_insecure_endpoints=True)
        received = service.received[0]                # encrypted body, headers, verified VAPID claims
        json.loads(decrypt(received.body, subscriber))
        service.answer("some-id", 410)                # script the next answers for a subscription

Like a real push service (RFC 8030 / RFC 8292) it refuses a message whose VAPID JWT is not an ES256
token signed by the `k` key, whose `aud` is not this service's origin, whose `exp` is past or more
than 24 hours away, or that has no `sub`; it answers 401 then and records the reason in
`service.refused`. Messages must be `Content-Encoding: aes128gcm` with a `TTL` header.
"""

from __future__ import annotations

import base64
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI, Request, Response

from ortholens.notify.webpush import PushTarget
from tests.threaded_server import listening_socket, serve_in_thread

MAX_VAPID_LIFETIME = 24 * 60 * 60


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class ReceivedPush:
    """One message the service accepted."""

    subscription_id: str
    body: bytes
    headers: dict[str, str]
    vapid_claims: dict[str, Any]
    vapid_public_key: str  # the `k` of the Authorization header, base64url


@dataclass
class LocalPushService:
    """State of the running service: what it received and how it should answer."""

    origin: str = ""
    received: list[ReceivedPush] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    _answers: dict[str, list[int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def endpoint(self, subscription_id: str) -> str:
        return f"{self.origin}/push/{subscription_id}"

    def answer(self, subscription_id: str, *statuses: int) -> None:
        """Answer the next messages to this subscription with these statuses (then 201 again).

        429 comes with `Retry-After: 30`; a 3xx points `Location` at subscription `redirected`.
        """
        with self._lock:
            self._answers.setdefault(subscription_id, []).extend(statuses)

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self.refused.clear()
            self._answers.clear()

    def _next_status(self, subscription_id: str) -> int:
        with self._lock:
            queued = self._answers.get(subscription_id)
            return queued.pop(0) if queued else 201

    def _verify_vapid(self, authorization: str) -> tuple[dict[str, Any], str]:
        """Claims and public key of a valid `vapid t=<JWT>,k=<key>` header; ValueError otherwise."""
        scheme, _, params = authorization.partition(" ")
        if scheme.lower() != "vapid":
            raise ValueError("authorization scheme is not vapid")
        parts = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
        if "t" not in parts or "k" not in parts:
            raise ValueError("vapid header lacks t or k")
        key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), b64url_decode(parts["k"])
        )
        try:
            claims: dict[str, Any] = jwt.decode(
                parts["t"],
                key,
                algorithms=["ES256"],
                audience=self.origin,
                options={"require": ["aud", "exp", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise ValueError(f"vapid token rejected: {exc}") from exc
        if claims["exp"] > time.time() + MAX_VAPID_LIFETIME:
            raise ValueError("vapid token lives longer than 24 hours")
        if not str(claims["sub"]).startswith(("mailto:", "https:")):
            raise ValueError("vapid sub is not a mailto: or https: contact")
        return claims, parts["k"]

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/push/{subscription_id}")
        async def push(subscription_id: str, request: Request) -> Response:
            try:
                claims, key = self._verify_vapid(request.headers.get("authorization", ""))
            except ValueError as exc:
                self.refused.append(str(exc))
                return Response(status_code=401)
            if request.headers.get("content-encoding") != "aes128gcm" or (
                "ttl" not in request.headers
            ):
                self.refused.append("not an aes128gcm message with a TTL")
                return Response(status_code=400)
            status = self._next_status(subscription_id)
            if status < 300:
                self.received.append(
                    ReceivedPush(
                        subscription_id=subscription_id,
                        body=await request.body(),
                        headers={k.lower(): v for k, v in request.headers.items()},
                        vapid_claims=claims,
                        vapid_public_key=key,
                    )
                )
            headers = {"Retry-After": "30"} if status == 429 else {}
            if 300 <= status < 400:  # a redirect to another subscription of this service
                headers["Location"] = self.endpoint("redirected")
            return Response(status_code=status, headers=headers)

        return app


@contextmanager
def running_push_service() -> Iterator[LocalPushService]:
    """A push service served by uvicorn in a background thread on 127.0.0.1 and a free port."""
    sock = listening_socket()
    service = LocalPushService(origin=f"http://127.0.0.1:{sock.getsockname()[1]}")
    with serve_in_thread(service._app(), name="push-service", sock=sock):
        yield service


@dataclass(frozen=True)
class Subscriber:
    """A browser's side of a push subscription: its private key, auth secret and the target."""

    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    target: PushTarget


def make_subscriber(service: LocalPushService, subscription_id: str | None = None) -> Subscriber:
    """A subscription as a browser makes it: a P-256 key pair and a 16-byte auth secret."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    auth_secret = os.urandom(16)
    public = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    endpoint = service.endpoint(subscription_id or secrets.token_urlsafe(12))
    return Subscriber(
        private_key=private_key,
        auth_secret=auth_secret,
        target=PushTarget(endpoint=endpoint, p256dh=b64url(public), auth=b64url(auth_secret)),
    )


def decrypt(body: bytes, subscriber: Subscriber) -> bytes:
    """Decrypt a received message as the subscriber's browser would (RFC 8291, aes128gcm)."""
    plaintext: bytes = http_ece.decrypt(
        body,
        private_key=subscriber.private_key,
        auth_secret=subscriber.auth_secret,
        version="aes128gcm",
    )
    return plaintext
