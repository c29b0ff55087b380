"""Signed, short-lived download links to generated files, and who they were handed to.

A link is `{public_url}/api/exports/{job}/download?expires=...&actor=...&signature=...`: it grants
one job's file until `expires` (unix seconds, UTC) and names the actor it was granted to, so the
download is audited under that actor. The HMAC-SHA256 key is derived from the token-signing secret
with HKDF under its own label, so these signatures are useless as object-store links or tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ortholens.audit.service import Actor
from ortholens.kit.errors import Forbidden
from ortholens.models import ActorType

LINK_INFO = b"ortholens-export-link-v1"
DOWNLOAD_PATH = "/api/exports/{job_id}/download"


@dataclass(frozen=True)
class LinkGrant:
    """What a verified link allows: job `job_id`'s file, until `expires_at` (unix seconds)."""

    job_id: uuid.UUID
    expires_at: int
    actor: Actor


def _actor_param(actor: Actor) -> str:
    return f"{actor.type.value}:{actor.id}" if actor.id else actor.type.value


def _parse_actor(value: str) -> Actor:
    kind, _, ident = value.partition(":")
    try:
        return Actor(ActorType(kind), uuid.UUID(ident) if ident else None)
    except ValueError:
        raise Forbidden("invalid signature") from None


class LinkSigner:
    """Signs and verifies download links to generated files."""

    def __init__(self, secret: bytes, base_url: str) -> None:
        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=LINK_INFO).derive(
            secret
        )
        self.base_url = base_url.rstrip("/")

    def _signature(self, job_id: uuid.UUID, expires_at: int, actor: str) -> str:
        message = json.dumps(
            [LINK_INFO.decode(), str(job_id), expires_at, actor], separators=(",", ":")
        ).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign(self, job_id: uuid.UUID, actor: Actor, *, expires_at: int) -> str:
        """An absolute URL that downloads job `job_id`'s file until `expires_at`, as `actor`."""
        who = _actor_param(actor)
        query = {
            "expires": str(expires_at),
            "actor": who,
            "signature": self._signature(job_id, expires_at, who),
        }
        path = DOWNLOAD_PATH.format(job_id=job_id)
        return f"{self.base_url}{path}?{urlencode(query, quote_via=quote)}"

    def verify(
        self, job_id: uuid.UUID, params: Mapping[str, str], *, now: float | None = None
    ) -> LinkGrant:
        """The grant a link's query `params` carry; raises Forbidden if altered or expired."""
        signature, expires, who = (params.get(n) for n in ("signature", "expires", "actor"))
        if not signature or not expires or not who or not expires.isascii():
            raise Forbidden("invalid signature")
        if not expires.isdigit() or str(int(expires)) != expires:
            raise Forbidden("invalid signature")
        expected = self._signature(job_id, int(expires), who)
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            raise Forbidden("invalid signature")
        if (time.time() if now is None else now) >= int(expires):
            raise Forbidden("this link has expired")
        return LinkGrant(job_id, int(expires), _parse_actor(who))


@dataclass(frozen=True)
class DownloadPolicy:
    """How generated files are handed out: the link signer, how long a link lives (seconds) and
    how long a file is kept after its job finished."""

    signer: LinkSigner
    link_seconds: int
    retention: timedelta


def download_policy(
    secret: bytes, *, public_url: str, link_seconds: int, retention_hours: int
) -> DownloadPolicy:
    """The policy for this deployment's secret and settings."""
    return DownloadPolicy(
        signer=LinkSigner(secret, public_url),
        link_seconds=link_seconds,
        retention=timedelta(hours=retention_hours),
    )
