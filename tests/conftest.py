"""Fixture strategy.

Every database test runs once per backend: SQLite (always, a temporary file) and PostgreSQL (when
``TEST_DATABASE_URL`` is set; ``make test`` starts a throwaway cluster and sets it). The schema is
built by the real Alembic migrations once per backend per run. Tests use the real app over HTTP
(``TestClient``) and real transactions that really commit; between tests every table is emptied
and the seed rows the migrations and defaults create are put back. Nothing of our own storage is
mocked.

With ``REQUIRE_POSTGRES=1`` (CI) a missing PostgreSQL fails the run instead of skipping.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlmodel import Session

from api.app import create_app
from api.settings import Settings
from db import migrations
from db.session import Database, open_database, transaction
from db.tables import metadata
from service import reference

# A fixed moment: 2026-06-15 10:00 China Standard Time.
FIXED_NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)


class MovableClock:
    """The service's clock, set by the test."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def _reset_postgres_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'registry.db'}"
    else:
        url = os.environ.get("TEST_DATABASE_URL", "")
        if not url:
            if os.environ.get("REQUIRE_POSTGRES") == "1":
                pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
            pytest.skip("TEST_DATABASE_URL not set: PostgreSQL tests skipped")
        _reset_postgres_schema(url)
    migrations.upgrade(url)
    return url


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.dispose()


def _empty_all_tables(database: Database) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with database.writer.begin() as conn:
        if database.is_sqlite:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
        else:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        # The migration's seed row: the event sequence starts again at 1.
        conn.execute(text("INSERT INTO event_counter (name, value) VALUES ('event', 0)"))


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def db(database: Database, clock: MovableClock) -> Database:
    """A migrated database with no data but the defaults (grade scheme, rule set)."""
    _empty_all_tables(database)
    with transaction(database) as session:
        reference.ensure_defaults(session, now=clock.now())
    return database


@pytest.fixture
def unit_of_work(db: Database) -> Callable[[], AbstractContextManager[Session]]:
    """``with unit_of_work() as session:`` runs a real transaction that commits at the end."""
    return lambda: transaction(db)


@pytest.fixture
def client(db: Database, database_url: str, clock: MovableClock) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url, access_log=False, environment="test"), clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
