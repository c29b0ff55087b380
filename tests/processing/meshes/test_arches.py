"""Arch detection: geometry in any orientation and winding, held to an arch's size in the file's
units and cross-checked with the scanner's metadata."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from ortholens.processing.meshes.arches import CONFIDENT, ArchGuess, classify_arch
from ortholens.processing.meshes.synthetic_arches import make_arch
from ortholens.processing.meshes.types import ArchType, ScannerMetadata

SEEDS = (11, 12, 13)
TRIANGLES = 15_000


def _turned(mesh: trimesh.Trimesh, matrix: np.ndarray) -> trimesh.Trimesh:
    copy = mesh.copy()
    copy.apply_transform(matrix)
    return copy


def test_scanner_metadata_decides_when_the_shape_agrees() -> None:
    upper = make_arch(ArchType.UPPER, 1, triangles=TRIANGLES)
    guess = classify_arch(upper, ScannerMetadata(arch=ArchType.UPPER))
    assert guess.arch is ArchType.UPPER
    assert guess.confidence == 1.0
    assert guess.source == "scanner"
    assert not guess.conflict
    assert guess.geometry is not None and guess.geometry[0] is ArchType.UPPER
    assert "agrees" in guess.reasons[1]


def test_scanner_metadata_decides_when_the_shape_is_not_conclusive() -> None:
    # A thin, even plate of arch size: the shape names no jaw, so the scanner's word stands.
    plate = trimesh.creation.box((60.0, 45.0, 3.0)).subdivide().subdivide().subdivide()
    guess = classify_arch(plate, ScannerMetadata(arch=ArchType.LOWER))
    assert guess.arch is ArchType.LOWER
    assert guess.confidence == 1.0
    assert not guess.conflict


@pytest.mark.parametrize(
    ("shape", "named"),
    [
        (ArchType.BITE, ArchType.UPPER),
        (ArchType.LOWER, ArchType.UPPER),
        (ArchType.UPPER, ArchType.LOWER),
    ],
)
def test_metadata_that_clearly_disagrees_with_the_shape_is_left_for_a_person(
    shape: ArchType, named: ArchType
) -> None:
    mesh = make_arch(shape, 4, triangles=TRIANGLES)
    guess = classify_arch(mesh, ScannerMetadata(arch=named))
    assert guess.conflict
    assert guess.confidence < CONFIDENT  # neither side is trusted silently
    assert guess.arch is named  # shown as the scanner's word, unconfirmed
    assert guess.geometry is not None and guess.geometry[0] is shape
    headline = guess.reasons[0]
    assert named.value.lower() in headline and "a person should decide" in headline
    payload = guess.to_json()
    assert payload["conflict"] is True
    assert payload["geometry"]["arch"] == shape.value


def test_metadata_without_an_arch_falls_back_to_geometry() -> None:
    lower = make_arch(ArchType.LOWER, 2, triangles=TRIANGLES)
    guess = classify_arch(lower, ScannerMetadata(patient_ref="A-17"))
    assert guess.source == "geometry"
    assert guess.arch is ArchType.LOWER


@pytest.mark.parametrize("kind", list(ArchType))
@pytest.mark.parametrize("seed", SEEDS)
def test_each_kind_is_recognised_from_geometry(kind: ArchType, seed: int) -> None:
    guess = classify_arch(make_arch(kind, seed, triangles=TRIANGLES))
    assert guess.arch is kind, guess.reasons
    assert CONFIDENT <= guess.confidence <= 1.0
    assert guess.source == "geometry"


@pytest.mark.parametrize("kind", list(ArchType))
def test_upside_down_mirrored_and_moved_scans_keep_their_arch(kind: ArchType) -> None:
    mesh = make_arch(kind, 21, triangles=TRIANGLES)
    upside_down = trimesh.transformations.rotation_matrix(np.pi, [1.0, 0.0, 0.0])
    mirror = np.diag([-1.0, 1.0, 1.0, 1.0])  # faces keep their order: normals now point inwards
    moved = trimesh.transformations.translation_matrix([400.0, -90.0, 12.0])
    for matrix in (upside_down, mirror, moved):
        guess = classify_arch(_turned(mesh, matrix))
        assert guess.arch is kind, (matrix, guess.reasons)
        assert guess.confidence >= CONFIDENT


@pytest.mark.parametrize(
    ("factor", "unit"), [(1 / 25.4, "in"), (0.001, "m"), (1000.0, "um")], ids=["in", "m", "um"]
)
def test_an_arch_written_in_other_units_is_not_filed_but_the_unit_is_named(
    factor: float, unit: str
) -> None:
    mesh = _turned(make_arch(ArchType.UPPER, 21, triangles=TRIANGLES), np.diag([factor] * 3 + [1]))
    guess = classify_arch(mesh)
    assert guess.arch is ArchType.UPPER  # the shape is scale-free: kept as a hint
    assert guess.confidence < CONFIDENT
    assert guess.size is not None and not guess.size.plausible
    assert unit in [s.unit for s in guess.size.suggestions]
    assert "convert the units" in guess.reasons[0]
    # Read in the suggested unit, the same mesh is an arch again.
    again = classify_arch(mesh, ScannerMetadata(units=unit))
    assert again.arch is ArchType.UPPER and again.confidence >= CONFIDENT


def test_a_scanner_named_jaw_on_a_mesh_of_no_arch_size_is_not_filed() -> None:
    tiny = _turned(make_arch(ArchType.LOWER, 8, triangles=TRIANGLES), np.diag([0.001] * 3 + [1]))
    guess = classify_arch(tiny, ScannerMetadata(arch=ArchType.LOWER))
    assert guess.arch is ArchType.LOWER
    assert guess.confidence < CONFIDENT
    assert "metres" in guess.reasons[0]


def test_an_arch_shape_far_too_large_in_every_unit_is_no_arch() -> None:
    huge = _turned(make_arch(ArchType.LOWER, 9, triangles=TRIANGLES), np.diag([5.5] * 3 + [1]))
    guess = classify_arch(huge)  # about 300 mm: a tray, not an arch, in any usual unit
    assert guess.arch is None
    assert guess.reasons[0].startswith("not a dental arch")
    assert guess.geometry is not None and guess.geometry[0] is ArchType.LOWER


@pytest.mark.parametrize(
    "shape",
    [
        trimesh.creation.icosphere(subdivisions=4, radius=25.0),
        trimesh.creation.box((30.0, 30.0, 30.0)).subdivide().subdivide().subdivide(),
    ],
    ids=["sphere", "cube"],
)
def test_non_dental_shapes_are_not_confidently_an_arch(shape: trimesh.Trimesh) -> None:
    guess = classify_arch(shape)
    assert guess.arch is None or guess.confidence < CONFIDENT
    assert 0.0 <= guess.confidence <= 1.0


def test_too_few_faces_gives_no_guess() -> None:
    guess = classify_arch(trimesh.creation.box())
    assert guess.arch is None
    assert guess.confidence == 0.0


def test_guess_serialises_for_the_api() -> None:
    guess = classify_arch(make_arch(ArchType.UPPER, 3, triangles=TRIANGLES))
    payload = guess.to_json()
    assert payload["arch"] == "UPPER"
    assert payload["source"] == "geometry"
    assert 0.0 <= payload["confidence"] <= 1.0
    assert payload["reasons"] and all(isinstance(r, str) for r in payload["reasons"])
    assert ArchGuess(None, 0.0, "geometry").to_json()["arch"] is None


def test_generator_is_deterministic_open_and_randomly_placed() -> None:
    first = make_arch(ArchType.LOWER, 5, triangles=TRIANGLES)
    again = make_arch(ArchType.LOWER, 5, triangles=TRIANGLES)
    other = make_arch(ArchType.LOWER, 6, triangles=TRIANGLES)
    assert np.array_equal(first.vertices, again.vertices)
    assert np.array_equal(first.faces, again.faces)
    assert not first.is_watertight  # scans are open at the base
    assert not np.allclose(first.principal_inertia_vectors, other.principal_inertia_vectors)
    width = np.sort(first.extents)[-1]
    assert 40.0 < width < 90.0  # mm


def test_face_counts_do_not_reveal_the_kind() -> None:
    counts = {
        kind: [len(make_arch(kind, seed, triangles=8_000).faces) for seed in range(4)]
        for kind in ArchType
    }
    lows = [min(c) for c in counts.values()]
    highs = [max(c) for c in counts.values()]
    assert max(lows) < min(highs)  # the ranges overlap
