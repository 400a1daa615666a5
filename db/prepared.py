"""Statements compiled once and run straight on the driver's cursor, for the hottest reads.

``Connection.execute`` costs about 100 µs per statement here (execution context, parameter
processing, result wrapping): ten times what SQLite takes to run the public lookup's indexed
reads (bench/lookup.py). A ``Prepared`` statement is still written in Core, so it stays portable
and checked, but it is compiled once per dialect; a call only converts parameters and result
values with the same type processors SQLAlchemy itself would apply.

Use it for a few fixed, hot statements, not as a general query path: there are no events, no
statement cache and no ORM here.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Dialect, Select

Processor = Callable[[Any], Any] | None
T = TypeVar("T")
# A statement of any columns, and one of its rows.
AnySelect = Select[*tuple[Any, ...]]
Row = tuple[Any, ...]


class Prepared:
    """One SELECT, compiled lazily for each dialect it meets."""

    def __init__(self, statement: AnySelect) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, conn: "ReadSource", **values: Any) -> list[Row]:
        dbapi_conn, dialect = _driver(conn)
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self.statement, dialect)
        return compiled.run(dbapi_conn, values)

    def first(self, conn: "ReadSource", **values: Any) -> Row | None:
        found = self.rows(conn, **values)
        return found[0] if found else None

    @property
    def columns(self) -> list[str]:
        names = []
        for column in self.statement.selected_columns:
            if column.key is None:  # an unlabelled expression: nothing to call its value by
                raise ValueError(f"label every column of a prepared statement: {column}")
            names.append(column.key)
        return names


class _Compiled:
    def __init__(self, statement: AnySelect, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        # Values fixed when the statement was built (e.g. status = 'active') travel with it.
        self.fixed = dict(compiled.params)
        self.bind: dict[str, Processor] = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in compiled.binds.items()}
        # Positional paramstyles (SQLite's qmark) list a name once per place it is used.
        self.order = compiled.positiontup
        processors = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                      for column in statement.selected_columns]
        self.results = [(index, p) for index, p in enumerate(processors) if p is not None]

    def run(self, dbapi_conn: Any, values: dict[str, Any]) -> list[Row]:
        params = self.fixed | values
        for name, processor in self.bind.items():
            if processor is not None and params.get(name) is not None:
                params[name] = processor(params[name])
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(self.sql, params if self.order is None else tuple(params[n] for n in self.order))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if not self.results:
            return [tuple(row) for row in rows]
        converted = []
        for row in rows:
            cells = list(row)
            for index, processor in self.results:
                if cells[index] is not None:
                    cells[index] = processor(cells[index])
            converted.append(tuple(cells))
        return converted


class DriverConnection:
    """A pooled read connection as the driver sees it, with its dialect."""

    def __init__(self, dbapi_conn: Any, dialect: Dialect) -> None:
        self.dbapi_conn, self.dialect = dbapi_conn, dialect


ReadSource = Connection | DriverConnection


def _driver(conn: ReadSource) -> tuple[Any, Dialect]:
    if isinstance(conn, DriverConnection):
        return conn.dbapi_conn, conn.dialect
    # Inside a SQLAlchemy transaction: the same DBAPI connection, so the same transaction.
    return driver_connection_of(conn), conn.dialect


def driver_connection_of(conn: Connection) -> Any:
    """The driver's own connection (sqlite3's, psycopg's) under a SQLAlchemy connection."""
    driver = conn.connection.driver_connection
    if driver is None:  # only a connection already invalidated has none
        raise RuntimeError("the connection was invalidated: it has no driver connection")
    return driver


@contextmanager
def driver_reading(engine: Any, *, snapshot: str | None) -> Iterator[DriverConnection]:
    """A pooled connection without SQLAlchemy's per-connection machinery. ``snapshot`` is the
    statement that opens a read transaction (SQLite: ``BEGIN``), or None where each statement
    reads on its own (PostgreSQL in autocommit).

    A connection found dead (the database restarted) is invalidated, not handed back to the pool
    for the next caller; the driver's error goes on to the caller (see ``driver_read``)."""
    pooled = engine.raw_connection()
    dbapi_conn = pooled.driver_connection
    try:
        if snapshot is None:
            yield DriverConnection(dbapi_conn, engine.dialect)
            return
        dbapi_conn.execute(snapshot)
        try:
            yield DriverConnection(dbapi_conn, engine.dialect)
        finally:
            dbapi_conn.execute("COMMIT")  # read-only: ends the snapshot either way
    except Exception as error:
        if disconnected(engine, error, dbapi_conn):
            pooled.invalidate(error)
        raise
    finally:
        pooled.close()


def driver_read(engine: Any, read: Callable[[DriverConnection], T], *, snapshot: str | None) -> T:
    """``read`` on a ``driver_reading`` connection, run once more on a fresh connection when the
    first one turns out dead. A database restart kills every pooled connection, and without this
    the first request after it came back failed. This is instead of ``pool_pre_ping``, which costs a
    round trip per checkout, on every lookup: a retry costs nothing while connections are alive,
    and a read is safe to repeat. A second failure is the database's state, and goes up."""
    try:
        with driver_reading(engine, snapshot=snapshot) as conn:
            return read(conn)
    except Exception as error:
        if not getattr(error, "_registry_disconnect", False):
            raise
    with driver_reading(engine, snapshot=snapshot) as conn:
        return read(conn)


def disconnected(engine: Any, error: BaseException, dbapi_conn: Any) -> bool:
    """Whether ``error`` means the connection is gone (as the dialect judges it for its own pool);
    marks the error so that ``driver_read`` knows it may retry."""
    dbapi = engine.dialect.loaded_dbapi
    gone = isinstance(error, dbapi.Error) and engine.dialect.is_disconnect(error, dbapi_conn, None)
    if gone:
        error._registry_disconnect = True  # type: ignore[attr-defined]  # a mark on the driver's error, for driver_read
    return gone
