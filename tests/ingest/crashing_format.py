"""A registered format whose reader segfaults, for the ingest isolation tests.

Its content test accepts only files that start with `MARKER`, so no other test's file is ever taken
for it. The reader is module level so the decoder pool's workers can import it by name.
"""

from __future__ import annotations

import ctypes

from ortholens.ingest import Format, IngestLimits, register_format
from ortholens.models import FileType

MARKER = b"OLTEST-CRASHING-MESH\n"  # then plain text, which no real mesh format takes


def read_and_crash(data: bytes, name: str, limits: IngestLimits) -> None:
    """Read address 0, as a native mesh decoder with a bad pointer would: SIGSEGV."""
    ctypes.string_at(0)


CRASHING_MESH = register_format(
    Format(
        name="test-crashing-mesh",
        label="3D scan (test format that crashes its reader)",
        file_type=FileType.SCAN_3D,
        matches=lambda head: head.startswith(MARKER),
        reader=read_and_crash,
        extension="bin",
        media_type="application/octet-stream",
        processor_job="intraoral.derive",
        max_bytes=lambda limits: limits.mesh.max_file_bytes,
        heavy=True,
    )
)
