"""A clinic's iTero connection (seed 001): connecting it, keeping its tokens sealed, and using it.

    start_auth(...)           -> where to send the admin, and the sealed state cookie to set
    finish_auth(...)          -> the clinic's `ScannerIntegration`, connected (tokens sealed)
    client_in_request(...)    an `IteroClient` whose refreshed tokens are saved by the request
    client_apart(...)         an `IteroClient` whose refreshed tokens are saved at once (jobs)
    imported_refs(db, clinic) the iTero file ids this clinic already holds (a sync skips them)

The OAuth state and the PKCE verifier never travel through iTero or the browser's address bar: they
sit in a short-lived httpOnly cookie sealed with the storage key (AES-GCM) and bound to the user who
started, so a callback opened by anyone else, or after 10 minutes, is refused.

iTero rotates refresh tokens: once a refresh answers, the old refresh token is dead. The new grant is
therefore written even when the work that triggered the refresh fails: a job writes it in its own
transaction; a request writes it in its transaction and again in a fresh one if that rolls back
(on SQLite the request's transaction holds the write lock, so a second writer would only wait).
Two processes refreshing one clinic's grant at the same moment would spend the same refresh token
twice, which iTero answers by revoking the grant; a clinic's sync jobs are therefore never run side
by side (see `itero_endpoints`).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.image import repository as image_repository
from ortholens.intraoral import itero_repository
from ortholens.kit.crypto import SealBroken, seal, unseal
from ortholens.kit.db import defer_on_rollback, transaction, utcnow
from ortholens.kit.errors import Conflict, InvalidInput, ServiceUnavailable
from ortholens.kit.resources import Resources
from ortholens.models import ImageSource, ScannerIntegration
from ortholens.scanners.itero import (
    IteroAuthError,
    IteroClient,
    IteroConfig,
    IteroError,
    IteroTokens,
    authorization_url,
    callback_code,
    exchange_code,
    new_pkce_pair,
)
from ortholens.settings import Settings

log = structlog.get_logger(__name__)

SCANNER_TYPE = "ITERO"
AUTH_PATH = "/api/imaging/3d/itero/auth"
STATE_COOKIE = "ol_itero_auth"
STATE_TTL = timedelta(minutes=10)
RECONNECT = "The iTero connection no longer works; an admin must reconnect iTero."
NOT_CONNECTED = "iTero is not connected for this clinic; an admin can connect it first."
_RESTART = "This iTero sign-in was not started here or took too long; start connecting again."


def itero_config(settings: Settings) -> IteroConfig:
    """How this server is registered with iTero; 503 when it is not registered at all."""
    if not settings.itero_client_id or settings.itero_client_secret is None:
        raise ServiceUnavailable(
            "iTero is not set up on this server (ORTHOLENS_ITERO_CLIENT_ID and _SECRET)."
        )
    return IteroConfig(
        client_id=settings.itero_client_id,
        client_secret=settings.itero_client_secret.get_secret_value(),
        base_url=settings.itero_base_url,
        redirect_uri=settings.public_url.rstrip("/") + AUTH_PATH,
    )


# ---- Sealing ---------------------------------------------------------------------------------------


def _credentials_context(clinic_id: uuid.UUID) -> bytes:
    # Bound to the clinic and vendor: credentials copied to another clinic's row do not open.
    return f"scanner_integration:{clinic_id}:{SCANNER_TYPE}".encode()


def seal_tokens(key: bytes, clinic_id: uuid.UUID, tokens: IteroTokens) -> str:
    return seal(key, tokens.to_json().encode(), context=_credentials_context(clinic_id))


def open_tokens(key: bytes, integration: ScannerIntegration) -> IteroTokens:
    """The integration's tokens; unreadable credentials ask for a reconnect."""
    return open_sealed_tokens(key, integration.clinic_id, integration.credentials)


