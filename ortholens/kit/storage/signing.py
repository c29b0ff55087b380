"""Signed, expiring URLs for the local object store's upload and download endpoints.

A URL grants one HTTP method on one key until `expires` (unix seconds, UTC), with optional limits
(`max_size` in bytes, exact `content_type`) and a download `filename`. The HMAC-SHA256 signature
covers all of them; the key it uses is derived from the process's token-signing secret with HKDF,
so a signed URL never exposes material usable for tokens and vice versa.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ortholens.kit.errors import Forbidden

SIGNING_INFO = b"ortholens-url-signing-v1"
OBJECTS_PATH = "/api/storage/objects/"
# Query parameters in the order they appear in a URL; `signature` always comes last.
_PARAMS = ("expires", "max_size", "content_type", "filename")


@dataclass(frozen=True)
class SignedGrant:
    """What a verified URL allows: sizes in bytes, `expires_at` in unix seconds."""

    expires_at: int
    max_size: int | None = None
    content_type: str | None = None
    filename: str | None = None


def _canonical_int(value: str | None) -> int | None:
    # Only the canonical decimal form is accepted, so one grant has exactly one spelling.
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or str(int(value)) != value:
        raise Forbidden("invalid signature")
    return int(value)


class UrlSigner:
    """Signs and verifies URLs under `{base_url}/api/storage/objects/{key}`."""

    def __init__(self, secret: bytes, base_url: str) -> None:
        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SIGNING_INFO).derive(
            secret
        )
        self.base_url = base_url.rstrip("/")

    def _signature(self, method: str, key: str, grant: SignedGrant) -> str:
        # A JSON array is an unambiguous encoding: strings are quoted and escaped, absent is null.
        message = json.dumps(
            [
                SIGNING_INFO.decode(),
                method.upper(),
                key,
                grant.expires_at,
                grant.max_size,
                grant.content_type,
                grant.filename,
            ],
            ensure_ascii=True,
            separators=(",", ":"),
        ).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign(
        self,
        method: str,
        key: str,
        *,
        expires_at: int,
        max_size: int | None = None,
        content_type: str | None = None,
        filename: str | None = None,
    ) -> str:
        """An absolute URL granting `method` on `key` until `expires_at` (unix seconds)."""
        grant = SignedGrant(expires_at, max_size, content_type, filename)
        values = {
            "expires": str(expires_at),
            "max_size": None if max_size is None else str(max_size),
            "content_type": content_type,
            "filename": filename,
        }
        query = [(name, values[name]) for name in _PARAMS if values[name] is not None]
        query.append(("signature", self._signature(method, key, grant)))
        return (
            f"{self.base_url}{OBJECTS_PATH}{quote(key, safe='/')}"
            f"?{urlencode(query, quote_via=quote)}"
        )

    def verify(
        self, method: str, key: str, params: Mapping[str, str], *, now: float | None = None
    ) -> SignedGrant:
        """The grant carried by a URL's query `params`; raises Forbidden if altered or expired."""
        signature = params.get("signature")
        expires_at = _canonical_int(params.get("expires"))
        if not signature or expires_at is None:
            raise Forbidden("invalid signature")
        grant = SignedGrant(
            expires_at=expires_at,
            max_size=_canonical_int(params.get("max_size")),
            content_type=params.get("content_type"),
            filename=params.get("filename"),
        )
        expected = self._signature(method, key, grant)
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            raise Forbidden("invalid signature")
        if (time.time() if now is None else now) >= expires_at:
            raise Forbidden("this link has expired")
        return grant


def attachment_disposition(filename: str) -> str:
    """A `Content-Disposition: attachment` value (RFC 6266) with an ASCII fallback name."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1] or "download"
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"%;' else "_" for c in base
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(base, safe='')}"
