"""The iTero connector against the local stand-in for the vendor's API (tests/scanners/itero_server)."""

from __future__ import annotations

import hashlib
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import trimesh
from structlog.testing import capture_logs

from ortholens.kit.errors import InvalidInput
from ortholens.scanners.itero import (
    IteroAuthError,
    IteroClient,
    IteroConfig,
    IteroError,
    IteroFileTooLarge,
    IteroTokens,
    authorization_url,
    callback_code,
    exchange_code,
    new_pkce_pair,
    refresh,
)
from tests.scanners.itero_server import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    IteroTestServer,
    run_itero_server,
)

STATE = "state-from-the-ortholens-session"


@pytest.fixture(scope="module")
def itero_server() -> Iterator[IteroTestServer]:
    with run_itero_server() as server:
        yield server


@pytest.fixture
def itero(itero_server: IteroTestServer) -> IteroTestServer:
    """The module's server, with the vendor's state as new."""
    itero_server.vendor.reset()
    return itero_server


def follow_authorize(url: str) -> httpx.Response:
    """What the admin's browser does: open the authorize URL and get redirected (not followed)."""
    response = httpx.get(url, follow_redirects=False)
    assert response.status_code == 302
    return response


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def connect(itero: IteroTestServer, config: IteroConfig | None = None) -> IteroTokens:
    """The whole OAuth dance with PKCE, as the API endpoint and its callback will drive it."""
    config = config or itero.config()
    verifier, challenge = new_pkce_pair()
    location = follow_authorize(authorization_url(config, STATE, challenge)).headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    code = callback_code(query_of(location), expected_state=STATE)
    return exchange_code(config, code, verifier)


class Recorder:
    """Stands in for the caller that seals refreshed tokens into the database."""

    def __init__(self) -> None:
        self.saved: list[IteroTokens] = []

    def __call__(self, tokens: IteroTokens) -> None:
        self.saved.append(tokens)


def make_client(
    itero: IteroTestServer, tokens: IteroTokens, sleeps: list[float] | None = None, **config: object
) -> tuple[IteroClient, Recorder]:
    recorder = Recorder()
    client = IteroClient(
        itero.config(**config),
        tokens,
        recorder,
        sleep=(sleeps.append if sleeps is not None else lambda _s: None),
    )
    return client, recorder


def count(itero: IteroTestServer, path_part: str) -> int:
    return sum(1 for _method, path in itero.vendor.requests if path_part in path)


# ---- Connecting ----------------------------------------------------------------------------------


def test_authorization_url_names_client_redirect_state_and_pkce(itero: IteroTestServer) -> None:
    url = authorization_url(itero.config(), STATE, code_challenge="abc")
    assert url.startswith(f"{itero.base_url}/oauth/authorize?")
    query = query_of(url)
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["state"] == STATE
    assert query["code_challenge"] == "abc"
    assert query["code_challenge_method"] == "S256"
    assert "code_challenge" not in query_of(authorization_url(itero.config(), STATE))


def test_connect_discover_list_and_download(itero: IteroTestServer) -> None:
    tokens = connect(itero)
    assert tokens.region_base_url is None
    assert tokens.expires_at - datetime.now(UTC) > timedelta(minutes=55)  # a 1-hour token

    client, recorder = make_client(itero, tokens)
    with client:
        assert client.discover_region() == f"{itero.base_url}/eu"
        # The region is part of the stored grant, so the caller is told to save it.
        assert recorder.saved[-1].region_base_url == f"{itero.base_url}/eu"
        scans = client.list_scans()
        downloaded = client.download(scans[0])

    assert [s.scan_id for s in scans] == [
        "SC-0001-1",
        "SC-0002-1",
        "SC-0003-1",
        "SC-0003-2",
        "SC-0004-1",
        "SC-0005-1",
    ]
    first = scans[0]
    assert (first.order_id, first.patient_name, first.patient_ref) == (
        "ORD-0001",
        "Patient Number1",
        "CH-101",
    )
    assert first.scanned_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert [(f.jaw, f.format) for f in first.files] == [
        ("upper", "stl"),
        ("lower", "stl"),
        ("bite", "stl"),
        (None, "xml"),
    ]
    vendor_files = itero.vendor.orders[0].scans[0].files
    assert [d.content for d in downloaded] == [f.content for f in vendor_files]
    assert [d.sha256 for d in downloaded] == [
        hashlib.sha256(f.content).hexdigest() for f in vendor_files
    ]
    upper = trimesh.load(io.BytesIO(downloaded[0].content), file_type="stl")
    assert isinstance(upper, trimesh.Trimesh)
    assert len(upper.faces) == 320  # the icosphere the server exported
    order_xml = ET.fromstring(downloaded[3].content)
    assert [m.get("jaw") for m in order_xml.iter("Model")] == ["upper", "lower", "bite"]


