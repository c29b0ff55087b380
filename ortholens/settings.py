"""The one settings object. Every `ORTHOLENS_*` environment variable is read here and nowhere else.

The README's configuration table is checked against this class by a test, so a new field needs a
`description` and a row there.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class StorageBackend(StrEnum):
    LOCAL = "local"
    S3 = "s3"


class AiProvider(StrEnum):
    LOCAL = "local"
    ANTHROPIC = "anthropic"


class SmtpSecurity(StrEnum):
    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"


class Settings(BaseSettings):
    """Configuration for every process (serve, worker, CLI)."""

    model_config = SettingsConfigDict(env_prefix="ORTHOLENS_", extra="ignore")

    environment: Environment = Field(
        Environment.DEVELOPMENT,
        description="`production` refuses to start with debug on or a default secret.",
    )
    debug: bool = Field(False, description="Verbose errors in logs; never allowed in production.")
    data_dir: Path = Field(
        Path("var"), description="Where embedded data lives (database, objects)."
    )
    key_dir: Path = Field(
        Path("keys"),
        description="Where generated secrets live; keep it apart from data_dir and its backups.",
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="External base URL, used in signed links and invites.",
    )

    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; default SQLite at `{data_dir}/ortholens.db`. "
        "PostgreSQL: `postgresql://user@host/db` (psycopg 3).",
    )
    database_pool_size: int = Field(10, description="Connection pool size (PostgreSQL).")
    strict_read_transactions: bool = Field(
        False,
        description="Refuse, instead of only logging, a write inside a GET's read transaction "
        "(such a GET must be marked `@writes`); the test suite turns it on.",
    )

    redis_url: str | None = Field(
        None, description="Use Redis for the job queue (else SQLite at `{data_dir}/queue.db`)."
    )
    queue_name: str = Field(
        "ortholens", description="Queue name (Redis key prefix); one per deployment."
    )
    worker_threads: int = Field(2, description="Job threads per worker (and in `serve`).")
    embedded_worker: bool = Field(True, description="`serve` runs a job consumer in-process.")
    job_lease_seconds: float = Field(
        60.0, description="A running job not heard from for this long is taken over."
    )
    job_max_attempts: int = Field(5, description="Attempts before a job is marked failed.")
    job_retry_base_seconds: float = Field(
        5.0, description="First retry delay; doubles on every attempt."
    )
    job_reaper_interval_seconds: float = Field(
        15.0, description="How often a worker looks for expired leases and lost jobs."
    )

    storage_backend: StorageBackend = Field(
        StorageBackend.LOCAL, description="`local` (encrypted directory) or `s3`."
    )
    storage_dir: Path | None = Field(
        None, description="Local object directory; default `{data_dir}/objects`."
    )
    s3_bucket: str | None = Field(None, description="S3 bucket name.")
    s3_endpoint_url: str | None = Field(
        None, description="S3-compatible endpoint (MinIO, Ceph RGW); empty for AWS."
    )
    s3_region: str = Field("us-east-1", description="S3 region.")
    s3_access_key_id: str | None = Field(None, description="S3 access key (else the AWS chain).")
    s3_secret_access_key: SecretStr | None = Field(None, description="S3 secret key.")
    s3_server_side_encryption: str = Field(
        "AES256", description="SSE to request on every put: `AES256`, `aws:kms` or `none`."
    )
    signed_url_seconds: int = Field(300, description="Lifetime of signed upload/download URLs.")
    export_retention_hours: int = Field(
        72,
        ge=1,
        description="Generated files (exports) are deleted this many hours after they are made.",
    )

    token_signing_key: SecretStr | None = Field(
        None, description="JWT/URL signing key; generated into key_dir when unset."
    )
    storage_encryption_key: SecretStr | None = Field(
        None,
        description="Base64 32-byte AES key for local objects; generated into key_dir when unset.",
    )

    web_assets_dir: Path = Field(
        Path("node_modules"),
        description="Installed front-end packages (htmx, three.js) served under /static/vendor.",
    )

    ai_provider: AiProvider = Field(
        AiProvider.LOCAL,
        description="Tag suggestions: `local` (offline, from photo quality and colour) or "
        "`anthropic` (Claude vision).",
    )
    anthropic_api_key: SecretStr | None = Field(None, description="Anthropic API key.")
    anthropic_model: str = Field("claude-sonnet-5-5", description="Claude model for suggestions.")
    anthropic_base_url: str | None = Field(
        None, description="Messages API base URL (a proxy or gateway); empty for Anthropic's."
    )
    ai_timeout_seconds: float = Field(60.0, description="Timeout of one suggestion request.")
    ai_max_retries: int = Field(2, description="Retries of a failed suggestion request.")

    push_contact: str = Field(
        "mailto:admin@localhost",
        description="VAPID `sub` contact (mailto: or https:) push services may use to reach you.",
    )
    push_allow_insecure_endpoints: bool = Field(
        False,
        description="Accept http:// and private-network push endpoints (tests and labs only).",
    )
    scan_reminder_hour: int = Field(
        9, ge=0, le=23, description="UTC hour at which due-scan reminders are pushed (daily)."
    )

    max_scan_upload_mb: int = Field(
        600, description="Largest intraoral scan file (or ZIP bundle) accepted, in MB."
    )
    decoder_isolation: bool = Field(
        True,
        description="Decode uploaded photos and scans in worker processes with the limits below; "
        "`false` decodes in-process (debugging only: a crashing decoder then takes the process down).",
    )
    decoder_processes: int = Field(
        2, ge=1, description="Decoder worker processes per server or worker (decodes at once)."
    )
    decoder_timeout_seconds: float = Field(
        120.0, gt=0, description="Wall time one decode may take before it is killed and fails."
    )
    decoder_memory_mb: int = Field(
        6144,
        ge=64,
        description="Memory one decode may allocate before it fails; size it for the largest "
        "scan accepted (a 50 MB, 1M-triangle STL needs about 500 MB).",
    )
    scan_background_mb: int = Field(
        10,
        description="Scan files above this size are read and filed by the `ingest.file` job, "
        "not in the request (seed 001).",
    )
    itero_base_url: str = Field(
        "https://api.itero.com",
        description="iTero partner API (OAuth and discovery) base URL.",
    )
    itero_client_id: str | None = Field(None, description="iTero OAuth client id.")
    itero_client_secret: SecretStr | None = Field(None, description="iTero OAuth client secret.")

    smtp_host: str | None = Field(
        None, description="SMTP server for e-mail (portal invitations); unset: no e-mail is sent."
    )
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port (587 STARTTLS, 465 TLS).")
    smtp_security: SmtpSecurity = Field(
        SmtpSecurity.STARTTLS,
        description="`starttls` (upgrade after connecting), `tls` (TLS from the start) or `none`.",
    )
    smtp_username: str | None = Field(None, description="SMTP user; unset: no sign-in.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_from: str = Field(
        "OrthoLens <no-reply@localhost>", description="The From address of every e-mail."
    )
    smtp_timeout_seconds: float = Field(
        30.0, gt=0, description="Timeout of one SMTP connection and command."
    )

    log_level: str = Field("INFO", description="Log level.")
    log_format: LogFormat = Field(LogFormat.JSON, description="`json` or `console`.")
    job_modules: list[str] = Field(
        default_factory=list,
        description="Extra modules that register job handlers (plugins); JSON list.",
    )

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data directory, with psycopg 3 for PG."""
        url = self.database_url or f"sqlite:///{self.data_dir / 'ortholens.db'}"
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @property
    def resolved_storage_dir(self) -> Path:
        return self.storage_dir or self.data_dir / "objects"

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process from the environment."""
    return Settings()
