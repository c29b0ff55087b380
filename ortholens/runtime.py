"""The process's shared resources, built once from settings: database, object store, job queue.

`serve`, `worker` and the CLI build one `Runtime`; the web app keeps it on `app.state.runtime`; job
handlers receive it as `ctx.resources`. Nothing in domain code knows whether it runs on SQLite or
PostgreSQL, a local directory or S3, a SQLite queue or Redis: that is decided here from settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ortholens.auth.tokens import TokenSigner
from ortholens.image.tasks import DerivedPhoto, derive_photo
from ortholens.intraoral.tasks import ScanViews, derive_scan_views
from ortholens.kit.db import STRICT_READS_KEY, make_engine, make_session_factory
from ortholens.kit.isolation import DecoderPool, IsolationLimits
from ortholens.kit.jobs import JobQueue, QueuePolicy, Worker, build_huey
from ortholens.kit.jobs.queue import QUEUE_KEY
from ortholens.kit.jobs.registry import import_handler_modules
from ortholens.kit.resources import Resources
from ortholens.kit.secrets import Secrets, check_production_safety, load_secrets
from ortholens.kit.storage import ObjectStore
from ortholens.kit.storage.factory import build_store
from ortholens.notify.vapid import VapidKeys, load_or_create_vapid_keys
from ortholens.processing.meshes.types import MeshLimits
from ortholens.settings import Settings

# Domain modules whose import registers job handlers; each capability adds its `tasks` module here.
TASK_MODULES: list[str] = [
    "ortholens.image.tasks",
    "ortholens.upload.tasks",
    "ortholens.ingest.tasks",
    "ortholens.notify.tasks",
    "ortholens.patient_auth.tasks",
    "ortholens.intraoral.tasks",
    "ortholens.intraoral.itero_tasks",
    "ortholens.intraoral.export_tasks",
    "ortholens.export.tasks",
]


@dataclass(frozen=True)
class DecodeSteps:
    """What each job hands to `Runtime.decoders`: module-level functions a worker process imports.

    A test gives the real jobs a decoder made to crash, hang or allocate by replacing one.
    """

    photo: Callable[[bytes], DerivedPhoto] = derive_photo
    scan_views: Callable[[bytes, str, MeshLimits], ScanViews] = derive_scan_views

    @property
    def modules(self) -> list[str]:
        """The modules the decoder workers import once, before their first call."""
        return sorted({self.photo.__module__, self.scan_views.__module__})


@dataclass
class Runtime:
    settings: Settings
    secrets: Secrets
    engine: Engine
    session_factory: sessionmaker[Session]
    store: ObjectStore
    queue: JobQueue
    signer: TokenSigner
    vapid: VapidKeys
    # Untrusted bytes are decoded in these worker processes, under time and memory limits.
    decoders: DecoderPool
    decode_steps: DecodeSteps

    def make_worker(self) -> Worker:
        """A job consumer for this runtime's queue (its decoder processes start right away)."""
        self.decoders.warm_up()
        return Worker(
            self.queue,
            threads=self.settings.worker_threads,
            reaper_interval=self.settings.job_reaper_interval_seconds,
        )

    def close(self) -> None:
        self.decoders.close()
        self.engine.dispose()


def build_runtime(settings: Settings) -> Runtime:
    """Check the configuration and build every shared resource it names."""
    check_production_safety(settings)
    secrets = load_secrets(settings)
    import_handler_modules([*TASK_MODULES, *settings.job_modules])
    engine = make_engine(settings.resolved_database_url, pool_size=settings.database_pool_size)
    session_factory = make_session_factory(engine)
    store = build_store(settings, secrets)
    huey = build_huey(
        name=settings.queue_name,
        redis_url=settings.redis_url,
        sqlite_path=str(settings.queue_path),
    )
    steps = DecodeSteps()
    runtime = Runtime(
        settings=settings,
        secrets=secrets,
        engine=engine,
        session_factory=session_factory,
        store=store,
        signer=TokenSigner(secrets.token_signing_key),
        vapid=load_or_create_vapid_keys(settings.key_dir),
        decoders=DecoderPool(
            IsolationLimits(
                timeout_seconds=settings.decoder_timeout_seconds,
                memory_mb=settings.decoder_memory_mb,
                processes=settings.decoder_processes,
            ),
            preload=steps.modules,
            isolated=settings.decoder_isolation,
        ),
        decode_steps=steps,
        queue=JobQueue(
            huey,
            session_factory,
            policy=QueuePolicy(
                lease_seconds=settings.job_lease_seconds,
                max_attempts=settings.job_max_attempts,
                retry_base_seconds=settings.job_retry_base_seconds,
            ),
        ),
    )
    runtime.queue.resources = as_resources(runtime)  # what job handlers get as ctx.resources
    # Every session made from here on can request jobs that go out after it commits.
    session_factory.configure(
        info={QUEUE_KEY: runtime.queue, STRICT_READS_KEY: settings.strict_read_transactions}
    )
    return runtime


def as_resources(runtime: Runtime) -> Resources:
    """The runtime as the layers below know it; mypy checks here that it provides `Resources`."""
    return runtime
