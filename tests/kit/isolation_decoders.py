"""Decoders that misbehave on purpose, for the isolation tests (module level, so workers import them)."""

from __future__ import annotations

import ctypes
import os
import time

from ortholens.image.tasks import DerivedPhoto, derive_photo
from ortholens.intraoral.tasks import ScanViews, derive_scan_views
from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.types import MeshLimits


def echo(data: bytes) -> dict[str, object]:
    """A well-behaved decoder: what it was given and which process it ran in."""
    return {"length": len(data), "pid": os.getpid()}


def segfault(data: bytes) -> None:
    """Read address 0, as a native decoder with a bad pointer would: SIGSEGV."""
    ctypes.string_at(0)


def abort(data: bytes) -> None:
    """Abort the process (SIGABRT), as a C library's failed assertion does."""
    os.abort()


def hang(data: bytes) -> None:
    """Never finish in time (a decoder stuck in a loop)."""
    time.sleep(3600)


def allocate_2gb(data: bytes) -> int:
    """Ask for 2 GB at once, as a decoder believing a forged header would."""
    block = bytearray(2 * 1024 * 1024 * 1024)
    return len(block)


def refuse(data: bytes) -> None:
    """Refuse the input the ordinary way: the caller must see our own error, not DecoderFailed."""
    raise InvalidInput("This is not a photo.", field="file")


class _Unpicklable(Exception):
    def __init__(self, first: str, second: str) -> None:
        super().__init__(first)
        self.second = second


def raise_unpicklable(data: bytes) -> None:
    """A library bug whose exception class cannot be rebuilt from its args."""
    raise _Unpicklable("two", "arguments")


def library_error(data: bytes) -> None:
    """Fail the way a library bug does (not a refusal of the file): the job retries, then gives up."""
    raise RuntimeError("decoder crashed")


# Bytes a hostile file carries in these tests; the real steps never look for it.
CRASH_MARKER = b"ORTHOLENS-TEST-CRASH"


def photo_step_crashing_on_marker(data: bytes) -> DerivedPhoto:
    """`image.process`'s real photo step, except that it segfaults on a file with CRASH_MARKER."""
    if CRASH_MARKER in data:
        ctypes.string_at(0)
    return derive_photo(data)


def scan_step_crashing_on_marker(data: bytes, name: str, limits: MeshLimits) -> ScanViews:
    """`intraoral.derive`'s real scan-views step, except that it segfaults on CRASH_MARKER."""
    if CRASH_MARKER in data:
        ctypes.string_at(0)
    return derive_scan_views(data, name, limits)
