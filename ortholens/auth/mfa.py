"""TOTP second factor (RFC 6238, 30-second steps, 6 digits) for staff sign-in."""

from __future__ import annotations

import uuid

import pyotp

from ortholens.kit.crypto import seal, unseal

ISSUER_NAME = "OrthoLens"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str) -> str:
    """The otpauth:// URI an authenticator app scans (shown as a QR code or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER_NAME)


def code_is_valid(secret: str, code: str) -> bool:
    """True for the current code or its immediate neighbours (clock drift of one step)."""
    digits = code.strip().replace(" ", "")
    return digits.isdigit() and pyotp.TOTP(secret).verify(digits, valid_window=1)


def seal_secret(key: bytes, user_id: uuid.UUID, secret: str) -> str:
    return seal(key, secret.encode(), context=b"mfa:" + user_id.bytes)


def unseal_secret(key: bytes, user_id: uuid.UUID, sealed: str) -> str:
    return unseal(key, sealed, context=b"mfa:" + user_id.bytes).decode()
