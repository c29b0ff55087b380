"""Sending one request to iTero with bounded retries, and turning refusals into safe errors.

Retries cover what a later attempt can fix: 429 (waiting as long as `Retry-After` asks, up to a
cap), 5xx and network failures, with exponential backoff otherwise. Token requests retry only when
the server cannot have acted on them (429, 503, connection never made): an authorization code and a
rotating refresh token are single-use, so re-sending a request that may have succeeded would burn
them. Log lines carry the status, attempt and URL path, never queries, bodies or headers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx
import structlog
from pydantic import BaseModel, ValidationError

from ortholens.scanners.itero.errors import IteroError
from ortholens.scanners.itero.schemas import IteroConfig

log = structlog.get_logger(__name__)

Sleep = Callable[[float], None]
ModelT = TypeVar("ModelT", bound=BaseModel)

API_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
TOKEN_RETRY_STATUSES = frozenset({429, 503})
API_RETRY_ERRORS: tuple[type[httpx.TransportError], ...] = (httpx.TransportError,)
TOKEN_RETRY_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
)

# An OAuth error code (RFC 6749 section 5.2) is a short token; anything else is not repeated.
_ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")


@dataclass(frozen=True)
class RetryPolicy:
    """Which answers are worth another attempt, and how long to wait in between."""

    max_attempts: int
    backoff_seconds: float
    max_retry_after_seconds: float
    statuses: frozenset[int]
    errors: tuple[type[httpx.TransportError], ...]

    @classmethod
    def for_api(cls, config: IteroConfig) -> RetryPolicy:
        """Idempotent reads: retry 429, 5xx and any network error."""
        return cls(
            config.max_attempts,
            config.backoff_seconds,
            config.max_retry_after_seconds,
            API_RETRY_STATUSES,
            API_RETRY_ERRORS,
        )

    @classmethod
    def for_token(cls, config: IteroConfig) -> RetryPolicy:
        """Single-use grants: retry only answers that prove nothing was consumed."""
        return cls(
            config.max_attempts,
            config.backoff_seconds,
            config.max_retry_after_seconds,
            TOKEN_RETRY_STATUSES,
            TOKEN_RETRY_ERRORS,
        )


def send_with_retry(
    http: httpx.Client,
    request: httpx.Request,
    *,
    policy: RetryPolicy,
    sleep: Sleep,
    what: str,
    stream: bool = False,
) -> httpx.Response:
    """The first answer that is not worth retrying, or the last one when attempts run out.

    `what` completes "... while {what}" in error messages ("listing scans"). Raises `IteroError`
    when iTero cannot be reached, or asks to wait longer than the policy's cap.
    """
    path = request.url.path
    for attempt in range(1, policy.max_attempts + 1):
        try:
            response = http.send(request, stream=stream)
        except policy.errors as exc:
            if attempt == policy.max_attempts:
                raise IteroError(f"iTero could not be reached while {what}.") from exc
            delay = policy.backoff_seconds * 2 ** (attempt - 1)
            log.warning(
                "itero.retry", error=type(exc).__name__, attempt=attempt, delay_s=delay, path=path
            )
            sleep(delay)
            continue
        except httpx.TransportError as exc:
            raise IteroError(f"iTero could not be reached while {what}.") from exc
        if response.status_code not in policy.statuses or attempt == policy.max_attempts:
            return response
        response.close()
        asked = retry_after_seconds(response)
        if asked is not None and asked > policy.max_retry_after_seconds:
            raise IteroError(
                f"iTero asked OrthoLens to wait {round(asked)} s while {what}; try again later.",
                retry_after_seconds=round(asked),
            )
        delay = asked if asked is not None else policy.backoff_seconds * 2 ** (attempt - 1)
        log.warning(
            "itero.retry", status=response.status_code, attempt=attempt, delay_s=delay, path=path
        )
        sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises on its last attempt")


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The wait a `Retry-After` header asks for (delta-seconds or HTTP-date), or None."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(seconds, 0.0)


def oauth_error_code(response: httpx.Response) -> str | None:
    """The `error` member of an OAuth or API error body, when it is a plain code."""
    try:
        body = response.json()
    except (ValueError, httpx.StreamError):  # not JSON, or a download whose body was not read
        return None
    return safe_error_code(body.get("error") if isinstance(body, dict) else None)


def safe_error_code(value: object) -> str | None:
    """`value` when it is a plain OAuth error code, fit to repeat in a message; else None."""
    return value if isinstance(value, str) and _ERROR_CODE.match(value) else None


def vendor_error(response: httpx.Response, what: str) -> IteroError:
    """A safe `IteroError` for an answer that is not a success: status and error code only."""
    status = response.status_code
    if status == 429:
        return IteroError(
            f"iTero is limiting OrthoLens's requests while {what}; try again later.",
            vendor_status=status,
        )
    if status >= 500:
        return IteroError(
            f"iTero had a server error ({status}) while {what}; try again later.",
            vendor_status=status,
        )
    if status == 404:
        return IteroError(f"iTero did not find what OrthoLens asked for while {what}.")
    code = oauth_error_code(response)
    suffix = f", {code}" if code else ""
    return IteroError(f"iTero refused the request ({status}{suffix}) while {what}.")


def parse_json(model: type[ModelT], response: httpx.Response, what: str) -> ModelT:
    """The response body validated as `model`; the vendor's data never reaches the message."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        # `from None`: pydantic's message quotes the input, which may be PHI or a token.
        raise IteroError(
            f"iTero sent an answer OrthoLens does not understand while {what}."
        ) from None
