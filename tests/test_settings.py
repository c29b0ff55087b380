"""Settings, generated secrets and the production safety check."""

from __future__ import annotations

import base64
import re
import stat
from pathlib import Path

import pytest

from ortholens.kit.errors import ConfigurationError
from ortholens.kit.secrets import check_production_safety, load_secrets
from ortholens.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_secrets_are_generated_once_into_the_key_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", key_dir=tmp_path / "keys")
    first = load_secrets(settings)
    again = load_secrets(settings)
    assert first == again
    assert len(first.storage_encryption_key) == 32
    assert len(first.token_signing_key) >= 32
    for name in ("token_signing.key", "storage_encryption.key"):
        mode = stat.S_IMODE((tmp_path / "keys" / name).stat().st_mode)
        assert mode == 0o600
    assert not (tmp_path / "var").exists()  # nothing secret lands in the data directory


def test_secrets_from_settings_win_over_files(tmp_path: Path) -> None:
    key = base64.b64encode(bytes(range(32))).decode()
    settings = Settings(
        key_dir=tmp_path / "keys", storage_encryption_key=key, token_signing_key="x" * 40
    )
    loaded = load_secrets(settings)
    assert loaded.storage_encryption_key == bytes(range(32))
    assert loaded.token_signing_key == b"x" * 40


def test_a_malformed_storage_key_is_refused(tmp_path: Path) -> None:
    settings = Settings(key_dir=tmp_path / "keys", storage_encryption_key="dG9vLXNob3J0")
    with pytest.raises(ConfigurationError, match="32 bytes"):
        load_secrets(settings)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"debug": True}, "DEBUG is on"),
        ({"token_signing_key": "change-me"}, "documented default"),
        ({"token_signing_key": "short"}, "shorter than"),
        ({"key_dir": "var/keys"}, "inside ORTHOLENS_DATA_DIR"),
    ],
)
def test_production_refuses_unsafe_configuration(
    tmp_path: Path, overrides: dict[str, object], reason: str
) -> None:
    values: dict[str, object] = {
        "environment": "production",
        "data_dir": tmp_path / "var",
        "key_dir": tmp_path / "keys",
    }
    if overrides.get("key_dir") == "var/keys":
        overrides = {"key_dir": tmp_path / "var" / "keys"}
    values.update(overrides)
    with pytest.raises(ConfigurationError, match=reason):
        check_production_safety(Settings(**values))  # type: ignore[arg-type]


def test_production_accepts_a_safe_configuration(tmp_path: Path) -> None:
    check_production_safety(
        Settings(
            environment="production",  # type: ignore[arg-type]
            data_dir=tmp_path / "var",
            key_dir=tmp_path / "keys",
            token_signing_key="k" * 48,
        )
    )


def test_postgres_urls_use_psycopg3() -> None:
    settings = Settings(database_url="postgresql://u@h/db")
    assert settings.resolved_database_url == "postgresql+psycopg://u@h/db"


def test_readme_documents_every_setting() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    documented = set(re.findall(r"`(ORTHOLENS_[A-Z0-9_]+)`", readme))
    expected = {f"ORTHOLENS_{name.upper()}" for name in Settings.model_fields}
    assert expected - documented == set(), "settings missing from the README table"
    assert (
        documented - expected - {"ORTHOLENS_TEST_DATABASE_URL", "ORTHOLENS_TEST_REDIS_URL"} == set()
    )
