"""Photo variants: a 300x300 WebP thumbnail and a 1600 px JPEG preview, from one decode.

    make_variants(bytes) -> PhotoVariants(thumbnail, preview, width, height, image_type, kept_metadata)

The original bytes are never touched (the caller stores them byte for byte). The photo is decoded
once, shrunk on load towards the preview size, turned upright (EXIF orientation), converted to sRGB;
the preview is encoded from that image and the thumbnail is cut from the preview. Variants carry no
metadata at all: no EXIF, XMP, GPS, maker notes or ICC profile (pixels with a non-sRGB profile are
converted to sRGB first, so untagged output displays correctly as sRGB).

Decoder per format, chosen by `bench/photo_variants.py` (one core): JPEG and HEIC with Pillow (draft
mode; pyvips' bundled libvips has no HEVC decoder), PNG, TIFF and WebP with pyvips.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image

from ortholens.processing.photo_decoders import Decoder, decode_with_pillow, decode_with_vips
from ortholens.processing.photo_metadata import KeptMetadata, kept_metadata
from ortholens.processing.photo_types import ImageType, PhotoLimits, detect_image_type

__all__ = [
    "DECODERS",
    "PREVIEW_LONG_EDGE",
    "THUMBNAIL_SIZE",
    "ImageType",
    "PhotoLimits",
    "PhotoVariants",
    "detect_image_type",
    "make_variants",
]

THUMBNAIL_SIZE = 300  # px, square (seed 004: "Sharp(300x300, webp)")
PREVIEW_LONG_EDGE = 1600  # px
THUMBNAIL_QUALITY = 80  # WebP
PREVIEW_QUALITY = 85  # JPEG

DECODERS: dict[ImageType, Decoder] = {
    ImageType.JPEG: decode_with_pillow,
    ImageType.HEIC: decode_with_pillow,
    ImageType.PNG: decode_with_vips,
    ImageType.TIFF: decode_with_vips,
    ImageType.WEBP: decode_with_vips,
}


@dataclass(frozen=True, slots=True)
class PhotoVariants:
    """The derived variants of one photo and what we learned about the original."""

    image_type: ImageType
    width: int  # upright original, px
    height: int
    thumbnail: bytes  # WebP, THUMBNAIL_SIZE x THUMBNAIL_SIZE, centre-cropped
    preview: bytes  # JPEG, long edge PREVIEW_LONG_EDGE or the original size if smaller
    preview_width: int
    preview_height: int
    kept_metadata: KeptMetadata = field(default_factory=dict)
    thumbnail_media_type: str = "image/webp"
    preview_media_type: str = "image/jpeg"


def make_variants(
    data: bytes, *, limits: PhotoLimits = PhotoLimits(), decoder: Decoder | None = None
) -> PhotoVariants:
    """Make the thumbnail and preview of a photo; refuse unknown types, bombs and damaged files."""
    limits.check_size(data)
    image_type = detect_image_type(data)
    decode = decoder or DECODERS[image_type]
    decoded = decode(data, image_type, limits, PREVIEW_LONG_EDGE)
    preview = decoded.image
    return PhotoVariants(
        image_type=image_type,
        width=decoded.width,
        height=decoded.height,
        thumbnail=_encode(make_square(preview, THUMBNAIL_SIZE), "WEBP", THUMBNAIL_QUALITY),
        preview=_encode(preview, "JPEG", PREVIEW_QUALITY),
        preview_width=preview.width,
        preview_height=preview.height,
        kept_metadata=kept_metadata(decoded.exif, decoded.orientation),
    )


def make_square(image: Image.Image, side: int) -> Image.Image:
    """Centre-crop to a square (cover) and resize to side x side px."""
    short = min(image.size)
    left, top = (image.width - short) // 2, (image.height - short) // 2
    square = image.crop((left, top, left + short, top + short))
    return square.resize((side, side), Image.Resampling.BICUBIC, reducing_gap=2.0)


def _encode(image: Image.Image, fmt: str, quality: int) -> bytes:
    # No exif=, icc_profile= or xmp= arguments and an empty info: the encoders write pixels only.
    image.info.clear()
    out = io.BytesIO()
    image.save(out, fmt, quality=quality)
    return out.getvalue()
