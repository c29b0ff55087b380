"""Test modules share helpers through `tests.fixtures` and `tests.factories`, never by importing
another `test_*.py` module: such an import collects that module's fixtures a second time, hides
where a helper lives, and makes deleting one test break an unrelated one."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    """The dotted name of a file under `tests/` (`tests/web/test_x.py` -> `tests.web.test_x`)."""
    parts = path.relative_to(TESTS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_test_module(name: str) -> bool:
    parts = name.split(".")
    return parts[0] == "tests" and any(part.startswith("test_") for part in parts[1:])


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The module an `ImportFrom` names, with a relative import resolved against `package`."""
    if not node.level:
        return node.module or ""
    base = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of_test_modules(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """`line: name` for each import in `source` (the code of `module`) that loads a test module."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            origin = _absolute(node, package)
            # `from tests.web import test_x` names the test module among the imported names.
            names = (
                [origin] if _is_test_module(origin) else [f"{origin}.{a.name}" for a in node.names]
            )
        else:
            continue
        found.extend(f"{node.lineno}: {name}" for name in names if _is_test_module(name))
    return found


def test_no_module_of_the_suite_imports_a_test_module() -> None:
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{entry}"
        for path in sorted(TESTS.rglob("*.py"))
        for entry in imports_of_test_modules(
            path.read_text(encoding="utf-8"),
            module_name(path),
            is_package=path.name == "__init__.py",
        )
    ]
    assert offenders == [], (
        "move shared helpers to tests/fixtures/ and import them from there:\n"
        + ("\n".join(offenders))
    )


def test_the_check_sees_absolute_relative_and_package_imports() -> None:
    source = (
        "from tests.upload.test_upload_flow import jpeg, put\n"
        "from ..upload import test_ingest, conftest\n"
        "import tests.processing.test_quality\n"
        "from .test_gallery_pages import photos\n"
        "from . import test_auth_pages\n"
        "from tests.fixtures.photos import jpeg as fine\n"
        "from tests.conftest import make_settings\n"
        "import test_elsewhere\n"
    )
    assert imports_of_test_modules(source, "tests.web.probe") == [
        "1: tests.upload.test_upload_flow",
        "2: tests.upload.test_ingest",
        "3: tests.processing.test_quality",
        "4: tests.web.test_gallery_pages",
        "5: tests.web.test_auth_pages",
    ]
