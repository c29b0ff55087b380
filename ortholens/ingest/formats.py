"""The formats that can enter the imaging record, told apart by their content (never the name).

Each `Format` says how to recognise it from the first bytes, how large it may be, which reader
turns its bytes into what the record needs, which `Image` kind it becomes, the extension and media
type of its stored original, and the job that derives its variants. Photos are listed here (from
`ImageType`, the one table of photo formats); a capability adds its own with `register_format`
from the module that owns the reader (the intraoral scan formats: `ortholens.intraoral.service`).

A reader is a module-level function `(data, name, limits) -> plain data`, so it can run in an
isolated worker process (`ortholens.kit.isolation`) with its arguments and result pickled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ortholens.kit.errors import InvalidInput
from ortholens.models import FileType
from ortholens.processing.meshes.sniff import is_zip
from ortholens.processing.meshes.types import MeshLimits
from ortholens.processing.photo_types import (
    UNSUPPORTED_TYPE,
    ImageType,
    PhotoLimits,
    detect_image_type,
)

__all__ = [
    "HEAD_BYTES",
    "Format",
    "IngestLimits",
    "detect_format",
    "formats_for",
    "is_zip",
    "photo_content_types",
    "photo_format",
    "read_photo",
    "register_format",
]

# Enough of a file to tell every format apart (mesh text headers need a few kilobytes).
HEAD_BYTES = 4096


@dataclass(frozen=True)
class IngestLimits:
    """What a file may weigh, per kind, and the limits each reader enforces while it parses."""

    photo: PhotoLimits = field(default_factory=PhotoLimits)
    mesh: MeshLimits = field(default_factory=MeshLimits)
    # The unit a person asked scans to be read in (a size check's suggested conversion, e.g.
    # "m"); None reads each file in the units it declares (mm when it says nothing).
    mesh_units: str | None = None

    @classmethod
    def for_scans_up_to(cls, max_scan_mb: int) -> IngestLimits:
        """The default limits with intraoral scan files capped at `max_scan_mb` megabytes."""
        return cls(mesh=MeshLimits(max_file_bytes=max_scan_mb * 1024 * 1024))


Reader = Callable[[bytes, str, IngestLimits], Any]


@dataclass(frozen=True)
class Format:
    """One format the record takes in (see the module docstring)."""

    name: str
    label: str  # shown in messages: "JPEG photo", "3D scan (STL)"
    file_type: FileType
    matches: Callable[[bytes], bool]  # from the head (or the whole file when it is at hand)
    reader: Reader
    extension: str
    media_type: str
    processor_job: str
    max_bytes: Callable[[IngestLimits], int]
    # True when the reader parses the whole file (meshes): such a file over the background size
    # is read by the `ingest.file` job, not in the request. Photos are only sniffed here.
    heavy: bool = False
    other_media_types: tuple[str, ...] = ()


_FORMATS: list[Format] = []


def register_format(fmt: Format) -> Format:
    """Add a format to the registry (a capability does this once, when its module is imported)."""
    if any(existing.name == fmt.name for existing in _FORMATS):
        raise ValueError(f"format {fmt.name!r} is registered twice")
    _FORMATS.append(fmt)
    return fmt


def detect_format(data: bytes) -> Format | None:
    """The first registered format whose content test accepts `data`, or None."""
    return next((fmt for fmt in _FORMATS if fmt.matches(data)), None)


def formats_for(file_type: FileType) -> list[Format]:
    """The registered formats that become images of `file_type`."""
    return [fmt for fmt in _FORMATS if fmt.file_type is file_type]


def format_named(name: str) -> Format:
    """The registered format called `name` (a job's argument)."""
    for fmt in _FORMATS:
        if fmt.name == name:
            return fmt
    raise InvalidInput(f"No file format called {name!r}.")


def read_photo(data: bytes, name: str, limits: IngestLimits) -> ImageType:
    """A photo's checked type; its pixels are decoded by the `image.process` job."""
    return detect_image_type(data[:64])


def _is(image_type: ImageType) -> Callable[[bytes], bool]:
    def matches(data: bytes) -> bool:
        try:
            return detect_image_type(data[:64]) is image_type
        except InvalidInput:
            return False

    return matches


_PHOTOS = {
    image_type: register_format(
        Format(
            name=image_type.value,
            label=f"{image_type.name} photo",
            file_type=FileType.PHOTO,
            matches=_is(image_type),
            reader=read_photo,
            extension=image_type.extension,
            media_type=image_type.media_type,
            processor_job="image.process",
            max_bytes=lambda limits: limits.photo.max_bytes,
            other_media_types=image_type.other_media_types,
        )
    )
    for image_type in ImageType
}


def photo_format(image_type: ImageType) -> Format:
    """The registry entry of a photo type."""
    return _PHOTOS[image_type]


def photo_content_types() -> dict[str, str]:
    """Media type a client may announce for a signed photo upload -> extension of its key."""
    table: dict[str, str] = {}
    for fmt in _PHOTOS.values():
        for media_type in (fmt.media_type, *fmt.other_media_types):
            table[media_type] = fmt.extension
    return table


def unsupported(file_types: frozenset[FileType]) -> str:
    """The refusal for content that is none of the formats an entry point takes."""
    if file_types == {FileType.PHOTO}:
        return UNSUPPORTED_TYPE
    labels = ", ".join(fmt.label for fmt in _FORMATS if fmt.file_type in file_types)
    return f"This file is not one we can read here ({labels})."