def test_region_is_discovered_on_first_use_and_kept(itero: IteroTestServer) -> None:
    client, recorder = make_client(itero, connect(itero))
    with client:
        client.list_scans()
        client.list_scans()
    assert count(itero, "/discovery") == 1
    assert client.tokens.region_base_url == f"{itero.base_url}/eu"
    assert [t.region_base_url for t in recorder.saved] == [f"{itero.base_url}/eu"]


def test_callback_with_another_state_is_refused(itero: IteroTestServer) -> None:
    location = follow_authorize(authorization_url(itero.config(), STATE)).headers["Location"]
    with pytest.raises(InvalidInput):
        callback_code(query_of(location), expected_state="a-different-session")
    with pytest.raises(IteroAuthError):
        callback_code({"state": STATE, "error": "access_denied"}, expected_state=STATE)


def test_pkce_mismatch_is_rejected_by_the_server(itero: IteroTestServer) -> None:
    _verifier, challenge = new_pkce_pair()
    other_verifier, _other = new_pkce_pair()
    location = follow_authorize(authorization_url(itero.config(), STATE, challenge)).headers[
        "Location"
    ]
    code = callback_code(query_of(location), STATE)
    with pytest.raises(IteroAuthError):
        exchange_code(itero.config(), code, other_verifier)
    assert itero.vendor.token_grants == ["authorization_code"]


def test_server_checks_pkce_method_client_and_code_reuse(itero: IteroTestServer) -> None:
    plain = authorization_url(itero.config(), STATE, "challenge").replace("S256", "plain")
    assert query_of(follow_authorize(plain).headers["Location"])["error"] == "invalid_request"

    bad_redirect = authorization_url(itero.config(redirect_uri="http://127.0.0.1:1/evil"), STATE)
    refused = httpx.get(bad_redirect, follow_redirects=False)
    assert refused.status_code == 400
    assert "Location" not in refused.headers

    # Client authentication in the form (instead of HTTP Basic) works too; a code works once.
    code = query_of(follow_authorize(authorization_url(itero.config(), STATE)).headers["Location"])[
        "code"
    ]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    first = httpx.post(f"{itero.base_url}/oauth/token", data=form)
    assert first.status_code == 200
    assert first.json()["token_type"] == "Bearer"
    again = httpx.post(f"{itero.base_url}/oauth/token", data=form)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_wrong_client_secret_is_a_configuration_error_not_a_reconnect(
    itero: IteroTestServer,
) -> None:
    location = follow_authorize(authorization_url(itero.config(), STATE)).headers["Location"]
    with pytest.raises(IteroError) as caught:
        exchange_code(itero.config(client_secret="wrong"), callback_code(query_of(location), STATE))
    assert not isinstance(caught.value, IteroAuthError)
    assert "client id or secret" in caught.value.detail


def test_tokens_survive_json_and_keep_secrets_out_of_repr(itero: IteroTestServer) -> None:
    tokens = connect(itero)
    assert IteroTokens.from_json(tokens.to_json()) == tokens
    assert tokens.access_token not in repr(tokens)
    assert tokens.refresh_token not in repr(tokens)
    assert CLIENT_SECRET not in repr(itero.config())
    with pytest.raises(IteroAuthError):
        IteroTokens.from_json('{"access_token": "x"}')


# ---- Listing -------------------------------------------------------------------------------------


def test_list_scans_pages_through_every_order(itero: IteroTestServer) -> None:
    client, _ = make_client(itero, connect(itero))
    with client:
        everything = client.list_scans()
        paged = client.list_scans(page_size=2)
    assert paged == everything
    assert len(paged) == 6
    # Five orders two to a page: three requests for the paged listing, one for the first.
    assert count(itero, "/eu/api/v1/orders") == 4


