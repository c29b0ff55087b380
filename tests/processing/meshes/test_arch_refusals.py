"""Objects that are not dental arches get no confident arch: generated shapes of arch size and
numpy-stl's test models (in data/numpy_stl/ and objects/, with their licence), read through our
own readers as an import would."""

from __future__ import annotations

from pathlib import Path

import pytest

from ortholens.processing.meshes.arches import CONFIDENT, classify_arch
from ortholens.processing.meshes.readers import read_mesh_file
from tests.processing.meshes.non_dental import NON_DENTAL

HERE = Path(__file__).parent
FOLDERS = (HERE / "objects", HERE / "data" / "numpy_stl")
MODELS = sorted(
    str(path.relative_to(HERE))
    for folder in FOLDERS
    if folder.is_dir()
    for path in folder.iterdir()
    if path.suffix.lower() in {".stl", ".3mf"}
)


@pytest.mark.parametrize("name", list(NON_DENTAL))
def test_generated_non_dental_shapes_are_left_unset(name: str) -> None:
    guess = classify_arch(NON_DENTAL[name]())
    assert guess.arch is None or guess.confidence < CONFIDENT, guess.reasons
    assert guess.reasons  # the person sees why


@pytest.mark.parametrize("name", ["box", "sphere", "gear", "horseshoe", "bowl", "cubes on a U"])
def test_clearly_non_dental_shapes_get_no_arch_at_all(name: str) -> None:
    guess = classify_arch(NON_DENTAL[name]())
    assert guess.arch is None, guess.reasons
    assert guess.reasons[0].startswith("not")


@pytest.mark.parametrize("name", MODELS)
def test_numpy_stl_test_models_are_left_unset(name: str) -> None:
    for loaded in read_mesh_file(HERE / name, name):
        guess = classify_arch(loaded.mesh, loaded.scanner)
        assert guess.arch is None or guess.confidence < CONFIDENT, guess.reasons


def test_the_models_are_there() -> None:
    assert "objects/bwb.stl" in MODELS  # an aircraft of bite size: the hardest of them
    assert len(MODELS) >= 6  # the fixture folders were not emptied by accident
