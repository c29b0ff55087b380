"""A scanner's export that arrives as a folder (unzipped by the user, or sent as several files
from the browser) is read as the ZIP it came from: its files are packed, uncompressed, into one
ZIP that goes through the ingest pipeline as a scanner's bundle, so its XML names the jaws and
the patient, its OBJ finds its MTL and texture, and its images are kept as the set's renders. The
packed ZIP is what the record keeps as the export "as it arrived".

From the command line, a folder is a bundle when it directly holds an export XML (told by its
content, not its name); each file belongs to the deepest such folder above it, and files under no
such folder are imported one scan set each, as before.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ortholens.ingest.formats import HEAD_BYTES, IngestLimits
from ortholens.kit.errors import InvalidInput, PayloadTooLarge
from ortholens.processing.meshes.sniff import Sniffed, sniff

_UNSAFE = "A file of the folder has an unsafe path ({path!r}); nothing was imported."


def entry_path(name: str) -> str:
    """A sent file's relative path as a ZIP entry name; refuses absolute and `..` paths."""
    path = name.replace("\\", "/").strip()
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if not parts or path.startswith("/") or re.match(r"^[A-Za-z]:", path) or ".." in parts:
        raise InvalidInput(_UNSAFE.format(path=name[:200]))
    return "/".join(parts)


def _size(data: bytes | BinaryIO) -> int:
    if isinstance(data, bytes):
        return len(data)
    data.seek(0, 2)
    size = data.tell()
    data.seek(0)
    return size


def pack_as_bundle(entries: Sequence[tuple[str, bytes | BinaryIO]], limits: IngestLimits) -> bytes:
    """One uncompressed ZIP of `entries` (relative path, content), checked against the limits a
    scanner's ZIP meets before anything is packed."""
    if len(entries) > limits.mesh.max_zip_entries:
        raise InvalidInput(
            f"The folder has {len(entries):,} files; at most {limits.mesh.max_zip_entries} "
            "can be imported as one scanner export."
        )
    paths = [entry_path(name) for name, _ in entries]
    if len(set(paths)) != len(paths):
        raise InvalidInput("Two files of the folder have the same path; nothing was imported.")
    total = sum(_size(data) for _, data in entries)
    if total > limits.mesh.max_file_bytes:
        raise PayloadTooLarge(
            f"The folder holds {total / 1e6:,.0f} MB; at most "
            f"{limits.mesh.max_file_bytes / 1e6:,.0f} MB can be imported at once."
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for path, (_, data) in zip(paths, entries, strict=True):
            archive.writestr(path, data if isinstance(data, bytes) else data.read())
    return out.getvalue()


def bundle_name(names: Iterable[str]) -> str:
    """`folder.zip` for files that share a top folder, else `files.zip`."""
    tops = {entry_path(name).split("/", 1)[0] for name in names if "/" in name.replace("\\", "/")}
    return f"{tops.pop()}.zip" if len(tops) == 1 else "files.zip"


def strip_common_folder(names: Sequence[str]) -> list[str]:
    """Entry paths without the top folder every one of them shares (a browser's folder upload
    names each file `folder/...`)."""
    paths = [entry_path(name) for name in names]
    tops = {path.split("/", 1)[0] for path in paths}
    if len(tops) == 1 and all("/" in path for path in paths):
        return [path.split("/", 1)[1] for path in paths]
    return paths


def is_export_xml(path: Path) -> bool:
    """True for a file whose content is XML (a scanner's order or export file), whatever its name."""
    with path.open("rb") as file:
        return sniff(file.read(HEAD_BYTES)) is Sniffed.XML


@dataclass(frozen=True)
class ImportGroup:
    """What one `ortholens import scans` step files: a lone file, or a folder as one bundle."""

    root: Path  # the file itself, or the bundle's folder
    files: tuple[Path, ...]

    @property
    def is_bundle(self) -> bool:
        return self.root.is_dir()

    def entries(self) -> list[tuple[str, bytes]]:
        """The bundle's files by their path below its folder."""
        return [
            (posixpath.join(*f.relative_to(self.root).parts), f.read_bytes()) for f in self.files
        ]


def group_for_import(top: Path, files: Sequence[Path]) -> list[ImportGroup]:
    """Files under `top` as import steps (see the module docstring), in a stable order."""
    roots = {f.parent for f in files if is_export_xml(f)}
    grouped: dict[Path, list[Path]] = {}
    for file in files:
        owner = next(
            (
                p
                for p in (file.parent, *file.parent.parents)
                if p in roots and p.is_relative_to(top)
            ),
            None,
        )
        grouped.setdefault(owner or file, []).append(file)
    return [ImportGroup(root, tuple(members)) for root, members in sorted(grouped.items())]
