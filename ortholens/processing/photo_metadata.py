"""The few EXIF fields worth keeping in the imaging record.

Kept: capture time and exposure settings (useful to compare photos over a treatment). Not kept:
camera make, model, serial numbers, software, GPS and anything else that identifies a device or a
place. The derived variants carry no metadata at all; this dict is the only thing that survives.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from PIL import ExifTags, Image

KeptMetadata = dict[str, str | int | float]

_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_EXPOSURE_TIME = 0x829A
_F_NUMBER = 0x829D
_ISO = 0x8827
_FOCAL_LENGTH = 0x920A


def parse_exif(blob: bytes | None) -> Image.Exif:
    """Parse a raw EXIF block (with or without the `Exif\\0\\0` prefix); damaged blocks give empty."""
    exif = Image.Exif()
    if blob:
        try:
            exif.load(blob)
        except Exception:  # a damaged EXIF block must not fail the photo
            return Image.Exif()
    return exif


def kept_metadata(exif: Image.Exif, orientation_applied: int) -> KeptMetadata:
    """Capture time (ISO 8601, camera local time) and exposure settings, plus the orientation we applied."""
    kept: KeptMetadata = {"orientation_applied": orientation_applied}
    try:
        ifd = exif.get_ifd(ExifTags.IFD.Exif)
    except Exception:
        return kept
    captured = _captured_at(ifd.get(_DATETIME_ORIGINAL), ifd.get(_OFFSET_TIME_ORIGINAL))
    if captured:
        kept["captured_at"] = captured
    for tag, key in (
        (_EXPOSURE_TIME, "exposure_time_s"),
        (_F_NUMBER, "f_number"),
        (_FOCAL_LENGTH, "focal_length_mm"),
    ):
        value = _number(ifd.get(tag))
        if value is not None and value > 0:
            kept[key] = round(value, 6)
    iso = _number(ifd.get(_ISO))
    if iso is not None and iso > 0:
        kept["iso"] = int(iso)
    return kept


def _captured_at(value: Any, offset: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.strptime(value.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    text = moment.isoformat()
    if isinstance(offset, str) and len(offset.strip("\x00 ")) == 6:
        text += offset.strip("\x00 ")
    return text


def _number(value: Any) -> float | None:
    if isinstance(value, tuple) and value:
        value = value[0]
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return None if math.isnan(number) else number  # NaN from a 0/0 rational
