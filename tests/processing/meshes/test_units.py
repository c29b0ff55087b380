"""Size of a dental arch: the declared units, and the unit a wrongly sized mesh would make sense in."""

from __future__ import annotations

import pytest

from ortholens.intraoral.arches_in import read_arches
from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.synthetic_arches import make_arch
from ortholens.processing.meshes.types import ArchType, MeshLimits
from ortholens.processing.meshes.units import check_size
from tests.processing.meshes.mesh_files import binary_stl


def test_an_arch_in_millimetres_is_plausible() -> None:
    check = check_size((62.0, 48.0, 18.0), "mm")
    assert check.fits_arch and check.plausible
    assert check.suggestions == ()
    assert "the size of a dental arch" in check.message()


@pytest.mark.parametrize(
    ("extents", "unit", "factor"),
    [
        ((0.062, 0.048, 0.018), "m", 1000.0),
        ((62_000.0, 48_000.0, 18_000.0), "um", 0.001),
        ((2.44, 1.89, 0.71), "in", 25.4),
    ],
    ids=["metres", "micrometres", "inches"],
)
def test_a_mesh_in_another_unit_names_that_unit_and_its_factor(
    extents: tuple[float, float, float], unit: str, factor: float
) -> None:
    check = check_size(extents, "mm")
    assert not check.plausible
    assert [(s.unit, s.factor) for s in check.suggestions] == [(unit, factor)]
    message = check.message()
    assert f"multiply by {factor:g}" in message
    assert "too small" in message or "too large" in message


def test_a_size_that_fits_two_units_offers_both() -> None:
    check = check_size((3.5, 2.6, 0.9), "mm")  # 35 x 26 x 9 mm in cm, 89 x 66 x 23 mm in inches
    assert {s.unit for s in check.suggestions} == {"cm", "in"}


@pytest.mark.parametrize("extents", [(355.0, 240.0, 30.0), (0.007, 0.005, 0.002)])
def test_no_arch_size_in_any_usual_unit_says_so(extents: tuple[float, float, float]) -> None:
    check = check_size(extents, "mm")
    assert not check.plausible and check.suggestions == ()
    assert "not the size of a dental arch" in check.message()


def test_declared_units_are_applied_before_judging() -> None:
    assert check_size((2.44, 1.89, 0.71), "in").fits_arch
    inches_but_mm = check_size((62.0, 48.0, 18.0), "in")  # a file that says inches wrongly
    assert not inches_but_mm.plausible
    assert [s.unit for s in inches_but_mm.suggestions] == ["mm"]


def test_a_thin_bite_wafer_fits_a_bite_but_not_an_arch() -> None:
    check = check_size((60.0, 25.0, 2.0), "mm")
    assert check.fits_bite and not check.fits_arch


def test_import_reports_the_unit_and_applies_it_on_request() -> None:
    in_metres = make_arch(ArchType.LOWER, 31, triangles=12_000)
    in_metres.apply_scale(0.001)
    data = binary_stl(in_metres)
    (arch,) = read_arches(data, "lower.stl", MeshLimits())
    assert arch.arch is None  # never filed as a 0.06 mm "arch"
    detection = arch.info()["arch_detection"]
    assert detection["size"]["suggestions"] == [{"unit": "m", "factor": 1000.0}]
    assert "metres" in detection["reasons"][0]

    (converted,) = read_arches(data, "lower.stl", MeshLimits(), units="m")
    assert converted.arch == "LOWER"
    assert converted.metrics.units == "m"
    assert 35.0 < max(converted.metrics.bbox_size_mm) < 95.0
    assert converted.original == data  # the scanner's bytes are kept as they came
    with pytest.raises(InvalidInput, match="Unknown units"):
        read_arches(data, "lower.stl", MeshLimits(), units="furlongs")
