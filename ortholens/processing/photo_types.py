"""Photo file types told apart by their magic bytes, and the size limits every decoder enforces.

The type comes from the content only: a file name or a client's Content-Type is never trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ortholens.kit.errors import InvalidInput, PayloadTooLarge

# ISO-BMFF major brands of HEIF still images (ISO/IEC 23008-12) that carry HEVC or a HEIF mix.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})

UNSUPPORTED_TYPE = "This file is not a photo we can read (JPEG, PNG, HEIC, TIFF or WebP)."


class ImageType(StrEnum):
    """A photo format we decode."""

    JPEG = "jpeg"
    PNG = "png"
    HEIC = "heic"
    TIFF = "tiff"
    WEBP = "webp"

    @property
    def media_type(self) -> str:
        """The IANA media type of this format."""
        return _NAMES[self][0]

    @property
    def extension(self) -> str:
        """The file extension objects of this format are stored with."""
        return _NAMES[self][1]

    @property
    def other_media_types(self) -> tuple[str, ...]:
        """Media types clients also use for this format (HEIF for HEIC)."""
        return _NAMES[self][2:]


# The one table of photo formats: media type, extension, other media types clients send.
_NAMES = {
    ImageType.JPEG: ("image/jpeg", "jpg"),
    ImageType.PNG: ("image/png", "png"),
    ImageType.HEIC: ("image/heic", "heic", "image/heif"),
    ImageType.TIFF: ("image/tiff", "tiff"),
    ImageType.WEBP: ("image/webp", "webp"),
}


def detect_image_type(data: bytes) -> ImageType:
    """Tell the photo format from the first bytes of the file; refuse anything else."""
    if data[:3] == b"\xff\xd8\xff":
        return ImageType.JPEG
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return ImageType.PNG
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return ImageType.TIFF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageType.WEBP
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return ImageType.HEIC
    raise InvalidInput(UNSUPPORTED_TYPE)


@dataclass(frozen=True, slots=True)
class PhotoLimits:
    """What a photo may weigh before we refuse it: bytes on disk, decoded pixels, longest side."""

    max_bytes: int = 50 * 1024 * 1024
    max_pixels: int = 100_000_000
    max_side: int = 20_000

    def check_size(self, data: bytes) -> None:
        """Refuse empty files and files heavier than `max_bytes`."""
        if not data:
            raise InvalidInput("The file is empty. Please choose the photo again.")
        if len(data) > self.max_bytes:
            raise PayloadTooLarge(
                f"The photo is {len(data) / 1e6:.1f} MB; the limit is "
                f"{self.max_bytes / 1e6:.0f} MB. Export it at a smaller size and try again."
            )

    def check_dimensions(self, width: int, height: int) -> None:
        """Refuse header dimensions that are empty, absurd or would decode to too many pixels."""
        if width <= 0 or height <= 0:
            raise InvalidInput("The photo declares no pixels; the file is damaged.")
        if max(width, height) > self.max_side:
            raise InvalidInput(
                f"The photo is {width}x{height} pixels; no side may exceed {self.max_side} pixels. "
                "Resize it and try again."
            )
        if width * height > self.max_pixels:
            raise InvalidInput(too_many_pixels(width * height, self))


def too_many_pixels(pixels: int | None, limits: PhotoLimits) -> str:
    """The message for a photo (or decompression bomb) declaring more pixels than allowed."""
    size = f"{pixels / 1e6:.0f} megapixels" if pixels else "too many pixels"
    return (
        f"The photo declares {size}; the limit is {limits.max_pixels / 1e6:.0f} megapixels. "
        "Resize it and try again."
    )
