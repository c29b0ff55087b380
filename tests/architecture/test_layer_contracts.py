"""The import contracts of pyproject.toml (`lint-imports`, run by ./test) hold on the tree, and each
one really fails when an import that breaks it is planted in a scratch copy of the package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# contract id -> (module file to plant in, the line that breaks the contract)
PLANTED = {
    "layers": ("http/deps.py", "from ortholens import runtime  # planted: an upward import\n"),
    "acyclic": ("image/repository.py", "import ortholens.review.service  # planted: a cycle\n"),
    "no-web-below-endpoints": ("patient/service.py", "import fastapi  # planted\n"),
    "pure-processing": ("processing/photos.py", "import ortholens.kit.db  # planted\n"),
}


def lint_imports(package_parent: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    args = [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")]
    for contract in contracts:
        args += ["--contract", contract]
    # The copy comes first on the path, ahead of the editable install of the real tree.
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        args, check=False, cwd=package_parent, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def scratch_copy(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "ortholens", tmp_path / "ortholens", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


def test_the_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_every_contract_has_a_planted_violation() -> None:
    config = (ROOT / "pyproject.toml").read_text()
    declared = {line.split('"')[1] for line in config.splitlines() if line.startswith("id = ")}
    assert declared == set(PLANTED)


@pytest.mark.parametrize("contract", sorted(PLANTED))
def test_a_planted_import_breaks_the_contract(scratch_copy: Path, contract: str) -> None:
    module, line = PLANTED[contract]
    target = scratch_copy / "ortholens" / module
    text = target.read_text()
    anchor = text.index("\nfrom ", text.index("from __future__")) + 1  # after the docstring
    target.write_text(text[:anchor] + line + text[anchor:])
    result = lint_imports(scratch_copy, contract)
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout
    # The real tree keeps every contract (above), so a break can only come from the planted line.
    assert module.split("/")[0] in result.stdout
