"""Engines and transactions for SQLite (embedded default) and PostgreSQL.

Two engines on one URL: writes go through ``writer`` (on SQLite every transaction starts with
``BEGIN IMMEDIATE``, so a read-then-write cannot interleave with another writer and lose an
update); reads go through ``reader`` (plain deferred ``BEGIN`` on SQLite, autocommit on PostgreSQL
so a lookup costs one round trip instead of three).
"""

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

from db import prepared
from db.prepared import DriverConnection, driver_connection_of
from db.sealing import Sealer

T = TypeVar("T")

SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    # FULL syncs the WAL on every commit: an acknowledged write survives power loss, not only a crash.
    "synchronous=FULL",
    "foreign_keys=ON",
    "journal_size_limit=67108864",
)


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# JSON columns (record details, versions) are written by every bulk line and parsed by every public
# lookup; orjson does both several times faster than json. Its text is compact UTF-8 where json
# wrote ASCII escapes with spaces: the same values, so rows written before read the same.
JSON_CODEC: dict[str, Any] = {"json_serializer": _json_text, "json_deserializer": orjson.loads}

# How long a request may wait for the database (a connection from the pool, SQLite's write lock,
# a PostgreSQL row lock) before it is refused as overloaded (503) instead of queueing without end.
WAIT_SECONDS = 10.0

# A request on the thread pool may hold a connection while it waits for a thread (a dependency
# and its route run on different threads); a pool smaller than the requests admitted to the thread
# pool then deadlocks until the pool's timeout (fastapi/fastapi#3205). api.app sizes the pools to
# its in-flight budgets; these are the defaults (20 kept open, 20 more on demand).
POOL_SIZE = 20
MAX_OVERFLOW = 20


def _pool(connections: int) -> tuple[int, int]:
    kept = min(POOL_SIZE, connections)
    return kept, connections - kept


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def ensure_sqlite_directory(url: str) -> bool:
    """Create the folder of a SQLite file; returns False for an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return False
    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return True


def _sqlite_engine(url: str, *, begin: str, wait: float, pool_size: int = POOL_SIZE,
                   max_overflow: int = MAX_OVERFLOW) -> Engine:
    in_memory = not ensure_sqlite_directory(url)
    # An in-memory database lives in one connection, so it gets SQLAlchemy's single-connection pool.
    pool_args = {} if in_memory else {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": wait}
    engine = create_engine(url, connect_args={"timeout": wait, "check_same_thread": False}, **JSON_CODEC,
                           **pool_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Stop pysqlite's implicit, late BEGIN; the "begin" hook below emits our own.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in (*SQLITE_PRAGMAS, f"busy_timeout={int(wait * 1000)}"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine


def _postgres_engine(url: str, *, autocommit: bool, wait: float, pool_size: int = POOL_SIZE,
                     max_overflow: int = MAX_OVERFLOW, pre_ping: bool = True) -> Engine:
    options = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # A restart of the database kills every pooled connection; the ping at checkout finds a dead
        # one and connects afresh, so the first request after the restart succeeds. The event
        # loop's lookup pool does without (a round trip per lookup) and retries instead (driver_read).
        pool_pre_ping=pre_ping,
        **JSON_CODEC,
        pool_timeout=wait,
        # A statement that runs away is cancelled instead of holding a connection forever.
        connect_args={"options": f"-c statement_timeout=30000 -c lock_timeout={int(wait * 1000)}"},
        **options,
    )


class DatabaseBusy(Exception):
    """The database could not take this unit of work within the wait (overload): nothing was done."""


# SQLSTATE 53100 disk_full: PostgreSQL could not extend a file or write its WAL.
POSTGRES_DISK_FULL = "53100"


def is_storage_full(error: BaseException) -> bool:
    """Whether ``error`` (a driver's, or SQLAlchemy's wrapping one) says the database's storage is
    full: SQLITE_FULL ("database or disk is full", also at ``PRAGMA max_page_count``) or
    PostgreSQL's disk_full. Such a write will not succeed by retrying until an operator frees space."""
    cause = getattr(error, "orig", None) or error
    if isinstance(cause, sqlite3.Error):
        # The primary code is the low byte of an extended one.
        return (getattr(cause, "sqlite_errorcode", 0) or 0) & 0xFF == sqlite3.SQLITE_FULL
    return getattr(cause, "sqlstate", None) == POSTGRES_DISK_FULL


class TurnGate:
    """One holder at a time, served in the order they came (a ticket lock). A plain lock lets the
    thread that just released take it again at once, so under contention others starved past the
    wait and were refused. Any thread may release: FastAPI may end a request's unit of work on
    another thread than the one that began it."""

    def __init__(self) -> None:
        self._turns = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._abandoned: set[int] = set()

    def acquire(self, timeout: float) -> bool:
        with self._turns:
            ticket = self._next_ticket
            self._next_ticket += 1
            deadline = time.monotonic() + timeout
            while self._serving != ticket:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._abandoned.add(ticket)  # skipped when its turn comes
                    return False
                self._turns.wait(left)
            return True

    def release(self) -> None:
        with self._turns:
            self._serving += 1
            while self._serving in self._abandoned:
                self._abandoned.discard(self._serving)
                self._serving += 1
            self._turns.notify_all()


