"""Forged, altered, expired and misused tokens are refused with one and the same 401."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient

from ortholens.auth.tokens import TokenSigner, TokenType, derive_jwt_key
from ortholens.kit.db import utcnow
from ortholens.kit.errors import Unauthorized
from ortholens.models import Role
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_user, sign_in


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def valid_token(client: TestClient, runtime: Runtime) -> str:
    user = create_user(runtime, create_clinic(runtime), Role.DOCTOR)
    token = sign_in(client, user)["Authorization"].removeprefix("Bearer ")
    client.cookies.clear()
    return token


def me(client: TestClient, token: str) -> int:
    return client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_valid_token_is_accepted(client: TestClient, valid_token: str) -> None:
    assert me(client, valid_token) == 200


def test_alg_none_is_refused(client: TestClient, valid_token: str) -> None:
    claims = jwt.decode(valid_token, options={"verify_signature": False})
    forged = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    assert me(client, forged) == 401


def test_wrong_signature_is_refused(client: TestClient, valid_token: str) -> None:
    claims = jwt.decode(valid_token, options={"verify_signature": False})
    forged = jwt.encode(claims, b"not-our-key-but-long-enough-for-hs256!!", algorithm="HS256")
    assert me(client, forged) == 401


@pytest.mark.filterwarnings("ignore:The HMAC key:UserWarning")  # the forger's weak choice
def test_other_algorithm_with_our_key_is_refused(
    client: TestClient, runtime: Runtime, valid_token: str
) -> None:
    claims = jwt.decode(valid_token, options={"verify_signature": False})
    key = derive_jwt_key(runtime.secrets.token_signing_key)
    assert me(client, jwt.encode(claims, key, algorithm="HS512")) == 401


def test_tampered_payload_is_refused(client: TestClient, valid_token: str) -> None:
    header, payload, signature = valid_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(uuid.uuid4())
    assert me(client, f"{header}.{b64(claims)}.{signature}") == 401


def test_expired_token_is_refused(client: TestClient, runtime: Runtime, valid_token: str) -> None:
    claims = jwt.decode(valid_token, options={"verify_signature": False})
    key = derive_jwt_key(runtime.secrets.token_signing_key)
    claims["exp"] = int((utcnow() - timedelta(seconds=5)).timestamp())
    assert me(client, jwt.encode(claims, key, algorithm="HS256")) == 401


@pytest.mark.parametrize("token_type", ["refresh", "patient", "invite", "mfa"])
def test_a_token_of_another_type_is_refused(
    client: TestClient, runtime: Runtime, valid_token: str, token_type: str
) -> None:
    claims = jwt.decode(valid_token, options={"verify_signature": False})
    claims["type"] = token_type
    key = derive_jwt_key(runtime.secrets.token_signing_key)
    assert me(client, jwt.encode(claims, key, algorithm="HS256")) == 401


@pytest.mark.parametrize("missing", ["exp", "sub", "type", "jti", "iss"])
def test_a_token_missing_a_claim_is_refused(missing: str) -> None:
    signer = TokenSigner(b"k" * 32)
    token, _ = signer.issue(TokenType.STAFF, uuid.uuid4(), now=utcnow(), ttl=timedelta(hours=1))
    claims = jwt.decode(token, options={"verify_signature": False})
    del claims[missing]
    forged = jwt.encode(claims, derive_jwt_key(b"k" * 32), algorithm="HS256")
    with pytest.raises(Unauthorized):
        signer.decode(forged, TokenType.STAFF)


def test_garbage_and_empty_bearer_are_refused(client: TestClient) -> None:
    assert me(client, "not.a.jwt") == 401
    assert client.get("/api/auth/me", headers={"Authorization": "Bearer "}).status_code == 401
    assert client.get("/api/auth/me", headers={"Authorization": "Basic abc"}).status_code == 401
