"""The rooms of the code keep their doors (ARCHITECTURE.md): imports flow cli -> api -> service -> db and
never back, the domain imports nothing of HTTP or tokens ([tool.importlinter] in pyproject.toml), and
no code outside ``db.session`` opens a transaction of its own."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cli", "api", "service", "db")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=where, capture_output=True, text=True,
                          env={"PYTHONPATH": str(where), "PATH": "/usr/bin:/bin"}, timeout=120)


def test_the_import_contracts_are_kept() -> None:
    linted = _lint_imports(ROOT)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "0 broken" in linted.stdout


@pytest.mark.parametrize(("module", "planted"), [
    ("db/tables.py", "from service import codes"),  # the database layer reaching up into the domain
    ("service/codes.py", "import api.problems"),  # the domain reaching up into the HTTP edge
    ("api/deps.py", "import cli.main"),  # the edge reaching into the command line
    ("service/regions.py", "import fastapi"),  # the domain importing the web framework
    ("api/routes/health.py", "import jose"),  # a JWT library outside api.tokens
    ("api/problems.py", "from jose import jws"),  # JOSE anywhere in the edge but tokens and signed reports
])
def test_a_wrong_way_import_breaks_a_contract(tmp_path: Path, module: str, planted: str) -> None:
    """The contracts can fail: a copy of the code with one import the wrong way is refused."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(f"{planted}  # noqa\n" + target.read_text())
    linted = _lint_imports(tmp_path)
    assert linted.returncode != 0, linted.stdout
    assert "BROKEN" in linted.stdout


# Where a connection or session is opened and committed: the transaction helper and the
# request-free readers beside it. Readiness reads the migration table on a bare connection: it must
# answer when nothing else can.
_OPENS_TRANSACTIONS = {"db/session.py", "db/prepared.py", "service/operations.py"}


def _opened(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        # engine.connect(), session.begin(), session.commit(), Session(...); a callable a caller
        # hands over (``connect()``, made by the transaction helper) is not one of them.
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("commit", "begin", "connect"):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.func.attr}()")
        elif isinstance(node.func, ast.Name) and node.func.id == "Session":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} Session()")
    return found


def test_no_transaction_is_opened_or_committed_outside_the_transaction_helper() -> None:
    opened = [where for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
              if str(path.relative_to(ROOT)) not in _OPENS_TRANSACTIONS for where in _opened(path)]
    assert opened == []