def test_since_lists_scans_taken_at_or_after_it(itero: IteroTestServer) -> None:
    client, _ = make_client(itero, connect(itero))
    rescan_day = datetime(2026, 3, 18, 9, 30, tzinfo=UTC)  # the rescan of order 3
    with client:
        scans = client.list_scans(since=rescan_day, page_size=1)
        later = client.list_scans(since=datetime(2027, 1, 1, tzinfo=UTC))
    assert [s.scan_id for s in scans] == ["SC-0003-2", "SC-0004-1", "SC-0005-1"]
    assert later == []


# ---- Tokens expiring and revoked -----------------------------------------------------------------


def test_expired_token_is_refreshed_once_and_the_request_repeated(itero: IteroTestServer) -> None:
    tokens = connect(itero)
    client, recorder = make_client(itero, tokens)
    with client:
        client.discover_region()
        recorder.saved.clear()
        itero.vendor.expire_access_tokens()  # iTero says expired; the client's clock says not
        scans = client.list_scans()
    assert len(scans) == 6
    assert itero.vendor.token_grants.count("refresh_token") == 1
    assert len(recorder.saved) == 1
    renewed = recorder.saved[0]
    assert renewed == client.tokens
    assert renewed.refresh_token != tokens.refresh_token  # rotated
    assert renewed.region_base_url == f"{itero.base_url}/eu"
    # The rotated-out refresh token is dead (and replaying it ends the connection).
    with pytest.raises(IteroAuthError):
        refresh(itero.config(), tokens)


def test_token_near_expiry_is_refreshed_before_the_request(itero: IteroTestServer) -> None:
    itero.vendor.access_token_lifetime = timedelta(seconds=60)  # inside the 5-minute margin
    client, recorder = make_client(itero, connect(itero))
    with client:
        client.discover_region()
    assert itero.vendor.token_grants == ["authorization_code", "refresh_token"]
    assert [path for _m, path in itero.vendor.requests[-2:]] == [
        "/oauth/token",
        "/api/v1/discovery",
    ]
    assert count(itero, "/api/v1/discovery") == 1  # no 401 round trip
    assert len(recorder.saved) == 2  # the refresh, then the region


def test_revoked_refresh_token_asks_to_reconnect(itero: IteroTestServer) -> None:
    tokens = connect(itero)
    client, recorder = make_client(itero, tokens)
    itero.vendor.revoke_refresh_tokens()
    itero.vendor.expire_access_tokens()
    with client, pytest.raises(IteroAuthError) as caught:
        client.list_scans()
    assert "reconnect iTero" in caught.value.detail
    assert tokens.refresh_token not in caught.value.detail
    assert recorder.saved == []


def test_token_refused_again_after_refresh_asks_to_reconnect(itero: IteroTestServer) -> None:
    client, _ = make_client(itero, connect(itero))
    with client:
        client.discover_region()
        itero.vendor.fail_next(2, 401, path_prefix="/eu/")
        with pytest.raises(IteroAuthError):
            client.list_scans()
    assert itero.vendor.token_grants.count("refresh_token") == 1


# ---- Retries -------------------------------------------------------------------------------------


def test_server_errors_are_retried_with_backoff(itero: IteroTestServer) -> None:
    sleeps: list[float] = []
    client, _ = make_client(itero, connect(itero), sleeps)
    with client:
        client.discover_region()
        itero.vendor.fail_next(2, 500, path_prefix="/eu/")
        assert len(client.list_scans()) == 6
    assert sleeps == [0.001, 0.002]
    assert count(itero, "/eu/api/v1/orders") == 3


def test_retry_after_is_honoured(itero: IteroTestServer) -> None:
    sleeps: list[float] = []
    client, _ = make_client(itero, connect(itero), sleeps)
    with client:
        client.discover_region()
        itero.vendor.fail_next(1, 429, retry_after="7", path_prefix="/eu/")
        assert len(client.list_scans()) == 6
    assert sleeps == [7.0]


def test_retry_after_as_an_http_date_is_honoured(itero: IteroTestServer) -> None:
    sleeps: list[float] = []
    client, _ = make_client(itero, connect(itero), sleeps)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    with client:
        client.discover_region()
        itero.vendor.fail_next(1, 503, retry_after=when, path_prefix="/eu/")
        assert len(client.list_scans()) == 6
    assert len(sleeps) == 1
    assert 20 < sleeps[0] <= 30  # the date, not the millisecond backoff


