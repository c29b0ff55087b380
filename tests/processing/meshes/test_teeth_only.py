"""Teeth-only meshes (separate closed crowns, no gingiva or palate): one row is an upper or a lower
arch, two rows in occlusion are a bite; the real SJTU arches when ../shared/realdata is present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from ortholens.processing.meshes.arches import CONFIDENT, classify_arch
from ortholens.processing.meshes.synthetic_arches import make_teeth_arch
from ortholens.processing.meshes.teeth import find_dentition
from ortholens.processing.meshes.types import ArchType, ScannerMetadata

REALDATA = Path(__file__).resolve().parents[4] / "shared" / "realdata" / "sjtu-five-view"
needs_realdata = pytest.mark.skipif(
    not (REALDATA / "arch_upper_1.obj").is_file(),
    reason="../shared/realdata/sjtu-five-view (real teeth-only arches) is not on this machine",
)
SEEDS = (41, 42, 43, 44)


def _real(name: str) -> trimesh.Trimesh:
    mesh = trimesh.load(REALDATA / name, process=False)
    assert isinstance(mesh, trimesh.Trimesh)
    return mesh


@pytest.mark.parametrize("kind", list(ArchType))
def test_teeth_only_meshes_are_recognised_or_left_for_a_person(kind: ArchType) -> None:
    right = 0
    for seed in SEEDS:
        guess = classify_arch(make_teeth_arch(kind, seed, triangles=8_000))
        assert guess.reasons[0].startswith("teeth only"), guess.reasons
        if guess.confidence >= CONFIDENT:
            assert guess.arch is kind, (seed, guess.reasons)  # never confidently wrong
            right += 1
        else:  # incisors between the upper and lower sizes: a person decides
            assert "front crowns" in guess.reasons[1]
    assert right >= len(SEEDS) - 1


def test_a_bite_of_crowns_has_two_rows_and_one_row_is_no_bite() -> None:
    bite = make_teeth_arch(ArchType.BITE, 5, triangles=8_000)
    found = find_dentition(np.asarray(bite.vertices), np.asarray(bite.faces))
    assert found is not None and len(found.rows) == 2
    assert found.separation >= 0.5
    upper = make_teeth_arch(ArchType.UPPER, 5, triangles=8_000)
    single = find_dentition(np.asarray(upper.vertices), np.asarray(upper.faces))
    assert single is not None and len(single.rows) == 1


def test_crowns_in_a_straight_line_or_a_heap_are_no_arch() -> None:
    crowns = make_teeth_arch(ArchType.UPPER, 6, triangles=8_000)
    pieces = crowns.split(only_watertight=False)
    line = []
    for index, piece in enumerate(pieces):
        moved = piece.copy()
        moved.apply_translation(-moved.centroid + [index * 9.0, 0.0, 0.0])
        line.append(moved)
    guess = classify_arch(trimesh.util.concatenate(line))
    assert guess.arch is None or guess.confidence < CONFIDENT


@needs_realdata
@pytest.mark.parametrize(
    ("name", "kind"), [("arch_upper_1.obj", ArchType.UPPER), ("arch_lower_1.obj", ArchType.LOWER)]
)
def test_real_teeth_only_arches_are_right(name: str, kind: ArchType) -> None:
    guess = classify_arch(_real(name))
    assert guess.arch is kind, guess.reasons
    assert guess.confidence >= CONFIDENT
    assert guess.size is not None and guess.size.fits_arch


@needs_realdata
def test_real_arches_in_occlusion_are_a_bite_and_each_metadata_conflict_is_flagged() -> None:
    upper, lower = _real("arch_upper_1.obj"), _real("arch_lower_1.obj")
    # Both reconstructions share one frame centred on their occlusal planes: put the lower arch
    # a crown height below the upper one, as in occlusion.
    lower = lower.copy()
    normal = np.linalg.eigh(np.cov(np.asarray(lower.vertices).T))[1][:, 0]
    lower.apply_translation(-9.0 * normal)
    bite = classify_arch(trimesh.util.concatenate([upper, lower]))
    assert bite.arch is ArchType.BITE and bite.confidence >= CONFIDENT, bite.reasons
    conflict = classify_arch(_real("arch_lower_1.obj"), ScannerMetadata(arch=ArchType.UPPER))
    assert conflict.conflict and conflict.confidence < CONFIDENT


@needs_realdata
def test_real_arches_in_metres_name_the_unit() -> None:
    upper = _real("arch_upper_1.obj").copy()
    upper.apply_scale(0.001)
    guess = classify_arch(upper)
    assert guess.confidence < CONFIDENT
    assert guess.size is not None
    assert [s.unit for s in guess.size.suggestions] == ["m"]
