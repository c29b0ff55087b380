"""The OAuth 2.0 authorization-code grant with iTero (RFC 6749 section 4.1, PKCE per RFC 7636).

    authorization_url(config, state, challenge) -> send the admin's browser there
    callback_code(query, expected_state)        -> the code from the redirect back to OrthoLens
    exchange_code(config, code, verifier)       -> IteroTokens (1-hour access token + refresh token)
    refresh(config, tokens)                     -> IteroTokens with the rotated refresh token

The client authenticates with HTTP Basic (section 2.3.1: id and secret form-encoded first). A
refused refresh (`invalid_grant`: revoked, expired or already used) means the clinic has to connect
again, which `IteroAuthError` says.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus

import httpx

from ortholens.kit.errors import InvalidInput
from ortholens.scanners.itero.errors import IteroAuthError, IteroError
from ortholens.scanners.itero.schemas import IteroConfig, IteroTokens, TokenResponse
from ortholens.scanners.itero.transport import (
    RetryPolicy,
    Sleep,
    oauth_error_code,
    parse_json,
    safe_error_code,
    send_with_retry,
    vendor_error,
)

AUTHORIZE_PATH = "/oauth/authorize"
TOKEN_PATH = "/oauth/token"  # noqa: S105 (a URL path, not a secret)

RECONNECT = "reconnect iTero in the clinic's integration settings"


def new_pkce_pair() -> tuple[str, str]:
    """A fresh PKCE `(code_verifier, code_challenge)` pair for the S256 method (RFC 7636 4.1-4.2)."""
    verifier = secrets.token_urlsafe(64)  # 86 characters of the unreserved set
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def authorization_url(config: IteroConfig, state: str, code_challenge: str | None = None) -> str:
    """Where to send the admin's browser to grant OrthoLens access to the clinic's iTero account.

    `state` must be unguessable and remembered server-side (it ties the callback to this session);
    pass the S256 `code_challenge` of `new_pkce_pair()` and keep its verifier for `exchange_code`.
    """
    if not state:
        raise ValueError("state must be a non-empty, unguessable value")
    params = {
        "response_type": "code",
        "client_id": config.client_id,
        "redirect_uri": config.redirect_uri,
        "scope": config.scope,
        "state": state,
    }
    if code_challenge is not None:
        params["code_challenge"] = code_challenge
        params["code_challenge_method"] = "S256"
    return str(httpx.URL(config.base_url + AUTHORIZE_PATH, params=params))


def callback_code(query: Mapping[str, str], expected_state: str) -> str:
    """The authorization code from iTero's redirect to `redirect_uri`, after checking `state`."""
    state = query.get("state", "")
    if not expected_state or not secrets.compare_digest(
        state.encode("utf-8"), expected_state.encode("utf-8")
    ):
        raise InvalidInput("This iTero sign-in does not match the one started here; start again.")
    error = query.get("error")
    if error == "access_denied":
        raise IteroAuthError("Access to iTero was not granted; connect again and allow access.")
    if error:
        raise IteroError(f"iTero refused the connection ({safe_error_code(error) or 'unknown'}).")
    auth_code = query.get("code", "")
    if not auth_code:
        raise InvalidInput("The iTero sign-in came back without an authorization code.")
    return auth_code


def exchange_code(
    config: IteroConfig,
    code: str,
    code_verifier: str | None = None,
    *,
    http: httpx.Client | None = None,
    sleep: Sleep = time.sleep,
) -> IteroTokens:
    """Tokens for an authorization code (single use); the region is not known yet."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": config.redirect_uri}
    if code_verifier is not None:
        form["code_verifier"] = code_verifier
    answer = _token_request(config, form, http, sleep, what="connecting iTero")
    if not answer.refresh_token:
        raise IteroError("iTero granted no refresh token; check that offline access is allowed.")
    return IteroTokens(
        access_token=answer.access_token,
        refresh_token=answer.refresh_token,
        expires_at=_expiry(answer),
    )


def refresh(
    config: IteroConfig,
    tokens: IteroTokens,
    *,
    http: httpx.Client | None = None,
    sleep: Sleep = time.sleep,
) -> IteroTokens:
    """New tokens for `tokens.refresh_token`; the old refresh token must not be used again."""
    form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
    answer = _token_request(config, form, http, sleep, what="renewing iTero access")
    return IteroTokens(
        access_token=answer.access_token,
        # Servers that do not rotate refresh tokens omit the member (RFC 6749 section 6).
        refresh_token=answer.refresh_token or tokens.refresh_token,
        expires_at=_expiry(answer),
        region_base_url=tokens.region_base_url,
    )


def _token_request(
    config: IteroConfig,
    form: dict[str, str],
    http: httpx.Client | None,
    sleep: Sleep,
    *,
    what: str,
) -> TokenResponse:
    basic = f"{quote_plus(config.client_id)}:{quote_plus(config.client_secret)}"
    headers = {
        "Authorization": "Basic " + base64.b64encode(basic.encode("utf-8")).decode("ascii"),
        "Accept": "application/json",
    }
    owned = http is None
    client = http or httpx.Client(timeout=config.timeout)
    try:
        request = client.build_request(
            "POST", config.base_url + TOKEN_PATH, data=form, headers=headers
        )
        response = send_with_retry(
            client, request, policy=RetryPolicy.for_token(config), sleep=sleep, what=what
        )
        if response.status_code == 200:
            answer = parse_json(TokenResponse, response, what)
            if answer.token_type.lower() != "bearer":
                raise IteroError(f"iTero issued a token type OrthoLens cannot use while {what}.")
            return answer
        code = oauth_error_code(response)
        if code == "invalid_grant":
            raise IteroAuthError(f"iTero no longer accepts this connection; {RECONNECT}.")
        if code == "invalid_client" or response.status_code == 401:
            raise IteroError("iTero refused OrthoLens's client id or secret; check the settings.")
        raise vendor_error(response, what)
    finally:
        if owned:
            client.close()


def _expiry(answer: TokenResponse) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=answer.expires_in)
