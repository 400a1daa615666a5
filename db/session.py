"""Engines and transactions for SQLite (embedded default) and PostgreSQL.

Two engines on one URL: writes go through ``writer`` (on SQLite every transaction starts with
``BEGIN IMMEDIATE``, so a read-then-write cannot interleave with another writer and lose an
update); reads go through ``reader`` (plain deferred ``BEGIN`` on SQLite, autocommit on PostgreSQL
so a lookup costs one round trip instead of three).
"""

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from db import prepared
from db.prepared import DriverConnection

SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    # FULL syncs the WAL on every commit: an acknowledged write survives power loss, not only a crash.
    "synchronous=FULL",
    "busy_timeout=30000",
    "foreign_keys=ON",
    "journal_size_limit=67108864",
)


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# JSON columns (record details, versions) are written by every bulk line and parsed by every public
# lookup; orjson does both several times faster than json. Its text is compact UTF-8 where json
# wrote ASCII escapes with spaces: the same values, so rows written before read the same.
JSON_CODEC: dict[str, Any] = {"json_serializer": _json_text, "json_deserializer": orjson.loads}

# FastAPI runs sync routes on a 40-thread pool; a smaller connection pool deadlocks under load
# (fastapi/fastapi#3205), so the pool can hand every thread a connection.
POOL_SIZE = 20
MAX_OVERFLOW = 20


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def ensure_sqlite_directory(url: str) -> bool:
    """Create the folder of a SQLite file; returns False for an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return False
    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return True


def _sqlite_engine(url: str, *, begin: str) -> Engine:
    in_memory = not ensure_sqlite_directory(url)
    # An in-memory database lives in one connection, so it gets SQLAlchemy's single-connection pool.
    pool_args = {} if in_memory else {"pool_size": POOL_SIZE, "max_overflow": MAX_OVERFLOW}
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **JSON_CODEC,
                           **pool_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # Stop pysqlite's implicit, late BEGIN; the "begin" hook below emits our own.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine


def _postgres_engine(url: str, *, autocommit: bool) -> Engine:
    options = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    return create_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_pre_ping=True,
        **JSON_CODEC,
        # A statement that runs away is cancelled instead of holding a connection forever.
        connect_args={"options": "-c statement_timeout=30000"},
        **options,
    )


@dataclass(frozen=True)
class Database:
    url: str
    writer: Engine
    reader: Engine

    @property
    def is_sqlite(self) -> bool:
        return self.writer.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.writer.dispose()
        self.reader.dispose()


def open_database(url: str) -> Database:
    if is_sqlite(url):
        return Database(
            url,
            writer=_sqlite_engine(url, begin="BEGIN IMMEDIATE"),
            reader=_sqlite_engine(url, begin="BEGIN"),
        )
    return Database(
        url,
        writer=_postgres_engine(url, autocommit=False),
        reader=_postgres_engine(url, autocommit=True),
    )


@contextmanager
def transaction(database: Database) -> Iterator[Session]:
    """One unit of work: commit when the block ends normally, roll back when it raises.

    Callers (services) only ``flush()``; the commit happens here, before the caller acknowledges.
    """
    with Session(database.writer, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def reading(database: Database) -> Iterator[Connection]:
    """A read-only connection; on SQLite one consistent snapshot for the block."""
    with database.reader.connect() as conn, conn.begin():
        yield conn


def driver_reading(database: Database) -> AbstractContextManager[DriverConnection]:
    """A read connection for ``db.prepared`` statements only: the pool's connection without
    SQLAlchemy's connection wrapper (one consistent snapshot on SQLite, as ``reading``)."""
    return prepared.driver_reading(database.reader, snapshot="BEGIN" if database.is_sqlite else None)


def ping(database: Database) -> None:
    with database.reader.connect() as conn:
        conn.execute(text("SELECT 1"))
