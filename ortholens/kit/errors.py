"""The one error hierarchy. Domain code raises these; `ortholens.http.problems` renders them as
RFC 9457 `application/problem+json`.

    OrthoLensError (500)
    ├── InvalidInput (422)        bad data a user can fix; message says how
    │   ├── PayloadTooLarge (413)
    │   └── DecoderFailed (422)   a decoder crashed, hung or ran out of memory on this file
    ├── Unauthorized (401)
    ├── Forbidden (403)
    ├── NotFound (404)            also for another clinic's ids, with the same body
    ├── Conflict (409)
    ├── TooManyRequests (429)
    ├── ServiceUnavailable (503)
    └── ConfigurationError (500)  raised at start-up, never to a client
"""

from __future__ import annotations

from typing import Any, ClassVar


class OrthoLensError(Exception):
    """Base class: a status code, a stable type slug, a human title and a safe detail."""

    status_code: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        # Extra members of the problem document; must never carry PHI or secrets.
        self.extra = extra

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (isolated decoders); keep the detail and the extras.
        return (_rebuild_error, (type(self), self.detail, self.extra))


def _rebuild_error(cls: type[OrthoLensError], detail: str, extra: dict[str, Any]) -> OrthoLensError:
    return cls(detail, **extra)


class InvalidInput(OrthoLensError):
    status_code = 422
    slug = "invalid-input"
    title = "Invalid input"


class PayloadTooLarge(InvalidInput):
    status_code = 413
    slug = "payload-too-large"
    title = "Payload too large"


class DecoderFailed(InvalidInput):
    """The decoder of an untrusted file crashed, hung or ran out of memory.

    A property of the file, not of the moment: retrying the same bytes fails the same way, so job
    wrappers treat it like any other invalid input and fail at once. `extra["cause"]` says which
    limit was hit: `crashed`, `timeout` or `memory`.
    """

    slug = "decoder-failed"
    title = "The file could not be decoded"


class Unauthorized(OrthoLensError):
    status_code = 401
    slug = "unauthorized"
    title = "Authentication required"


class Forbidden(OrthoLensError):
    status_code = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(OrthoLensError):
    status_code = 404
    slug = "not-found"
    title = "Not found"


class Conflict(OrthoLensError):
    status_code = 409
    slug = "conflict"
    title = "Conflict"


class TooManyRequests(OrthoLensError):
    status_code = 429
    slug = "too-many-requests"
    title = "Too many requests"


class ServiceUnavailable(OrthoLensError):
    status_code = 503
    slug = "service-unavailable"
    title = "Service unavailable"


class ConfigurationError(OrthoLensError):
    slug = "configuration-error"
    title = "Configuration error"