@dataclass(frozen=True)
class Database:
    url: str
    writer: Engine
    reader: Engine
    # Reads run in the event loop itself (the public lookup): one connection of their own, held
    # only between two awaits, so it is always free. Sharing the pool with the thread pool's routes
    # once froze the whole loop in a checkout wait when those had taken every connection.
    loop_reader: Engine | None = None
    wait_seconds: float = WAIT_SECONDS
    # SQLite takes one writer at a time. Threads of one process take turns here, in order, instead
    # of in SQLite's busy handler, which sleeps up to 100 ms between tries: under load that handler
    # left the lock idle most of the time (bench/overload.py). Other processes still meet there.
    write_gate: TurnGate | None = None
    # Opens the webhook secrets stored sealed (db.sealing); each session carries it in its info.
    sealer: Sealer | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.writer.dialect.name == "sqlite"

    def dispose(self) -> None:
        for engine in (self.writer, self.reader, self.loop_reader):
            if engine is not None:
                engine.dispose()


def open_database(url: str, *, wait_seconds: float = WAIT_SECONDS,
                  connections: int = POOL_SIZE + MAX_OVERFLOW, sealer: Sealer | None = None) -> Database:
    """``connections``: the most each of the reader and writer pools opens."""
    size, overflow = _pool(connections)
    if is_sqlite(url):
        return Database(
            url,
            writer=_sqlite_engine(url, begin="BEGIN IMMEDIATE", wait=wait_seconds, pool_size=size, max_overflow=overflow),
            reader=_sqlite_engine(url, begin="BEGIN", wait=wait_seconds, pool_size=size, max_overflow=overflow),
            loop_reader=_sqlite_engine(url, begin="BEGIN", wait=wait_seconds, pool_size=1, max_overflow=0),
            wait_seconds=wait_seconds,
            write_gate=TurnGate(),
            sealer=sealer,
        )
    return Database(
        url,
        writer=_postgres_engine(url, autocommit=False, wait=wait_seconds, pool_size=size, max_overflow=overflow),
        reader=_postgres_engine(url, autocommit=True, wait=wait_seconds, pool_size=size, max_overflow=overflow),
        loop_reader=_postgres_engine(url, autocommit=True, wait=wait_seconds, pool_size=1, max_overflow=0,
                                     pre_ping=False),
        wait_seconds=wait_seconds,
        sealer=sealer,
    )


@contextmanager
def transaction(database: Database, *, wait: float | None = None) -> Iterator[Session]:
    """One unit of work: commit when the block ends normally, roll back when it raises.

    Callers (services) only ``flush()``; the commit happens here, before the caller acknowledges.
    ``wait``: a shorter wait for SQLite's write turn and lock than the database's own (then
    DatabaseBusy or OperationalError). PostgreSQL's waits are set per engine and stay as they are.
    """
    gate = database.write_gate
    info = {"sealer": database.sealer}
    if gate is None:
        with Session(database.writer, expire_on_commit=False, info=info) as session, session.begin():
            yield session
        return
    # One budget for both waits on SQLite: the turn in this process, then the file lock against the
    # other processes. Each waiting its own full budget let a write wait twice the promised time
    # (bench/overload.py: requests past wrk's 15 s with a 10 s wait).
    budget = database.wait_seconds if wait is None else min(wait, database.wait_seconds)
    deadline = time.monotonic() + budget
    if not gate.acquire(timeout=budget):
        raise DatabaseBusy(f"no turn to write within {budget:g} s")
    try:
        with database.writer.connect() as conn:
            driver = driver_connection_of(conn)
            left_ms = max(1, int((deadline - time.monotonic()) * 1000))
            # On the driver's connection, before SQLAlchemy begins (BEGIN IMMEDIATE waits on it).
            driver.execute(f"PRAGMA busy_timeout={left_ms}")
            try:
                with Session(conn, expire_on_commit=False, info=info) as session, session.begin():
                    yield session
            finally:
                # The connection goes back to the pool with the full wait, as every other user expects.
                with suppress(sqlite3.Error):
                    driver.execute(f"PRAGMA busy_timeout={int(database.wait_seconds * 1000)}")
    finally:
        gate.release()


def read_session(database: Database) -> Session:
    """An ORM session on the read pool, never the writer's lock (``with read_session(db) as s:``)."""
    return Session(database.reader, info={"sealer": database.sealer})


@contextmanager
def reading(database: Database) -> Iterator[Connection]:
    """A read-only connection; on SQLite one consistent snapshot for the block."""
    with database.reader.connect() as conn, conn.begin():
        yield conn


def driver_read(database: Database, read: Callable[[DriverConnection], T]) -> T:
    """``read`` on the connection ``driver_reading`` gives, once more on a fresh connection if that
    one was dead (a database restart): see ``db.prepared.driver_read``."""
    return prepared.driver_read(database.loop_reader or database.reader, read,
                                snapshot="BEGIN" if database.is_sqlite else None)


def driver_reading(database: Database) -> AbstractContextManager[DriverConnection]:
    """A read connection for ``db.prepared`` statements run in the event loop: the loop's own
    connection without SQLAlchemy's wrapper (one consistent snapshot on SQLite, as ``reading``)."""
    return prepared.driver_reading(database.loop_reader or database.reader,
                                   snapshot="BEGIN" if database.is_sqlite else None)


def probe_write(database: Database) -> None:
    """Commit a write that needs new storage, and leave nothing behind: a table made, filled with a
    couple of pages and dropped in one transaction. Raises what a real write would (is_storage_full)
    while the storage is full; reading, or rewriting a row in place, could still succeed then."""
    table = f"registry_write_probe_{os.getpid()}"  # processes probing at once do not meet
    with transaction(database, wait=1.0) as session:
        session.execute(text(f"CREATE TABLE {table} (filler TEXT)"))
        session.execute(text(f"INSERT INTO {table} (filler) VALUES (:filler)"), {"filler": os.urandom(4096).hex()})
        session.execute(text(f"DROP TABLE {table}"))
