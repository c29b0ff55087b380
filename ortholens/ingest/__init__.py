"""The ingest pipeline: one way for every file into the imaging record (see `pipeline.py`).

Formats are chosen from a registry by content (`formats.py`); each kind of image has a filer
(photos here in `photos.py`, intraoral scans registered by `ortholens.intraoral.service`).
"""

from ortholens.ingest import photos  # noqa: F401  (importing it registers the photo filer)
from ortholens.ingest.formats import Format, IngestLimits, detect_format, is_zip, register_format
from ortholens.ingest.pipeline import (
    INGEST_JOB,
    INGEST_JOBS,
    Filed,
    Incoming,
    Prepared,
    Submission,
    file,
    ingest,
    prepare,
    register_filer,
)

__all__ = [
    "INGEST_JOB",
    "INGEST_JOBS",
    "Filed",
    "Format",
    "Incoming",
    "IngestLimits",
    "Prepared",
    "Submission",
    "detect_format",
    "file",
    "ingest",
    "is_zip",
    "prepare",
    "register_filer",
    "register_format",
]
