"""Sign-in throttling per account and per client address, shared by all replicas (database).

An account key is a keyed hash of the e-mail, so unknown and known accounts are throttled alike and
no e-mail address is stored. Failures are counted through `defer_on_rollback` because the request
that fails is rolled back.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ortholens.auth import repository
from ortholens.kit.db import defer_on_rollback, utcnow
from ortholens.kit.errors import TooManyRequests
from ortholens.kit.passwords import hash_password, verify_password
from ortholens.kit.request_context import current_request
from ortholens.models import RateLimitBucket


@dataclass(frozen=True)
class Limit:
    failures: int
    window: timedelta
    block: timedelta


ACCOUNT_LIMIT = Limit(failures=5, window=timedelta(minutes=15), block=timedelta(minutes=15))
ADDRESS_LIMIT = Limit(failures=30, window=timedelta(minutes=15), block=timedelta(minutes=15))


def account_key(secret: bytes, realm: str, email: str) -> str:
    digest = hmac.new(secret, email.strip().lower().encode(), hashlib.sha256).hexdigest()
    return f"{realm}:acct:{digest[:40]}"


def address_key(realm: str, ip: str | None) -> str | None:
    return f"{realm}:ip:{ip}" if ip else None


def check(session: Session, keys: list[str], now: datetime) -> None:
    """Refuse (429) while any key is blocked; the message is the same for every account."""
    for key in keys:
        bucket = repository.get_bucket(session, key)
        if bucket and bucket.blocked_until and bucket.blocked_until > now:
            minutes = max(1, int((bucket.blocked_until - now).total_seconds() // 60) + 1)
            raise TooManyRequests(
                f"Too many sign-in attempts. Try again in {minutes} minutes.",
                retry_after_seconds=int((bucket.blocked_until - now).total_seconds()) + 1,
            )


def _count_failure(session: Session, key: str, limit: Limit, now: datetime) -> None:
    bucket = repository.get_bucket(session, key)
    if bucket is None or bucket.window_started_at + limit.window <= now:
        if bucket is None:
            bucket = RateLimitBucket(key=key, window_started_at=now, failures=0)
            session.add(bucket)
        bucket.window_started_at, bucket.failures, bucket.blocked_until = now, 0, None
    bucket.failures += 1
    if bucket.failures >= limit.failures:
        bucket.blocked_until = now + limit.block
    session.flush()


def record_failure(session: Session, keyed_limits: list[tuple[str, Limit]], now: datetime) -> None:
    """Count a failed attempt against each key, after the failing request rolls back."""

    def write(after: Session) -> None:
        for key, limit in keyed_limits:
            _count_failure(after, key, limit, now)

    defer_on_rollback(session, write)


def reset(session: Session, key: str) -> None:
    """A successful sign-in clears the account's failures."""
    bucket = repository.get_bucket(session, key)
    if bucket is not None:
        repository.delete_bucket(session, bucket)


# Checked when the account does not exist, so that "unknown" and "wrong" take as long.
_DUMMY_HASH = hash_password("ortholens-timing-equaliser")


@dataclass
class SignInAttempt:
    """One password sign-in, throttled per account (`realm` keeps staff and patients apart) and
    per client address.

        attempt = SignInAttempt.begin(session, secret, "staff", email)   # 429 while blocked
        if not attempt.password_matches(stored_hash, password): attempt.failed(session); raise ...
        attempt.succeeded(session)
    """

    account: str
    address: str | None
    now: datetime = field(default_factory=utcnow)

    @classmethod
    def begin(cls, session: Session, secret: bytes, realm: str, email: str) -> SignInAttempt:
        attempt = cls(account_key(secret, realm, email), address_key(realm, current_request().ip))
        check(
            session, [attempt.account, *([attempt.address] if attempt.address else [])], attempt.now
        )
        return attempt

    @staticmethod
    def password_matches(stored_hash: str | None, password: str) -> bool:
        """Verify against the stored hash, or against a dummy one when there is none."""
        ok = verify_password(stored_hash or _DUMMY_HASH, password)
        return ok and stored_hash is not None

    def failed(self, session: Session) -> None:
        limits = [(self.account, ACCOUNT_LIMIT)]
        if self.address:
            limits.append((self.address, ADDRESS_LIMIT))
        record_failure(session, limits, self.now)

    def succeeded(self, session: Session) -> None:
        reset(session, self.account)
