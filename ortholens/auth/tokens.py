"""Signed tokens (JWT, HS256). The `type` claim keeps each kind to its purpose:

    staff     access token of a staff member (1 hour)
    patient   access token of a patient in the portal (1 hour)
    refresh   refresh token of either (30 days, single use, stored hashed)
    invite    a new staff member's set-your-password link (7 days)
    mfa       proof of a correct password while the TOTP code is asked for (5 minutes)

Decoding pins the algorithm (so `alg: none` and algorithm swaps fail), requires every claim, and
checks the type; anything wrong is the same 401 to the caller.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ortholens.kit.errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "ortholens"
ACCESS_TTL = timedelta(hours=1)
REFRESH_TTL = timedelta(days=30)
INVITE_TTL = timedelta(days=7)
MFA_TTL = timedelta(minutes=5)


class TokenType(StrEnum):
    STAFF = "staff"
    PATIENT = "patient"
    REFRESH = "refresh"
    INVITE = "invite"
    MFA = "mfa"


@dataclass(frozen=True)
class Claims:
    type: TokenType
    subject: uuid.UUID
    session_id: uuid.UUID | None
    version: int
    expires_at: datetime
    token_id: str


def derive_jwt_key(signing_key: bytes, purpose: bytes = b"ortholens-jwt-v1") -> bytes:
    """A key used only for `purpose` (JWTs by default), derived from the process signing key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(signing_key)


def token_digest(token: str) -> str:
    """What we store instead of a token (refresh, invite): its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenSigner:
    def __init__(self, signing_key: bytes) -> None:
        self._key = derive_jwt_key(signing_key)
        self._csrf_key = derive_jwt_key(signing_key, b"ortholens-csrf-v1")

    def csrf_token(self, session_id: uuid.UUID) -> str:
        """The CSRF token of a sign-in session: an HMAC of its id, so a token is good for that
        session only and nobody without the server's key can make one (an `ol_csrf` cookie an
        attacker planted, echoed in the header, is refused)."""
        digest = hmac.new(self._csrf_key, b"csrf:" + session_id.bytes, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def issue(
        self,
        token_type: TokenType,
        subject: uuid.UUID,
        *,
        now: datetime,
        ttl: timedelta,
        session_id: uuid.UUID | None = None,
        version: int = 0,
    ) -> tuple[str, datetime]:
        """A signed token and its expiry."""
        expires = now + ttl
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "type": token_type.value,
            "sub": str(subject),
            "sid": str(session_id) if session_id else "",
            "ver": version,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(payload, self._key, algorithm=ALGORITHM), expires

    def decode(self, token: str, expected: TokenType | tuple[TokenType, ...]) -> Claims:
        """Verified claims of `token`, which must be of the `expected` type(s); else Unauthorized."""
        allowed = expected if isinstance(expected, tuple) else (expected,)
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "type", "iss", "jti"]},
            )
            token_type = TokenType(payload["type"])
            subject = uuid.UUID(payload["sub"])
            session = uuid.UUID(payload["sid"]) if payload.get("sid") else None
            version = int(payload.get("ver", 0))
        except (jwt.PyJWTError, ValueError, KeyError, TypeError):
            raise Unauthorized("Your sign-in is not valid; please sign in again.") from None
        if token_type not in allowed:
            raise Unauthorized("Your sign-in is not valid; please sign in again.")
        return Claims(
            type=token_type,
            subject=subject,
            session_id=session,
            version=version,
            expires_at=datetime.fromtimestamp(payload["exp"]).astimezone(),
            token_id=str(payload["jti"]),
        )
