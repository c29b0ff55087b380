"""Process secrets: loaded from settings, else from files in the key directory, generated there on
first start. The key directory is kept apart from the data directory so that a copy of the data
(a backup, a disk image) does not carry the keys that decrypt it."""

from __future__ import annotations

import base64
import os
import secrets as _random
from dataclasses import dataclass
from pathlib import Path

from ortholens.kit.errors import ConfigurationError
from ortholens.settings import Environment, Settings

# Values that appear in our examples and docs; a production process refuses to run with them.
INSECURE_DEFAULTS = frozenset(
    {
        "",
        "change-me",
        "changeme",
        "secret",
        "ortholens",
        "change-me-to-a-long-random-string",
        "Y2hhbmdlLW1lLWNoYW5nZS1tZS1jaGFuZ2UtbWUtMzI=",
    }
)
MIN_SIGNING_KEY_BYTES = 32
AES_KEY_BYTES = 32


@dataclass(frozen=True)
class Secrets:
    token_signing_key: bytes
    storage_encryption_key: bytes


def _read_or_create(path: Path, make: bytes) -> bytes:
    """Read a key file, or create it exclusively with owner-only permissions."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(make)
        handle.flush()
        os.fsync(handle.fileno())
    return make


def load_secrets(settings: Settings) -> Secrets:
    """Secrets for this process; generates missing ones into `settings.key_dir`."""
    signing = (
        settings.token_signing_key.get_secret_value().encode()
        if settings.token_signing_key is not None
        else _read_or_create(
            settings.key_dir / "token_signing.key", _random.token_urlsafe(48).encode()
        )
    )
    encoded = (
        settings.storage_encryption_key.get_secret_value().encode()
        if settings.storage_encryption_key is not None
        else _read_or_create(
            settings.key_dir / "storage_encryption.key",
            base64.b64encode(_random.token_bytes(AES_KEY_BYTES)),
        )
    )
    try:
        storage_key = base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise ConfigurationError("The storage encryption key is not valid base64.") from exc
    if len(storage_key) != AES_KEY_BYTES:
        raise ConfigurationError("The storage encryption key must decode to 32 bytes (AES-256).")
    return Secrets(token_signing_key=signing, storage_encryption_key=storage_key)


def check_production_safety(settings: Settings) -> None:
    """Refuse to run in production with debug on, a documented default secret, or keys in the data."""
    if settings.environment is not Environment.PRODUCTION:
        return
    problems: list[str] = []
    if settings.debug:
        problems.append("ORTHOLENS_DEBUG is on")
    for name in ("token_signing_key", "storage_encryption_key"):
        value = getattr(settings, name)
        if value is not None and value.get_secret_value() in INSECURE_DEFAULTS:
            problems.append(f"ORTHOLENS_{name.upper()} is a documented default")
    if settings.token_signing_key is not None and (
        len(settings.token_signing_key.get_secret_value()) < MIN_SIGNING_KEY_BYTES
    ):
        problems.append(f"ORTHOLENS_TOKEN_SIGNING_KEY is shorter than {MIN_SIGNING_KEY_BYTES}")
    key_dir, data_dir = settings.key_dir.resolve(), settings.data_dir.resolve()
    if key_dir == data_dir or data_dir in key_dir.parents:
        problems.append("ORTHOLENS_KEY_DIR is inside ORTHOLENS_DATA_DIR")
    if problems:
        raise ConfigurationError("Refusing to start in production: " + "; ".join(problems) + ".")
