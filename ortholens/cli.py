"""The `ortholens` command line: everything an administrator scripts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ortholens import __version__
from ortholens.export.cli import build_export_app
from ortholens.ingest.cli import add_import_commands
from ortholens.kit.db import transaction
from ortholens.kit.errors import OrthoLensError
from ortholens.kit.jobs import Job, JobStatus
from ortholens.kit.logging import configure_logging
from ortholens.models import Role
from ortholens.runtime import Runtime, build_runtime
from ortholens.settings import Environment, Settings, get_settings

app = typer.Typer(
    help="OrthoLens: orthodontic imaging and remote monitoring.",
    no_args_is_help=True,
    # Tracebacks with local variables would print patient data; show frames only.
    pretty_exceptions_show_locals=False,
)
jobs_app = typer.Typer(help="Inspect background jobs.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
storage_app = typer.Typer(help="The object store.", no_args_is_help=True)
app.add_typer(storage_app, name="storage")
import_app = typer.Typer(help="Bring an existing archive in.", no_args_is_help=True)
app.add_typer(import_app, name="import")

console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")


@contextmanager
def _runtime() -> Iterator[Runtime]:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    runtime = build_runtime(settings)
    try:
        yield runtime
    finally:
        runtime.close()


def _friendly(func: Callable[..., T]) -> Callable[..., T]:
    """Turn our errors into a one-line message and exit code 2 instead of a traceback."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: object, **kwargs: object) -> T:
        try:
            return func(*args, **kwargs)
        except OrthoLensError as exc:
            err_console.print(f"[bold red]Error:[/] {exc.detail}")
            raise typer.Exit(2) from None

    return wrapper


add_import_commands(import_app, _runtime, _friendly)


@app.command()
def version() -> None:
    """Print the OrthoLens version."""
    console.print(__version__)


