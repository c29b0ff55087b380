"""Sealing short secrets (TOTP seeds, vendor credentials) with AES-256-GCM for storage in the
database. The associated data binds a sealed value to where it belongs (e.g. the user id), so a
value copied to another row does not open."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ortholens.kit.errors import OrthoLensError

_VERSION = b"\x01"
_NONCE_BYTES = 12


class SealBroken(OrthoLensError):
    title = "Stored secret cannot be decrypted"


def seal(key: bytes, plaintext: bytes, *, context: bytes) -> str:
    """Encrypt and authenticate `plaintext` bound to `context`; returns URL-safe text."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext, context)
    return base64.urlsafe_b64encode(_VERSION + nonce + sealed).decode()


def unseal(key: bytes, token: str, *, context: bytes) -> bytes:
    """The plaintext of a `seal` result; raises SealBroken if it was altered or moved."""
    try:
        raw = base64.urlsafe_b64decode(token.encode())
        if raw[:1] != _VERSION:
            raise ValueError("unknown version")
        nonce, sealed = raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :]
        return AESGCM(key).decrypt(nonce, sealed, context)
    except (InvalidTag, ValueError) as exc:
        raise SealBroken("A stored secret failed its integrity check.") from exc
