"""`ortholens import photos|scans`: an existing archive through the ingest pipeline, with a
progress bar. Each file is filed in its own transaction, so a long import keeps what it has done.

The commands are added to the CLI's `import` group by `add_import_commands`, which is handed the
CLI's way to open the runtime: this package sits below the composition layer and never imports it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ortholens.audit.service import SYSTEM
from ortholens.ingest.folders import ImportGroup, group_for_import, pack_as_bundle
from ortholens.ingest.formats import IngestLimits
from ortholens.ingest.pipeline import Filed, Incoming, Submission, prepare
from ortholens.ingest.pipeline import file as file_prepared
from ortholens.kit.db import transaction
from ortholens.kit.errors import InvalidInput
from ortholens.kit.resources import Resources
from ortholens.models import Clinic, FileType, Image, ImageSource, Patient
from ortholens.processing.meshes.scanner_text import normalise_units

console = Console()
OpenRuntime = Callable[[], AbstractContextManager[Resources]]


def files_under(path: Path) -> list[Path]:
    """`path` itself, or every file below it (hidden files left out), in a stable order."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    )


def _file_one(
    runtime: Resources, submission: Submission, path: Path, name: str, units: str | None = None
) -> tuple[Filed, str]:
    """File one file in its own transaction; with a summary of its arches (read before commit)."""
    return _file_bytes(runtime, submission, path.read_bytes(), name, units)


def _file_bytes(
    runtime: Resources, submission: Submission, data: bytes, name: str, units: str | None = None
) -> tuple[Filed, str]:
    """File one file's bytes in their own transaction, with a summary of the arches.

    The file is read first, in the isolated decoder pool and outside any transaction, so a long
    parse holds no database lock and a crashing reader fails this file, not the command.
    """
    limits = IngestLimits.for_scans_up_to(runtime.settings.max_scan_upload_mb)
    limits = dataclasses.replace(limits, mesh_units=units)
    items = [Incoming(name, data=data)]
    prepared = prepare(runtime.store, submission, items, limits, parse=runtime.decoders.run)
    with transaction(runtime.session_factory) as session:
        (filed,) = file_prepared(session, runtime.store, submission, prepared)
        arches = ", ".join(_arch_summary(image) for image in filed.images)
        return filed, arches


def _arch_summary(image: Image) -> str:
    """The arch ("upper"), or why it was left for a person (a unit to convert, metadata vs shape)."""
    if image.category:
        return image.category.removeprefix("SCAN_").lower()
    reasons = (image.info.get("arch_detection") or {}).get("reasons") or []
    return f"arch unknown ({reasons[0]})" if reasons else "arch unknown"


def import_photos(runtime: Resources, directory: Path, patient: uuid.UUID) -> None:
    """Every photo under `directory` for one patient; duplicates are reported, not stored."""
    files = files_under(directory)
    with transaction(runtime.session_factory) as session:
        found = session.get(Patient, patient)
        if found is None:
            raise InvalidInput("No patient with this id.")
        submission = Submission(
            actor=SYSTEM,
            clinic_id=found.clinic_id,
            user_id=None,
            source=ImageSource.IMPORT,
            patient_id=found.id,
            skip_duplicates=True,
        )
    imported = duplicates = skipped = 0
    with _bar() as bar:
        task = bar.add_task("importing", total=len(files))
        for path in files:
            shown = path.relative_to(directory)
            try:
                filed, _ = _file_one(runtime, submission, path, path.name)
            except InvalidInput as exc:
                skipped += 1
                bar.console.print(f"[yellow]skipped[/] {shown}: {exc.detail}")
            else:
                if filed.duplicate_of:
                    duplicates += 1
                    bar.console.print(f"[cyan]duplicate[/] {shown} = image {filed.duplicate_of}")
                else:
                    imported += 1
            bar.advance(task)
    console.print(
        f"Imported {imported} photos; {duplicates} duplicates and {skipped} other files skipped."
    )


def _file_group(
    runtime: Resources, submission: Submission, group: ImportGroup, units: str | None = None
) -> tuple[Filed, str]:
    """A lone file as it is; a folder with an export XML packed as the scanner's ZIP it was."""
    if not group.is_bundle:
        return _file_one(runtime, submission, group.root, group.root.name, units)
    limits = IngestLimits.for_scans_up_to(runtime.settings.max_scan_upload_mb)
    bundle = pack_as_bundle(group.entries(), limits)
    return _file_bytes(runtime, submission, bundle, f"{group.root.name}.zip", units)