def open_sealed_tokens(key: bytes, clinic_id: uuid.UUID, sealed: str | None) -> IteroTokens:
    if not sealed:
        raise Conflict(NOT_CONNECTED)
    try:
        text = unseal(key, sealed, context=_credentials_context(clinic_id))
    except SealBroken:
        raise IteroAuthError(RECONNECT) from None
    return IteroTokens.from_json(text)


def _state_context(user_id: uuid.UUID) -> bytes:
    return f"itero-auth:{user_id}".encode()


# ---- Connecting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthStart:
    """Where to send the admin, and the sealed state to keep in `STATE_COOKIE` meanwhile."""

    redirect_url: str
    cookie: str
    max_age: int  # seconds


def start_auth(
    settings: Settings,
    key: bytes,
    *,
    clinic_id: uuid.UUID,
    user_id: uuid.UUID,
    now: datetime | None = None,
) -> AuthStart:
    """Begin connecting `clinic_id`'s iTero account (authorization code grant with PKCE)."""
    config = itero_config(settings)
    verifier, challenge = new_pkce_pair()
    state = secrets.token_urlsafe(32)
    expires = (now or datetime.now(UTC)) + STATE_TTL
    payload = {
        "state": state,
        "verifier": verifier,
        "clinic": str(clinic_id),
        "exp": int(expires.timestamp()),
    }
    cookie = seal(key, json.dumps(payload).encode(), context=_state_context(user_id))
    return AuthStart(
        authorization_url(config, state, challenge), cookie, int(STATE_TTL.total_seconds())
    )


@dataclass(frozen=True)
class _Started:
    state: str
    verifier: str
    clinic_id: uuid.UUID


def _open_state(key: bytes, cookie: str | None, user_id: uuid.UUID, now: datetime) -> _Started:
    if not cookie:
        raise InvalidInput(_RESTART)
    try:
        payload = json.loads(unseal(key, cookie, context=_state_context(user_id)))
        started = _Started(
            str(payload["state"]), str(payload["verifier"]), uuid.UUID(payload["clinic"])
        )
        expires = int(payload["exp"])
    except (SealBroken, ValueError, KeyError, TypeError):
        raise InvalidInput(_RESTART) from None
    if now.timestamp() > expires:
        raise InvalidInput(_RESTART)
    return started


def finish_auth(
    db: Session,
    settings: Settings,
    key: bytes,
    *,
    query: Mapping[str, str],
    cookie: str | None,
    actor: audit.Actor,
    user_id: uuid.UUID,
    clinic_scope: uuid.UUID | None,
    now: datetime | None = None,
) -> ScannerIntegration:
    """Check iTero's redirect against the started sign-in, exchange the code (blocking HTTP) and
    store the clinic's connection. `clinic_scope` is the caller's clinic (None: super admin)."""
    started = _open_state(key, cookie, user_id, now or datetime.now(UTC))
    if clinic_scope is not None and clinic_scope != started.clinic_id:
        raise InvalidInput(_RESTART)
    try:
        code = callback_code(query, expected_state=started.state)
    except IteroAuthError:
        raise  # access_denied: 409, the admin declined
    except IteroError as exc:
        # Any other error iTero sends back is about this sign-in attempt, not a broken service.
        raise InvalidInput(exc.detail) from None
    tokens = exchange_code(itero_config(settings), code, started.verifier)
    integration = find_integration(db, started.clinic_id)
    if integration is None:
        integration = ScannerIntegration(clinic_id=started.clinic_id, scanner_type=SCANNER_TYPE)
        db.add(integration)
    integration.credentials = seal_tokens(key, started.clinic_id, tokens)
    integration.is_active = True
    integration.connected_by_id = user_id
    db.flush()
    audit.record(
        db,
        actor,
        "scanner_integration.connect",
        clinic_id=started.clinic_id,
        target_type="scanner_integration",
        target_id=integration.id,
        details={"scanner_type": SCANNER_TYPE},
    )
    log.info("itero.connected", clinic_id=str(started.clinic_id))
    return integration


