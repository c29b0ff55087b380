"""All SQL lives in repositories, and only the transaction helpers commit (ARCHITECTURE.md, rule 1).

Outside a repository module (`*/repository.py`, `*_repository.py`) and the plumbing below the
domains (`ortholens/kit/`, `ortholens/migrations/`, `ortholens/models/`), a module may not import
statement builders from SQLAlchemy (`select`, `update`, `func`, `text`, loader options...) nor run a
statement with `.execute(...)`, `.scalars(...)` or `.scalar(...)`. It may import the `Session` and
`Engine` types and SQLAlchemy's errors, and use the unit of work (`add`, `get`, `delete`, `flush`).
Nobody but `ortholens/kit/` (and the migrations) calls `.commit()`: not services, not
repositories, not pages. The request (`SessionDep`) or the job wrapper commits; a separate unit of
work is `kit.db.transaction(...)`, and slow work in a request runs in
`kit.db.outside_transaction(session)`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ortholens"

# SQL and transaction control are theirs to use.
PLUMBING = ("ortholens/kit/", "ortholens/migrations/", "ortholens/models/")
MAY_COMMIT = ("ortholens/kit/", "ortholens/migrations/")

# What any module may import from SQLAlchemy (None: every name of that module).
ALLOWED_IMPORTS: dict[str, frozenset[str] | None] = {
    "sqlalchemy.orm": frozenset({"Session", "sessionmaker"}),
    "sqlalchemy.engine": frozenset({"Engine"}),
    "sqlalchemy.exc": None,
}
STATEMENT_RUNNERS = frozenset({"execute", "scalars", "scalar"})

MOVE_QUERY = (
    "move the query into the owning domain's repository.py (or a *_repository.py) and call "
    "that function here"
)
USE_HELPERS = (
    "only the request (SessionDep) or the job wrapper commits: use kit.db.transaction(factory) "
    "for a separate unit of work, or kit.db.outside_transaction(session) around slow work"
)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def is_repository(path: str) -> bool:
    """`repository.py` or `<something>_repository.py`, in any package."""
    name = path.rsplit("/", 1)[-1]
    return name == "repository.py" or name.endswith("_repository.py")


def _imports(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The SQLAlchemy names an import statement brings in that only repositories may use."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "sqlalchemy"]
    module = node.module or ""
    if node.level or module.split(".")[0] != "sqlalchemy":
        return []
    if module not in ALLOWED_IMPORTS:
        return [f"{module}.{a.name}" for a in node.names]
    allowed = ALLOWED_IMPORTS[module]
    return [
        f"{module}.{a.name}" for a in node.names if allowed is not None and a.name not in allowed
    ]


def sql_findings(source: str, path: str, *, may_query: bool, may_commit: bool) -> list[Finding]:
    """Where `source` builds or runs SQL (unless `may_query`) or commits (unless `may_commit`)."""
    found: list[Finding] = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not may_query:
            for name in _imports(node):
                found.append(Finding(path, node.lineno, f"imports `{name}`: {MOVE_QUERY}"))
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        method = node.func.attr
        if method in STATEMENT_RUNNERS and (node.args or node.keywords) and not may_query:
            found.append(
                Finding(path, node.lineno, f"runs a statement with `.{method}(...)`: {MOVE_QUERY}")
            )
        if method == "commit" and not node.args and not may_commit:
            found.append(Finding(path, node.lineno, f"calls `.commit()`: {USE_HELPERS}"))
    return found


def module_findings(path: Path) -> list[Finding]:
    """What the check finds in one module of the package, by the rules for where it lives."""
    relative = path.relative_to(ROOT).as_posix()
    may_query = is_repository(relative) or relative.startswith(PLUMBING)
    may_commit = relative.startswith(MAY_COMMIT)
    source = path.read_text(encoding="utf-8")
    return sql_findings(source, relative, may_query=may_query, may_commit=may_commit)


def package_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_sql_lives_in_repositories_and_only_the_transaction_helpers_commit() -> None:
    found = [str(finding) for path in package_modules() for finding in module_findings(path)]
    assert not found, "SQL or a commit outside its place:\n" + "\n".join(found)


def _check(source: str, *, may_query: bool = False, may_commit: bool = False) -> list[str]:
    findings = sql_findings(
        source, "ortholens/x/service.py", may_query=may_query, may_commit=may_commit
    )
    return [f.what.split(":")[0] for f in findings]


def test_statement_builders_imported_outside_a_repository_are_found() -> None:
    source = (
        "from sqlalchemy import func, select\n"
        "import sqlalchemy as sa\n"
        "from sqlalchemy.orm import Session, selectinload\n"
    )
    assert _check(source) == [
        "imports `sqlalchemy.func`",
        "imports `sqlalchemy.select`",
        "imports `sqlalchemy`",
        "imports `sqlalchemy.orm.selectinload`",
    ]


def test_the_session_and_engine_types_and_errors_may_be_imported_anywhere() -> None:
    source = (
        "from sqlalchemy.orm import Session, sessionmaker\n"
        "from sqlalchemy.engine import Engine\n"
        "from sqlalchemy.exc import IntegrityError\n"
        "import ortholens.image.repository\n"
    )
    assert _check(source) == []


def test_running_a_statement_is_found_but_reading_a_result_is_not() -> None:
    source = (
        "rows = session.scalars(query)\n"
        "n = db.scalar(statement=query)\n"
        "ctx.session.execute(delete_stmt)\n"
        "first = result.scalar()\n"
        "session.add(row); session.get(Row, 1); session.delete(row); session.flush()\n"
    )
    assert _check(source) == [
        "runs a statement with `.scalars(...)`",
        "runs a statement with `.scalar(...)`",
        "runs a statement with `.execute(...)`",
    ]


def test_a_commit_is_found_even_in_a_repository() -> None:
    source = "def save(db):\n    db.commit()\n"
    assert _check(source, may_query=True) == ["calls `.commit()`"]
    assert _check(source, may_query=True, may_commit=True) == []


def test_the_finding_names_the_file_the_line_and_what_to_do() -> None:
    (finding,) = sql_findings(
        "\n\nfrom sqlalchemy import select\n",
        "ortholens/web/x.py",
        may_query=False,
        may_commit=False,
    )
    assert str(finding).startswith(
        "ortholens/web/x.py:3: imports `sqlalchemy.select`: move the query"
    )
    assert "repository.py" in str(finding)


def test_repositories_are_recognised_by_their_file_name() -> None:
    assert is_repository("ortholens/notify/repository.py")
    assert is_repository("ortholens/intraoral/itero_repository.py")
    assert not is_repository("ortholens/web/repository_page.py")