@app.command()
@_friendly
def migrate(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Apply database migrations (safe to run again)."""
    from ortholens.migrations.runner import current_revision, head_revision, upgrade

    with _runtime() as runtime:
        before = current_revision(runtime.engine)
        target = head_revision() if revision == "head" else revision
        if before == target:
            console.print(f"Database already at revision [bold]{before}[/].")
            return
        with console.status(f"Migrating database from {before or 'empty'} to {target}..."):
            upgrade(runtime.engine, revision)
        console.print(f"Database migrated to revision [bold]{current_revision(runtime.engine)}[/].")


@app.command()
@_friendly
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Seed the demo clinic and print its sign-ins.")
    ] = False,
    worker: Annotated[
        bool, typer.Option(help="Run a job consumer in this process (default from settings).")
    ] = True,
) -> None:
    """Serve the web app and API (with an in-process job worker unless disabled)."""
    import uvicorn

    from ortholens.app import create_app
    from ortholens.migrations.runner import ensure_up_to_date

    settings = get_settings()
    if demo and settings.environment is Environment.PRODUCTION:
        err_console.print("[bold red]Error:[/] --demo is not allowed in production.")
        raise typer.Exit(2)
    with _runtime() as runtime:
        ensure_up_to_date(runtime.engine)
        if demo:
            _print_demo(runtime, host, port)
        consumer = runtime.make_worker() if worker and settings.embedded_worker else None
        if consumer is not None:
            consumer.start()
        try:
            uvicorn.run(
                create_app(runtime),
                host=host,
                port=port,
                log_config=None,  # keep our structured logging
                proxy_headers=True,
                server_header=False,
            )
        finally:
            if consumer is not None:
                consumer.stop()


def _print_demo(runtime: Runtime, host: str, port: int) -> None:
    from ortholens.demo.seed import seed_demo

    with transaction(runtime.session_factory) as session:
        logins = seed_demo(session, runtime.store)
    table = Table(title="Demo clinic sign-ins (new passwords on every start)")
    table.add_column("Role")
    table.add_column("Name")
    # Never truncate what has to be typed in.
    table.add_column("E-mail", no_wrap=True, min_width=max(len(x.email) for x in logins))
    table.add_column("Password", no_wrap=True, min_width=max(len(x.password) for x in logins))
    for login in logins:
        table.add_row(login.role.value, login.name, login.email, login.password)
    console.print(table)
    console.print(f"Open [bold]http://{host}:{port}/[/] in a browser.")


@app.command()
@_friendly
def worker() -> None:
    """Run a standalone job worker until interrupted (scale out by running more)."""
    from ortholens.migrations.runner import ensure_up_to_date

    with _runtime() as runtime:
        ensure_up_to_date(runtime.engine)
        runtime.make_worker().run_forever()


def follow_job(runtime: Runtime, job_id: uuid.UUID) -> Job:
    """Show a job's progress bar until it succeeds or fails; returns the finished job."""
    from ortholens.job.service import get_job

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        bar = progress.add_task("waiting", total=1.0)
        while True:
            with transaction(runtime.session_factory) as session:
                job = get_job(session, job_id)
            progress.update(
                bar,
                completed=job.progress,
                description=f"{job.name}: {job.message or job.status.value}",
            )
            if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                return job
            time.sleep(0.5)


@jobs_app.command("show")
@_friendly
def jobs_show(
    job_id: uuid.UUID,
    wait: Annotated[bool, typer.Option(help="Follow progress until the job ends.")] = False,
) -> None:
    """Show a job's status, progress and error."""
    from ortholens.job.service import get_job

    with _runtime() as runtime:
        if not wait:
            with transaction(runtime.session_factory) as session:
                job = get_job(session, job_id)
                console.print(
                    f"{job.name} [bold]{job.status.value}[/] {job.progress:.0%} "
                    f"(attempt {job.attempts}/{job.max_attempts}) {job.message or ''}"
                )
                if job.error:
                    console.print(f"[red]{job.error}[/]")
            return
        job = follow_job(runtime, job_id)
        console.print(f"{job.name} ended [bold]{job.status.value}[/]")
        if job.status is JobStatus.FAILED:
            err_console.print(f"[red]{job.error}[/]")
            raise typer.Exit(1)


# `ortholens export ...`, bound to this module's runtime, progress bar and error handling.
app.add_typer(build_export_app(_runtime, follow_job, _friendly), name="export")


@jobs_app.command("list")
@_friendly
def jobs_list(
    status: Annotated[JobStatus | None, typer.Option(help="Only jobs in this state.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
) -> None:
    """List recent jobs."""
    from ortholens.job.repository import list_jobs

    with _runtime() as runtime, transaction(runtime.session_factory) as session:
        table = Table()
        table.add_column("id", no_wrap=True, min_width=36)  # ids are copied into other commands
        for column in ("name", "status", "progress", "attempts", "created"):
            table.add_column(column)
        for job in list_jobs(session, status=status, limit=limit):
            table.add_row(
                str(job.id),
                job.name,
                job.status.value,
                f"{job.progress:.0%}",
                f"{job.attempts}/{job.max_attempts}",
                job.created_at.isoformat(timespec="seconds"),
            )
        console.print(table)


@app.command("create-clinic")
@_friendly
def create_clinic(
    name: str,
    require_mfa: Annotated[
        bool, typer.Option(help="Require two-factor sign-in for staff.")
    ] = False,
) -> None:
    """Create a clinic (a practice) and print its id."""
    from ortholens.clinic.service import create_clinic as create

    with _runtime() as runtime, transaction(runtime.session_factory) as session:
        clinic = create(session, name, settings={"require_mfa": require_mfa})
        console.print(f"Created clinic [bold]{clinic.name}[/] with id {clinic.id}")


@app.command("create-user")
@_friendly
def create_user(
    email: Annotated[str, typer.Option(help="Sign-in e-mail.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    role: Annotated[Role, typer.Option(help="One of the seven staff roles.")],
    clinic: Annotated[
        uuid.UUID | None, typer.Option(help="Clinic id (not needed for a super admin).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(help="Leave out to be asked (not echoed); avoid it on shared shells."),
    ] = None,
) -> None:
    """Create a staff user who can sign in with the given password."""
    from ortholens.clinic.service import create_user as create

    secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _runtime() as runtime, transaction(runtime.session_factory) as session:
        user = create(
            session, clinic_id=clinic, email=email, full_name=name, role=role, password=secret
        )
        console.print(f"Created {user.role.value} [bold]{user.email}[/] with id {user.id}")


@audit_app.command("verify")
@_friendly
def audit_verify() -> None:
    """Check every audit chain for edited, deleted or reordered events (exit 1 if any)."""
    from ortholens.audit.service import verify_all

    with (
        _runtime() as runtime,
        transaction(runtime.session_factory) as session,
        console.status("Verifying the audit chains..."),
    ):
        report = verify_all(session)
    for chain, (seq, digest) in report.heads.items():
        console.print(f"{chain}: {seq} events, head {digest}")
    if report.breaks:
        for found in report.breaks:
            err_console.print(f"[bold red]{found.chain} event {found.seq}:[/] {found.reason}")
        err_console.print(
            f"[bold red]The audit log has been tampered with ({len(report.breaks)} problems).[/]"
        )
        raise typer.Exit(1)
    console.print(
        f"[green]OK[/]: {report.events} events in {report.chains} chains, every link intact."
    )


@storage_app.command("check")
@_friendly
def storage_check(
    repair: Annotated[
        bool, typer.Option(help="Delete orphaned objects and re-process images missing variants.")
    ] = False,
    checksums: Annotated[bool, typer.Option(help="Re-hash every original (slow).")] = True,
) -> None:
    """Compare the object store with the database: orphans, missing objects, checksum mismatches."""
    from ortholens.image.integrity import check_storage

    with (
        _runtime() as runtime,
        transaction(runtime.session_factory) as session,
        Progress(
            TextColumn("checking images"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            console=console,
        ) as bar,
    ):
        task = bar.add_task("check", total=None)
        report = check_storage(
            session,
            runtime.store,
            verify_checksums=checksums,
            repair=repair,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    console.print(f"{report.images_checked} images checked.")
    for title, items in (
        ("Objects without rows", report.orphan_objects),
        ("Images whose original is missing", report.missing_originals),
        ("Images missing a variant", report.missing_variants),
        ("Originals whose checksum does not match", report.checksum_mismatches),
    ):
        if items:
            console.print(f"[bold yellow]{title} ({len(items)}):[/]")
            for item in items:
                console.print(f"  {item}")
    for line in report.repaired:
        console.print(f"[green]repaired:[/] {line}")
    if report.clean:
        console.print("[green]OK[/]: the store and the database agree.")
    elif not repair or report.missing_originals or report.checksum_mismatches:
        raise typer.Exit(1)


@app.command("make-migration", hidden=True)
def make_migration(message: str) -> None:
    """(Developers) autogenerate a migration from the models against the configured database."""
    from alembic import command

    from ortholens.kit.db import make_engine
    from ortholens.migrations.runner import alembic_config

    settings: Settings = get_settings()
    command.revision(
        alembic_config(make_engine(settings.resolved_database_url)),
        message=message,
        autogenerate=True,
    )


def main() -> None:
    app()
