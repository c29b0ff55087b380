"""The iTero cloud connector: OAuth 2.0 with refresh, region discovery, scan listing and download.

Built to the documented shape of Align's partner API against a configurable base URL (the vendor's
service needs a partnership, so tests run against `tests/scanners/itero_server.py`).
"""

from __future__ import annotations

from ortholens.scanners.itero.client import DEFAULT_MAX_FILE_BYTES, IteroClient
from ortholens.scanners.itero.errors import IteroAuthError, IteroError, IteroFileTooLarge
from ortholens.scanners.itero.oauth import (
    authorization_url,
    callback_code,
    exchange_code,
    new_pkce_pair,
    refresh,
)
from ortholens.scanners.itero.schemas import (
    DownloadedFile,
    IteroConfig,
    IteroFile,
    IteroScan,
    IteroTokens,
    Jaw,
)

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "DownloadedFile",
    "IteroAuthError",
    "IteroClient",
    "IteroConfig",
    "IteroError",
    "IteroFile",
    "IteroFileTooLarge",
    "IteroScan",
    "IteroTokens",
    "Jaw",
    "authorization_url",
    "callback_code",
    "exchange_code",
    "new_pkce_pair",
    "refresh",
]
