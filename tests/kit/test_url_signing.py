"""Signed URLs: valid links pass, and any change to method, key, limits or time is refused."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from ortholens.kit.errors import Forbidden
from ortholens.kit.storage.signing import SignedGrant, UrlSigner, attachment_disposition

SECRET = b"s" * 48
KEY = "clinic/patient/photo/0b5f/original.jpg"
NOW = 1_800_000_000


@pytest.fixture
def signer() -> UrlSigner:
    return UrlSigner(SECRET, "https://ortholens.example/")


def split(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path, dict(parse_qsl(parts.query))


def upload_params(signer: UrlSigner) -> dict[str, str]:
    url = signer.sign(
        "PUT",
        KEY,
        expires_at=NOW + 60,
        max_size=1000,
        content_type="image/jpeg",
        filename="a b.jpg",
    )
    return split(url)[1]


def test_valid_url_returns_its_grant(signer: UrlSigner) -> None:
    url = signer.sign(
        "PUT",
        KEY,
        expires_at=NOW + 60,
        max_size=1000,
        content_type="image/jpeg",
        filename="a b.jpg",
    )
    path, params = split(url)
    assert url.startswith("https://ortholens.example/api/storage/objects/")
    assert path == f"/api/storage/objects/{KEY}"
    assert signer.verify("PUT", KEY, params, now=NOW) == SignedGrant(
        expires_at=NOW + 60, max_size=1000, content_type="image/jpeg", filename="a b.jpg"
    )


def test_absent_parameters_are_omitted(signer: UrlSigner) -> None:
    _, params = split(signer.sign("GET", KEY, expires_at=NOW + 60))
    assert set(params) == {"expires", "signature"}
    assert signer.verify("GET", KEY, params, now=NOW) == SignedGrant(expires_at=NOW + 60)


def test_expired_url_is_refused(signer: UrlSigner) -> None:
    params = upload_params(signer)
    with pytest.raises(Forbidden, match="this link has expired"):
        signer.verify("PUT", KEY, params, now=NOW + 60)


def test_other_key_is_refused(signer: UrlSigner) -> None:
    params = upload_params(signer)
    with pytest.raises(Forbidden, match="invalid signature"):
        signer.verify("PUT", KEY.replace("original", "thumb"), params, now=NOW)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("max_size", "1001"),
        ("max_size", "01000"),
        ("content_type", "text/html"),
        ("filename", "b.jpg"),
        ("expires", str(NOW + 3600)),
        ("signature", "A" * 43),
    ],
)
def test_tampered_parameter_is_refused(signer: UrlSigner, name: str, value: str) -> None:
    params = upload_params(signer) | {name: value}
    with pytest.raises(Forbidden, match="invalid signature"):
        signer.verify("PUT", KEY, params, now=NOW)


@pytest.mark.parametrize("name", ["max_size", "content_type", "filename", "signature", "expires"])
def test_removed_parameter_is_refused(signer: UrlSigner, name: str) -> None:
    params = upload_params(signer)
    del params[name]
    with pytest.raises(Forbidden, match="invalid signature"):
        signer.verify("PUT", KEY, params, now=NOW)


def test_wrong_method_is_refused(signer: UrlSigner) -> None:
    params = upload_params(signer)
    with pytest.raises(Forbidden, match="invalid signature"):
        signer.verify("GET", KEY, params, now=NOW)


def test_other_secret_is_refused(signer: UrlSigner) -> None:
    params = upload_params(signer)
    other = UrlSigner(b"t" * 48, "https://ortholens.example")
    with pytest.raises(Forbidden, match="invalid signature"):
        other.verify("PUT", KEY, params, now=NOW)


def test_attachment_disposition_keeps_header_safe() -> None:
    value = attachment_disposition('../Röntgen "final";.png')
    assert value == (
        'attachment; filename="R_ntgen _final__.png"; '
        "filename*=UTF-8''R%C3%B6ntgen%20%22final%22%3B.png"
    )
