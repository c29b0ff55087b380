"""Decode a photo once, shrunk on load towards a target long edge, upright, 8-bit sRGB.

Two decoders with one result, so `photos.py` picks per format whichever `bench/photo_variants.py`
measures faster: Pillow (JPEG draft mode = libjpeg DCT scaling; HEIC through pillow-heif) and
pyvips (`thumbnail_buffer`, shrink-on-load for WebP, libspng for PNG, libtiff for TIFF).
Both read the header first and refuse bombs before a single pixel is allocated.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pillow_heif
import pyvips
from PIL import Image, ImageCms

from ortholens.kit.errors import InvalidInput
from ortholens.processing.photo_metadata import parse_exif
from ortholens.processing.photo_types import ImageType, PhotoLimits, too_many_pixels

# libheif applies HEIF rotation/mirror (irot/imir) itself and resets the EXIF orientation to 1.
pillow_heif.register_heif_opener(thumbnails=False)

_PILLOW_FORMATS = {
    ImageType.JPEG: "JPEG",
    ImageType.PNG: "PNG",
    ImageType.HEIC: "HEIF",
    ImageType.TIFF: "TIFF",
    ImageType.WEBP: "WEBP",
}

# EXIF orientation (TIFF 6.0 tag 274) -> the transpose that makes the stored pixels upright.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def unreadable(image_type: ImageType) -> str:
    """The message for a damaged or truncated file of a recognised type."""
    return (
        f"This {image_type.name} file is damaged or incomplete and cannot be read. "
        "Upload the photo again, or export it again from the camera or phone."
    )


@dataclass(frozen=True, slots=True)
class Decoded:
    """An upright 8-bit RGB image no larger than the requested long edge, and facts about the original."""

    image: Image.Image
    width: int  # upright original, pixels
    height: int
    orientation: int  # EXIF orientation we applied, 1..8
    exif: Image.Exif


Decoder = Callable[[bytes, ImageType, PhotoLimits, int], Decoded]


def decode_with_pillow(
    data: bytes, image_type: ImageType, limits: PhotoLimits, long_edge: int
) -> Decoded:
    """Decode with Pillow, using JPEG draft mode (1/2, 1/4, 1/8 DCT scaling) to shrink on load."""
    try:
        # Pillow's own bomb check runs inside `open` (an error past 2x MAX_IMAGE_PIXELS, a
        # warning past it); our limit below is the rule, checked before any pixel is decoded.
        source = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[image_type]])
    except Image.DecompressionBombError:
        raise InvalidInput(too_many_pixels(None, limits)) from None
    except Exception as exc:
        raise InvalidInput(unreadable(image_type)) from exc
    stored_w, stored_h = source.size
    limits.check_dimensions(stored_w, stored_h)
    exif = source.getexif()
    orientation = _orientation(exif.get(0x0112))
    if image_type is ImageType.HEIC:
        orientation = 1  # already applied by libheif
    target = _fit(stored_w, stored_h, long_edge)
    try:
        if image_type is ImageType.JPEG and target != source.size:
            source.draft("RGB", target)
        source.load()
        icc = source.info.get("icc_profile")
        image = _to_rgb(source)
        if image.size != target:
            image = image.resize(target, Image.Resampling.BICUBIC, reducing_gap=2.0)
    except Exception as exc:
        raise InvalidInput(unreadable(image_type)) from exc
    image = _to_srgb(image, icc)
    if orientation in _UPRIGHT:
        image = image.transpose(_UPRIGHT[orientation])
    width, height = (stored_h, stored_w) if orientation >= 5 else (stored_w, stored_h)
    image.info.clear()
    return Decoded(image, width, height, orientation, exif)


def decode_with_vips(
    data: bytes, image_type: ImageType, limits: PhotoLimits, long_edge: int
) -> Decoded:
    """Decode with libvips `thumbnail`: shrink-on-load, auto-rotate, fail on truncated data."""
    try:
        header = pyvips.Image.new_from_buffer(data, "", access="sequential")
        stored_w, stored_h = header.width, header.height
    except pyvips.Error as exc:
        raise InvalidInput(unreadable(image_type)) from exc
    limits.check_dimensions(stored_w, stored_h)
    orientation = _orientation(_field(header, "orientation"))
    try:
        thumb = pyvips.Image.thumbnail_buffer(
            data, long_edge, height=long_edge, size="down", option_string="fail_on=truncated"
        )
        icc = _field(thumb, "icc-profile-data")
        if thumb.hasalpha():
            thumb = thumb.flatten(background=[255] * (thumb.bands - 1))
        if thumb.interpretation != "srgb" or thumb.format != "uchar":
            thumb = thumb.colourspace("srgb")
        if thumb.bands > 3:
            thumb = thumb.extract_band(0, n=3)
        thumb = thumb.cast("uchar")
        pixels = np.ndarray(
            buffer=thumb.write_to_memory(),
            dtype=np.uint8,
            shape=(thumb.height, thumb.width, thumb.bands),
        )
    except pyvips.Error as exc:
        raise InvalidInput(unreadable(image_type)) from exc
    image = _to_srgb(Image.fromarray(pixels, "RGB"), icc if isinstance(icc, bytes) else None)
    width, height = (stored_h, stored_w) if orientation >= 5 else (stored_w, stored_h)
    exif_blob = _field(header, "exif-data")
    exif = parse_exif(exif_blob if isinstance(exif_blob, bytes) else None)
    return Decoded(image, width, height, orientation, exif)


def _fit(width: int, height: int, long_edge: int) -> tuple[int, int]:
    """The size with the same aspect whose long edge is `long_edge`, never larger than the original."""
    scale = long_edge / max(width, height)
    if scale >= 1:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def _orientation(value: object) -> int:
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _field(image: pyvips.Image, name: str) -> object:
    return image.get(name) if image.get_typeof(name) else None


def _to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB: 16-bit scaled down, alpha flattened onto white, palettes and CMYK converted."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        array = np.asarray(image, dtype=np.float32)
        peak = 65535.0 if image.mode != "F" else max(float(array.max()), 1.0)
        grey = Image.fromarray(np.clip(array * (255.0 / peak), 0, 255).astype(np.uint8), "L")
        return grey.convert("RGB")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image if image.mode == "RGB" else image.convert("RGB")


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert pixels tagged with a non-sRGB ICC profile to sRGB, so the profile can be dropped."""
    if not icc:
        return image
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in ImageCms.getProfileDescription(profile).lower().replace(" ", ""):
            return image
        converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # an unusable profile: the pixels are taken as sRGB
    return converted if converted is not None else image
