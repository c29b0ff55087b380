"""One uploaded scan file, from the API or a staff page, into the scan record.

Both callers hand the file to the ingest pipeline with the same size rules and the same split:
a small file is read (in the isolated decoder pool, so a reader that crashes or hangs fails this
request and not the server) and filed in the request, a larger one (over `scan_background_mb`) is
only streamed to the store and filed by the `ingest.file` job, so a file is treated the same
whichever way it came in.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence
from typing import BinaryIO, Protocol

from sqlalchemy.orm import Session

from ortholens.ingest import Filed, Incoming, IngestLimits, ingest
from ortholens.ingest.folders import bundle_name, pack_as_bundle, strip_common_folder
from ortholens.ingest.pipeline import ParseRunner
from ortholens.intraoral import service
from ortholens.kit.errors import InvalidInput
from ortholens.kit.storage import ObjectStore
from ortholens.models import Patient
from ortholens.processing.meshes.scanner_text import normalise_units
from ortholens.settings import Settings


def import_upload(
    db: Session,
    store: ObjectStore,
    settings: Settings,
    importer: service.Importer,
    *,
    file: BinaryIO,
    name: str,
    patient: Patient | None,
    parse: ParseRunner,
    units: str | None = None,
) -> Filed:
    """Import `file` (called `name`) for `patient`, or for whom the scanner's metadata names; in
    `units` instead of the file's own when the uploader asks (an arch's size check suggestion).

    Refuses an empty file (InvalidInput) or one over `max_scan_upload_mb` (PayloadTooLarge); a file
    over `scan_background_mb` is stored and left to the `ingest.file` job (`Filed.job_id`).
    """
    submission = importer.submission(
        patient.id if patient else None,
        background_over=settings.scan_background_mb * 1024 * 1024,
    )
    limits = IngestLimits.for_scans_up_to(settings.max_scan_upload_mb)
    if units is not None and normalise_units(units) is None:
        raise InvalidInput(f"Unknown units '{units}'; use mm, cm, m, um or in.")
    limits = dataclasses.replace(limits, mesh_units=units)
    item = Incoming(name or "scan", data=file)
    (filed,) = ingest(db, store, submission, [item], limits, parse=parse)
    return filed


class SentFile(Protocol):
    """A file part of a form (Starlette's `UploadFile` fits)."""

    filename: str | None
    file: BinaryIO


def chosen_files(parts: Sequence[SentFile]) -> list[tuple[str, BinaryIO]]:
    """The files a form really sent: an unused file input still sends an empty, unnamed part."""
    chosen = []
    for part in parts:
        part.file.seek(0, 2)
        size = part.file.tell()
        part.file.seek(0)
        if part.filename or size:
            chosen.append((part.filename or "", part.file))
    return chosen


def import_files(
    db: Session,
    store: ObjectStore,
    settings: Settings,
    importer: service.Importer,
    *,
    files: Sequence[tuple[str, BinaryIO]],
    patient: Patient | None,
    parse: ParseRunner,
    units: str | None = None,
) -> Filed:
    """Import one file, or several sent together (a folder chosen in the browser): those are
    packed as the scanner's ZIP they came from and imported as one scan set (`ingest.folders`).
    `units`: see `import_upload`."""
    if len(files) == 1:
        name, file = files[0]
        return import_upload(
            db,
            store,
            settings,
            importer,
            file=file,
            name=name,
            patient=patient,
            parse=parse,
            units=units,
        )
    if not files:
        raise InvalidInput("Choose a scan file, a scanner's ZIP or its export folder.")
    limits = IngestLimits.for_scans_up_to(settings.max_scan_upload_mb)
    names = [name or f"file-{index}" for index, (name, _) in enumerate(files, start=1)]
    paths = strip_common_folder(names)
    bundle = pack_as_bundle(
        [(path, file) for path, (_, file) in zip(paths, files, strict=True)], limits
    )
    return import_upload(
        db,
        store,
        settings,
        importer,
        file=io.BytesIO(bundle),
        name=bundle_name(names),
        units=units,
        patient=patient,
        parse=parse,
    )