def import_scans(
    runtime: Resources,
    path: Path,
    patient: uuid.UUID | None,
    clinic: uuid.UUID | None,
    units: str | None = None,
) -> None:
    """Scan files, scanners' ZIPs or folders of them: one scan set per file, and one per folder
    that holds a scanner's export XML (`folders.py`). A scan the patient already has (same
    SHA-256) is reported and not stored again. `units` reads every scan in that unit instead of
    the one its file declares (the conversion an arch's size check offered)."""
    if units is not None and normalise_units(units) is None:
        raise InvalidInput(f"Unknown units '{units}'; use mm, cm, m, um or in.")
    files = files_under(path)
    if not files:
        raise InvalidInput("No files to import.")
    with transaction(runtime.session_factory) as session:
        found = session.get(Patient, patient) if patient else None
        if patient and found is None:
            raise InvalidInput("No patient with this id.")
        clinic_id = found.clinic_id if found else clinic
        if clinic_id is None or session.get(Clinic, clinic_id) is None:
            raise InvalidInput("Say which patient (--patient) or clinic (--clinic).")
    submission = Submission(
        actor=SYSTEM,
        clinic_id=clinic_id,
        user_id=None,
        source=ImageSource.IMPORT,
        patient_id=patient,
        takes=frozenset({FileType.SCAN_3D}),
        skip_duplicates=True,
    )
    groups = [ImportGroup(path, (path,))] if path.is_file() else group_for_import(path, files)
    imported = pending = skipped = duplicates = 0
    with _bar() as bar:
        task = bar.add_task("importing", total=len(groups))
        for group in groups:
            name = _shown(path, group)
            bar.update(task, description=f"importing {name}")
            try:
                filed, arches = _file_group(runtime, submission, group, units)
            except InvalidInput as exc:
                skipped += 1
                bar.console.print(f"[yellow]skipped[/] {name}: {exc.detail}")
            else:
                for source, earlier in filed.duplicates.items():
                    duplicates += 1
                    bar.console.print(f"[cyan]duplicate[/] {name} ({source}) = image {earlier}")
                if filed.pending:
                    pending += len(filed.pending)
                    bar.console.print(
                        f"[cyan]pending[/] {name}: no known patient; assign it in OrthoLens"
                    )
                elif filed.images:
                    imported += len(filed.images)
                    bar.console.print(f"[green]imported[/] {name}: {arches}")
            bar.advance(task)
    console.print(
        f"Imported {imported} arches; {pending} wait in the pending queue; "
        f"{duplicates} duplicates and {skipped} files skipped."
    )


def _shown(top: Path, group: ImportGroup) -> str:
    if top.is_file():
        return top.name
    relative = str(group.root.relative_to(top)) if group.root != top else top.name
    return f"{relative}/ (one scanner export)" if group.is_bundle else relative


def add_import_commands(
    app: typer.Typer,
    open_runtime: OpenRuntime,
    friendly: Callable[[Callable[..., None]], Callable[..., None]],
) -> None:
    """Add `photos` and `scans` to the CLI's `import` group."""

    @app.command("photos")
    @friendly
    def photos(
        directory: Annotated[
            Path, typer.Argument(exists=True, file_okay=False, help="Folder of photos.")
        ],
        patient: Annotated[uuid.UUID, typer.Option(help="The patient the photos belong to.")],
    ) -> None:
        """Import every photo under a folder for one patient (duplicates are reported, not stored)."""
        with open_runtime() as runtime:
            import_photos(runtime, directory, patient)

    @app.command("scans")
    @friendly
    def scans(
        path: Annotated[
            Path,
            typer.Argument(
                exists=True,
                help="A scan file, a scanner's ZIP or export folder, or a folder of them.",
            ),
        ],
        patient: Annotated[
            uuid.UUID | None,
            typer.Option(help="The patient; without it, the scanner's metadata must name one."),
        ] = None,
        clinic: Annotated[
            uuid.UUID | None, typer.Option(help="The clinic, when no --patient is given.")
        ] = None,
        units: Annotated[
            str | None,
            typer.Option(
                help="Read the scans in this unit (mm, cm, m, um, in) instead of the files' own, "
                "as an arch's size check suggests."
            ),
        ] = None,
    ) -> None:
        """Import intraoral scans (STL, PLY, OBJ, 3MF, 3Shape .dcm, ZIP): one scan set per file,
        and one per folder that holds a scanner's export XML.

        Scans whose metadata names no known patient go to the pending queue; a scan the patient
        already has is reported and skipped; web views and thumbnails are prepared by the worker
        afterwards.
        """
        with open_runtime() as runtime:
            import_scans(runtime, path, patient, clinic, units)