# ---- Using the connection --------------------------------------------------------------------------


def find_integration(db: Session, clinic_id: uuid.UUID) -> ScannerIntegration | None:
    return itero_repository.integration_of(db, clinic_id, SCANNER_TYPE)


def require_integration(db: Session, clinic_id: uuid.UUID) -> ScannerIntegration:
    """The clinic's working iTero connection; 409 when there is none or it needs a reconnect."""
    integration = find_integration(db, clinic_id)
    if integration is None or not integration.credentials:
        raise Conflict(NOT_CONNECTED)
    if not integration.is_active:
        raise IteroAuthError(RECONNECT)
    return integration


def _write_credentials(db: Session, integration_id: uuid.UUID, sealed: str) -> None:
    row = itero_repository.get_integration(db, integration_id)
    if row is not None:
        row.credentials = sealed


def _deactivate(db: Session, integration_id: uuid.UUID) -> None:
    row = itero_repository.get_integration(db, integration_id)
    if row is not None:
        row.is_active = False


def client_in_request(
    db: Session, runtime: Resources, integration: ScannerIntegration
) -> IteroClient:
    """A client for a request: refreshed tokens go into the request's transaction, and into a fresh
    one should the request fail (the old refresh token is dead either way)."""
    key = runtime.secrets.storage_encryption_key
    latest: list[str] = []

    def save(tokens: IteroTokens) -> None:
        sealed = seal_tokens(key, integration.clinic_id, tokens)
        integration.credentials = sealed
        db.flush()
        if not latest:
            defer_on_rollback(
                db, lambda after: _write_credentials(after, integration.id, latest[-1])
            )
        latest.append(sealed)

    return IteroClient(itero_config(runtime.settings), open_tokens(key, integration), save)


def client_apart(
    runtime: Resources, integration_id: uuid.UUID, clinic_id: uuid.UUID, tokens: IteroTokens
) -> IteroClient:
    """A client for a job that holds no transaction: each refresh is committed at once."""
    key = runtime.secrets.storage_encryption_key

    def save(renewed: IteroTokens) -> None:
        sealed = seal_tokens(key, clinic_id, renewed)
        with transaction(runtime.session_factory) as db:
            _write_credentials(db, integration_id, sealed)

    return IteroClient(itero_config(runtime.settings), tokens, save)


@contextmanager
def reconnect_on_auth_error(deactivate: Callable[[], None]) -> Iterator[None]:
    """Turn iTero refusing the grant into `is_active = False` (via `deactivate`) and a 409."""
    try:
        yield
    except IteroAuthError:
        deactivate()
        log.warning("itero.connection_lost")
        raise IteroAuthError(RECONNECT) from None


def deactivate_in_request(db: Session, integration_id: uuid.UUID) -> Callable[[], None]:
    """For `reconnect_on_auth_error` in a request: written after the request's rollback."""
    return lambda: defer_on_rollback(db, lambda after: _deactivate(after, integration_id))


def deactivate_apart(runtime: Resources, integration_id: uuid.UUID) -> Callable[[], None]:
    """For `reconnect_on_auth_error` in a job: written at once in its own transaction."""

    def write() -> None:
        with transaction(runtime.session_factory) as db:
            _deactivate(db, integration_id)

    return write


def mark_synced(runtime: Resources, integration_id: uuid.UUID) -> None:
    with transaction(runtime.session_factory) as db:
        row = itero_repository.get_integration(db, integration_id)
        if row is not None:
            row.last_sync_at = utcnow()


def imported_refs(db: Session, clinic_id: uuid.UUID) -> set[str]:
    """iTero file ids this clinic holds as a (not deleted) scan or a pending-queue row.

    A discarded pending row counts: someone decided that file does not belong here.
    """
    images = image_repository.live_external_refs(db, clinic_id, ImageSource.ITERO)
    pending = itero_repository.pending_external_refs(db, clinic_id, ImageSource.ITERO.value)
    return images | pending
