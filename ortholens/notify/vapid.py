"""VAPID keys (RFC 8292) that identify this server to browser push services.

One P-256 key pair per deployment, generated on first start into the key directory and kept there:
every subscription a browser makes is bound to the public key it was given, so a new key silently
orphans all existing subscriptions (the push services answer 403). Back the file up with the other
keys.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02  # type: ignore[import-untyped]
from py_vapid.utils import b64urlencode  # type: ignore[import-untyped]

from ortholens.kit.errors import ConfigurationError

PRIVATE_KEY_FILE = "vapid_private.pem"


@dataclass(frozen=True)
class VapidKeys:
    """The deployment's VAPID key pair.

    `public_key_b64url` is the uncompressed P-256 point, base64url without padding: the
    `applicationServerKey` a page passes to `pushManager.subscribe()`. `vapid` signs the JWT that
    `pywebpush.webpush` sends in the `Authorization: vapid t=...,k=...` header.
    """

    private_pem: bytes
    public_key_b64url: str
    vapid: Vapid02


def load_or_create_vapid_keys(key_dir: Path) -> VapidKeys:
    """The VAPID keys in `key_dir`, generating and storing them (owner-only) on first call."""
    path = key_dir / PRIVATE_KEY_FILE
    if not path.exists():
        _create_exclusively(path, _new_private_pem())
    return vapid_keys_from_pem(path.read_bytes())


def vapid_keys_from_pem(private_pem: bytes) -> VapidKeys:
    """VAPID keys from a PKCS#8 PEM P-256 private key; a wrong key is a configuration error."""
    try:
        key = serialization.load_pem_private_key(private_pem, password=None)
    except ValueError as exc:
        raise ConfigurationError(
            f"The VAPID key file {PRIVATE_KEY_FILE} is not a PEM key."
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigurationError(f"The VAPID key in {PRIVATE_KEY_FILE} must be a P-256 EC key.")
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    public_key_b64url: str = b64urlencode(point)
    return VapidKeys(
        private_pem=private_pem, public_key_b64url=public_key_b64url, vapid=Vapid02(key)
    )


def _new_private_pem() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _create_exclusively(path: Path, content: bytes) -> None:
    """Write `content` to `path` unless it exists, owner-only, never visible half-written.

    The key is written to a private temporary file and hard-linked into place: `link` fails when the
    name exists, so two processes starting together keep the first key and neither reads a partial
    file (an O_EXCL create followed by a write would let the second one read an empty file).
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".vapid-")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        # When another process won the race, its key is the deployment's key.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
