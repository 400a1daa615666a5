"""Loaded by `make mutants` only (pyproject's [tool.mutmut] pytest_add_cli_args: -p tests.mutation_plugin).

mutmut runs pytest many times in one process (the stats run, the clean run), then once more in a
fork of it for every mutant. Three adjustments for that, none of which changes what a test checks:
- Hypothesis sees each test method called from a new class instance every run and would fail its
  differing-executors health check; and every mutant must meet the same examples as the clean
  run, so a verdict never depends on the draw or on what an earlier mutant left in the database.
- Every mutant's session would run the migrations again (a second or more): the first new SQLite
  database migrated in the process is the template, and each later new one is a copy of it.
- A mutant that a fast test kills should not wait for the slow ones: tests without a database
  run first, then the rest, each group fastest first by the durations mutmut recorded.
"""

import atexit
import json
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy.engine import make_url

from db import migrations
from db.session import ensure_sqlite_directory

settings.register_profile("mutants", derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.differing_executors])
settings.load_profile("mutants")

_migrate = migrations.upgrade
_template: Path | None = None


def _upgrade_from_template(url: str, revision: str = "head") -> None:
    global _template
    parsed = make_url(url)
    # Only a new file: an existing one (a test's downgrade and upgrade) is migrated for real.
    if parsed.get_backend_name() != "sqlite" or revision != "head" or not parsed.database \
            or Path(parsed.database).exists():
        _migrate(url, revision)
        return
    if _template is None:
        template = Path(tempfile.mkdtemp(prefix="registry-mutants-")) / "migrated.db"
        atexit.register(shutil.rmtree, template.parent, True)  # mutmut's forks leave by os._exit: not theirs
        _migrate(f"sqlite:///{template}")
        _template = template
    ensure_sqlite_directory(url)
    with sqlite3.connect(_template) as source, sqlite3.connect(parsed.database) as target:
        source.backup(target)


migrations.upgrade = _upgrade_from_template


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    stats = Path("mutmut-stats.json")
    durations = json.loads(stats.read_text())["duration_by_test"] if stats.exists() else {}
    items.sort(key=lambda item: ("db" in getattr(item, "fixturenames", ()), durations.get(item.nodeid, 0.0)))
