"""Opening ZIPs from strangers: entry count, unsafe paths, symlinks, encryption and zip bombs are
refused. Sizes are checked twice: as declared in the central directory (before reading anything)
and as actually produced while reading in bounded chunks, because headers can lie."""

from __future__ import annotations

import io
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO

from ortholens.kit.errors import InvalidInput, PayloadTooLarge
from ortholens.processing.meshes.types import MeshLimits

_CHUNK = 1 << 20
# Below this an entry's compression ratio is not a threat (a 10 kB XML can compress 300x).
_RATIO_FLOOR = 1 << 20
_JUNK = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$)", re.I)


def _check_path(info: zipfile.ZipInfo, name: str) -> None:
    path = info.filename
    unsafe = (
        path.startswith(("/", "\\"))
        or re.match(r"^[A-Za-z]:", path) is not None
        or ".." in re.split(r"[\\/]", path)
        or "\x00" in path
    )
    if unsafe:
        raise InvalidInput(f"'{name}' contains an entry with an unsafe path; it was not opened.")
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_ISLNK(mode):
        raise InvalidInput(f"'{name}' contains a symbolic link; it was not opened.")
    if info.flag_bits & 0x1:
        raise InvalidInput(f"'{name}' is password-protected; export it again without encryption.")


def checked_entries(
    archive: zipfile.ZipFile, name: str, limits: MeshLimits
) -> list[zipfile.ZipInfo]:
    """The file entries worth reading, after every check that the central directory allows."""
    infos = archive.infolist()
    if len(infos) > limits.max_zip_entries:
        raise InvalidInput(
            f"'{name}' has {len(infos):,} entries; at most {limits.max_zip_entries} are accepted."
        )
    declared = 0
    kept = []
    for info in infos:
        _check_path(info, name)
        if info.is_dir() or _JUNK.search(info.filename):
            continue
        if info.file_size > _RATIO_FLOOR and info.file_size > limits.max_zip_ratio * max(
            info.compress_size, 1
        ):
            raise PayloadTooLarge(f"'{name}' looks like a zip bomb: an entry expands more than "
                                  f"{limits.max_zip_ratio:.0f} times.")  # fmt: skip
        declared += info.file_size
        kept.append(info)
    if declared > limits.max_zip_total_bytes:
        raise PayloadTooLarge(
            f"'{name}' would expand to {declared / 1e6:,.0f} MB; at most "
            f"{limits.max_zip_total_bytes / 1e6:,.0f} MB are accepted."
        )
    return kept


class Budget:
    """The uncompressed bytes a whole import may still produce, shared by nested archives."""

    def __init__(self, limits: MeshLimits) -> None:
        self.remaining = limits.max_zip_total_bytes


def read_entry(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: MeshLimits, budget: Budget
) -> bytes:
    """The entry's bytes, read in chunks, never more than declared, the ratio or the budget allow."""
    cap = min(info.file_size, budget.remaining, limits.max_file_bytes)
    if info.file_size > cap:
        raise PayloadTooLarge(f"'{name}' holds more data than can be imported at once.")
    allowed_by_ratio = max(_RATIO_FLOOR, limits.max_zip_ratio * max(info.compress_size, 1))
    out = io.BytesIO()
    try:
        with archive.open(info) as stream:
            for chunk in _chunks(stream, cap + 1):
                out.write(chunk)
                size = out.tell()
                if size > cap or size > allowed_by_ratio:
                    raise PayloadTooLarge(f"'{name}' looks like a zip bomb: an entry produces more "
                                          "data than its header declares.")  # fmt: skip
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as error:
        # a wrong CRC or size, unknown compression, or corrupt deflate stream (zlib.error)
        raise InvalidInput(f"'{name}' is a damaged ZIP file.") from error
    if out.tell() != info.file_size:
        raise InvalidInput(f"'{name}' is a damaged ZIP file: an entry is shorter than declared.")
    budget.remaining -= out.tell()
    return out.getvalue()


def _chunks(stream: IO[bytes], limit: int) -> Iterator[bytes]:
    read = 0
    while read < limit:
        chunk = stream.read(min(_CHUNK, limit - read))
        if not chunk:
            return
        read += len(chunk)
        yield chunk


def open_zip(data: bytes, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise InvalidInput(f"'{name}' is not a readable ZIP file.") from error


def read_all(data: bytes, name: str, limits: MeshLimits, budget: Budget) -> dict[str, bytes]:
    """Every checked entry of a ZIP, by its path."""
    with open_zip(data, name) as archive:
        return {
            info.filename: read_entry(archive, info, name, limits, budget)
            for info in checked_entries(archive, name, limits)
        }