def test_retry_after_beyond_the_cap_gives_up_at_once(itero: IteroTestServer) -> None:
    sleeps: list[float] = []
    client, _ = make_client(itero, connect(itero), sleeps)
    with client:
        client.discover_region()
        itero.vendor.fail_next(1, 429, retry_after="3600", path_prefix="/eu/")
        with pytest.raises(IteroError) as caught:
            client.list_scans()
    assert sleeps == []
    assert caught.value.extra["retry_after_seconds"] == 3600


def test_persistent_server_error_raises_a_safe_error(itero: IteroTestServer) -> None:
    tokens = connect(itero)
    client, _ = make_client(itero, tokens, [], max_attempts=3)
    with client:
        client.discover_region()
        itero.vendor.fail_next(10, 500, path_prefix="/eu/")
        with pytest.raises(IteroError) as caught:
            client.list_scans()
    assert count(itero, "/eu/api/v1/orders") == 3
    message = caught.value.detail
    assert "server error (500)" in message
    assert tokens.access_token not in message
    assert "Patient" not in message


def test_unreachable_server_raises_itero_error(itero: IteroTestServer) -> None:
    sleeps: list[float] = []
    tokens = IteroTokens("a", "r", datetime.now(UTC) + timedelta(hours=1), "http://127.0.0.1:9")
    client, _ = make_client(itero, tokens, sleeps, max_attempts=2)
    with client, pytest.raises(IteroError, match="could not be reached"):
        client.list_scans()
    assert len(sleeps) == 1


def test_logs_carry_no_tokens_or_patient_data(itero: IteroTestServer) -> None:
    tokens = connect(itero)
    client, recorder = make_client(itero, tokens)
    with capture_logs() as logs, client:
        client.discover_region()
        itero.vendor.expire_access_tokens()
        itero.vendor.fail_next(1, 500, path_prefix="/eu/")
        client.download(client.list_scans()[0])
    events = [e["event"] for e in logs]
    assert events.count("itero.tokens_refreshed") == 1
    assert "itero.retry" in events
    secrets = {tokens.access_token, tokens.refresh_token, *(t.access_token for t in recorder.saved)}
    secrets |= {t.refresh_token for t in recorder.saved}
    text = repr(logs)
    assert not [s for s in secrets if s in text]
    assert "Patient" not in text
    assert "CH-1" not in text


# ---- Download limits -----------------------------------------------------------------------------


def test_file_over_the_limit_is_refused_before_downloading(itero: IteroTestServer) -> None:
    client, _ = make_client(itero, connect(itero))
    with client:
        scan = client.list_scans()[0]
        upper = scan.files[0]
        assert upper.size is not None
        with pytest.raises(IteroFileTooLarge, match="over the"):
            client.download_file(scan, upper, max_bytes=upper.size - 1)
        assert count(itero, "/files/") == 0
        assert client.download_file(scan, upper, max_bytes=upper.size).file == upper


def test_refused_download_raises_a_safe_error(itero: IteroTestServer) -> None:
    client, _ = make_client(itero, connect(itero))
    with client:
        scan = client.list_scans()[0]
        itero.vendor.fail_next(1, 403, path_prefix="/eu/api/v1/orders/ORD-0001/")
        with pytest.raises(IteroError, match=r"refused the request \(403\)"):
            client.download_file(scan, scan.files[0])
        missing = replace(scan.files[0], file_id="no-such-file", size=None, sha256=None)
        with pytest.raises(IteroError, match="did not find"):
            client.download_file(scan, missing)


def test_undeclared_size_is_capped_while_streaming(itero: IteroTestServer) -> None:
    itero.vendor.hide_sizes = True  # no size in the listing, no Content-Length on the download
    client, _ = make_client(itero, connect(itero))
    with client:
        scan = client.list_scans()[0]
        upper = scan.files[0]
        assert upper.size is None
        true_size = len(itero.vendor.orders[0].scans[0].files[0].content)
        with pytest.raises(IteroFileTooLarge):
            client.download_file(scan, upper, max_bytes=true_size - 1)
        sink = io.BytesIO()
        client.stream_file(scan, upper, sink, max_bytes=true_size)
    assert sink.getvalue() == itero.vendor.orders[0].scans[0].files[0].content
