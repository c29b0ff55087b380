"""`ortholens export ...`: fetch generated files from the command line.

The composition layer (`ortholens/cli.py`) hands in how to open the runtime, how to follow a job
with its progress bar and how to turn errors into messages, so this module imports nothing above
the domain layer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from ortholens.audit.service import SYSTEM
from ortholens.export import service
from ortholens.kit.db import transaction
from ortholens.kit.jobs import Job, JobStatus
from ortholens.kit.resources import Resources

R = TypeVar("R", bound=Resources)
Command = Callable[..., Any]


def _target(output: Path | None, filename: str) -> Path:
    """Where to write: `output` (a file, or a folder to put `filename` in), else `./filename`."""
    name = Path(filename).name or "download"
    if output is None:
        return Path.cwd() / name
    return output / name if output.is_dir() else output


def fetch_file(runtime: Resources, job_id: uuid.UUID, output: Path | None) -> tuple[Path, int]:
    """Write a finished job's file to disk and audit the download as the CLI (system) actor;
    returns the path and its size in bytes. Nothing is left at the path if anything fails."""
    retention = timedelta(hours=runtime.settings.export_retention_hours)
    with transaction(runtime.session_factory) as session:
        file = service.locate_download(session, job_id, retention).file
    target = _target(output, file.filename)
    partial = target.with_name(f".{target.name}.part")
    try:
        with partial.open("wb") as sink:
            for chunk in runtime.store.iter_chunks(file.key):
                sink.write(chunk)
        with transaction(runtime.session_factory) as session:
            download = service.locate_download(session, job_id, retention)
            service.record_download(session, download, SYSTEM, via="cli")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target, file.size


def build_export_app(
    open_runtime: Callable[[], AbstractContextManager[R]],
    follow: Callable[[R, uuid.UUID], Job],
    friendly: Callable[[Command], Command],
) -> typer.Typer:
    """The `export` sub-command group, bound to the CLI's runtime, progress bar and errors."""
    export_app = typer.Typer(
        help="Generated files: mesh exports (reports and archives next).", no_args_is_help=True
    )
    console, err_console = Console(), Console(stderr=True)

    @export_app.command("fetch")
    @friendly
    def fetch(
        job_id: uuid.UUID,
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", help="File or folder to write to (default: here)."),
        ] = None,
    ) -> None:
        """Wait for a generated file's job (with progress), then write the file."""
        with open_runtime() as runtime:
            job = follow(runtime, job_id)
            if job.status is JobStatus.FAILED:
                err_console.print(f"[red]{job.name} failed: {job.error}[/]")
                raise typer.Exit(1)
            target, size = fetch_file(runtime, job_id, output)
        console.print(f"Wrote {target} ({size} bytes).")

    return export_app
