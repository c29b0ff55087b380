"""Is a mesh the size of a dental arch in the units its file claims, and if not, in which unit?

Scanners write millimetres, but meshes that went through CAD, printing or research tools arrive in
metres, inches or micrometres with nothing in the file to say so. The shape detector is scale-free,
so without this check a 0.07 mm object (a 70 mm arch written in metres) would be filed as an arch.

Plausible sizes, measured in the mesh's principal frame (widest extent = across the molars, depth =
incisors to the last molars, height = along the occlusal normal), from the literature on adult and
mixed dentitions:

- intermolar width (first molars) is about 45-62 mm maxillary and 40-56 mm mandibular, intercanine
  width 30-38 mm and 23-30 mm (Bishara et al. 1997, Am J Orthod Dentofacial Orthop 111:401;
  Moyers' growth standards). The outer width of a full arch adds the crowns' buccal halves and, on
  a full scan, the buccal gingiva: 40-80 mm. We accept 35-95 mm for an arch, 15-95 mm for a bite
  (a bite registration can be one buccal segment).
- arch depth (incisal point to the distal of the second molars) is about 35-50 mm; with the
  palate and gingiva 25-70 mm are accepted, 5-70 mm for a bite segment.
- height: crowns are 6-11 mm tall; a full scan with gingiva, the palatal vault or the floor of
  the mouth reaches 15-35 mm, and two arches in occlusion about twice a crown with gingiva. We
  accept 3-50 mm, and from 1 mm for a bite (a registration wafer is 1-6 mm thick).

A size outside these ranges that falls inside them in one of the usual other units is reported
with that unit and the factor to convert by; any other size is "not the size of a dental arch".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ortholens.processing.meshes.scanner_text import MM_PER_UNIT

# (low, high) in mm per principal extent: widest, second, along the occlusal normal.
ARCH_RANGES_MM = ((35.0, 95.0), (25.0, 70.0), (3.0, 50.0))
BITE_RANGES_MM = ((15.0, 95.0), (5.0, 70.0), (1.0, 50.0))
# Units a mesh is plausibly in by mistake, with the names used in messages.
OTHER_UNITS = {"mm": "millimetres", "m": "metres", "cm": "centimetres", "in": "inches", "um": "micrometres"}  # fmt: skip


@dataclass(frozen=True)
class UnitSuggestion:
    """A unit in which the mesh would be arch-sized, and the factor that converts it to mm."""

    unit: str
    factor: float  # multiply the file's coordinates by this to get millimetres

    def to_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "factor": self.factor}


@dataclass(frozen=True)
class SizeCheck:
    """Whether the mesh's extents fit a dental arch in the declared units, and what else might."""

    declared: str  # the units the file (or the default) says
    size_mm: tuple[float, float, float]  # principal extents converted from `declared`
    fits_arch: bool
    fits_bite: bool
    suggestions: tuple[UnitSuggestion, ...]  # other units in which it would be arch-sized

    @property
    def plausible(self) -> bool:
        return self.fits_arch or self.fits_bite

    def message(self) -> str:
        """One sentence for the user: what is wrong with the size, and the conversion if any."""
        width, depth, height = self.size_mm
        size = f"{_mm(width)} x {_mm(depth)} x {_mm(height)} mm"
        if self.plausible:
            return f"{size}, the size of a dental arch"
        if not self.suggestions:
            return (
                f"{size} in {OTHER_UNITS.get(self.declared, self.declared)}: not the size of a "
                f"dental arch (about {ARCH_RANGES_MM[0][0]:.0f}-{ARCH_RANGES_MM[0][1]:.0f} mm "
                "across) in any usual unit"
            )
        options = " or ".join(
            f"{OTHER_UNITS[s.unit]} (multiply by {s.factor:g} for mm)" for s in self.suggestions
        )
        return (
            f"{size} if read as {OTHER_UNITS.get(self.declared, self.declared)}, too "
            f"{'small' if width < ARCH_RANGES_MM[0][0] else 'large'} for a dental arch; "
            f"its size makes sense in {options}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "declared": self.declared,
            "size_mm": [round(x, 4) for x in self.size_mm],
            "plausible": self.plausible,
            "suggestions": [s.to_json() for s in self.suggestions],
            "message": self.message(),
        }


def _mm(value: float) -> str:
    return f"{value:.3g}" if value < 10 else f"{value:.0f}"


def _fits(size: tuple[float, float, float], ranges: tuple[tuple[float, float], ...]) -> bool:
    return all(low <= value <= high for value, (low, high) in zip(size, ranges, strict=True))


def check_size(extents: tuple[float, float, float], declared: str = "mm") -> SizeCheck:
    """Judge principal `extents` (widest first, in the file's `declared` units) against an arch.

    `declared` must be a key of `MM_PER_UNIT` (normalised units)."""
    scale = MM_PER_UNIT[declared]
    size_mm = (extents[0] * scale, extents[1] * scale, extents[2] * scale)
    fits_arch = _fits(size_mm, ARCH_RANGES_MM)
    fits_bite = _fits(size_mm, BITE_RANGES_MM)
    suggestions: tuple[UnitSuggestion, ...] = ()
    if not (fits_arch or fits_bite):
        found = []
        for unit in OTHER_UNITS:
            if unit == declared:
                continue
            factor = MM_PER_UNIT[unit]
            converted = (extents[0] * factor, extents[1] * factor, extents[2] * factor)
            if _fits(converted, ARCH_RANGES_MM):
                found.append(UnitSuggestion(unit, factor))
        suggestions = tuple(found)
    return SizeCheck(declared, size_mm, fits_arch, fits_bite, suggestions)
