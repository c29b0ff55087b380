"""Reading what scanners write about a scan in free text: STL headers, PLY comments, XML values.

Only explicit words count. The arch (upper/lower/bite) is taken from scanner metadata, never from a
file name: callers pass header and XML text here, not names."""

from __future__ import annotations

import re
from datetime import datetime

from ortholens.processing.meshes.types import ArchType, ScannerType

_SCANNERS: tuple[tuple[re.Pattern[str], ScannerType, str], ...] = (
    (re.compile(r"\bi-?tero\b|align\s*tech|\borthocad\b", re.I), ScannerType.ITERO, "iTero"),
    (re.compile(r"3\s?shape|\btrios\b", re.I), ScannerType.THREESHAPE, "3Shape"),
    (re.compile(r"\bmedit\b", re.I), ScannerType.MEDIT, "Medit"),
    (re.compile(r"carestream|\bcs\s?3[67]\d\d\b", re.I), ScannerType.OTHER, "Carestream"),
    (
        re.compile(r"primescan|omnicam|\bcerec\b|dentsply", re.I),
        ScannerType.OTHER,
        "Dentsply Sirona",
    ),
    (re.compile(r"planmeca|emerald", re.I), ScannerType.OTHER, "Planmeca"),
)

# Order matters: "upper jaw" before "jaw"; bite words are checked first because bite registrations
# are often described as "bite (upper/lower)".
_ARCH_WORDS: tuple[tuple[re.Pattern[str], ArchType], ...] = (
    (re.compile(r"\b(bite|occlusion|interocclusal|buccal[\s_-]?bite|bite[\s_-]?registration)\b", re.I),
     ArchType.BITE),
    (re.compile(r"\b(upper([\s_-]?jaw)?|maxilla|maxillary|upperjaw)\b", re.I), ArchType.UPPER),
    (re.compile(r"\b(lower([\s_-]?jaw)?|mandible|mandibular|lowerjaw)\b", re.I), ArchType.LOWER),
)  # fmt: skip

_UNITS: dict[str, str] = {
    "mm": "mm", "millimeter": "mm", "millimeters": "mm", "millimetre": "mm", "millimetres": "mm",
    "cm": "cm", "centimeter": "cm", "centimeters": "cm",
    "m": "m", "meter": "m", "meters": "m", "metre": "m",
    "um": "um", "micron": "um", "microns": "um", "micrometer": "um",
    "in": "in", "inch": "in", "inches": "in",
    "ft": "ft", "foot": "ft", "feet": "ft",
}  # fmt: skip

# Millimetres per unit; `analysis` converts with it.
MM_PER_UNIT: dict[str, float] = {
    "mm": 1.0,
    "cm": 10.0,
    "m": 1000.0,
    "um": 0.001,
    "in": 25.4,
    "ft": 304.8,
}


# Vendors as they appear in identifiers (XML element names, namespaces, schema URLs), where words
# run together: `iTeroExport`, `http://www.aligntech.com/...`, `schemas.3shape.com`.
_SCANNER_IDENTIFIERS: tuple[tuple[re.Pattern[str], ScannerType, str], ...] = (
    (re.compile(r"itero|aligntech|align\.com|orthocad|cadent", re.I), ScannerType.ITERO, "iTero"),
    (re.compile(r"3shape|trios", re.I), ScannerType.THREESHAPE, "3Shape"),
    (re.compile(r"medit", re.I), ScannerType.MEDIT, "Medit"),
    (re.compile(r"carestream", re.I), ScannerType.OTHER, "Carestream"),
    (re.compile(r"sirona|dentsply|cerec", re.I), ScannerType.OTHER, "Dentsply Sirona"),
    (re.compile(r"planmeca", re.I), ScannerType.OTHER, "Planmeca"),
)


def scanner_from_identifier(text: str) -> tuple[ScannerType, str] | None:
    """The scanner that element names or namespace URIs name, with its display name, or None."""
    for pattern, scanner, label in _SCANNER_IDENTIFIERS:
        if pattern.search(text):
            return scanner, label
    return None


def scanner_from_text(text: str) -> tuple[ScannerType, str] | None:
    """The scanner a text names, with its display name, or None."""
    for pattern, scanner, label in _SCANNERS:
        if pattern.search(text):
            return scanner, label
    return None


def arch_from_text(text: str) -> ArchType | None:
    """The jaw a short metadata value names ("Upper", "Maxilla", "Bite"...), or None."""
    for pattern, arch in _ARCH_WORDS:
        if pattern.search(text.replace("_", " ")):
            return arch
    return None


def normalise_units(text: str) -> str | None:
    return _UNITS.get(text.strip().lower())


_DATE_FORMATS = (
    "%Y%m%d%H%M%S", "%Y%m%d_%H%M%S", "%Y%m%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y",
    "%d %b %Y %H:%M:%S", "%d %b %Y", "%b %d %Y %H:%M:%S", "%b %d, %Y %I:%M:%S %p", "%b %d, %Y",
    "%a, %d %b %Y %H:%M:%S", "%a %b %d %H:%M:%S %Y",
)  # fmt: skip


def parse_datetime(text: str) -> datetime | None:
    """ISO 8601 and the forms scanner software writes ("2026-03-04 10:20:00", "20260304",
    "3/4/2026 10:20:00 AM", "04.03.2026", "04 Mar 2026"); None when unreadable. Slashed dates are
    read month first, as US-made software writes them; dotted ones day first."""
    value = " ".join(text.strip().split())
    if not value or len(value) > 64:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None
