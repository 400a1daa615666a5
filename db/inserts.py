"""Many rows in one statement (executemany), straight to the table on the driver's cursor.

The ORM's bulk insert would rebuild every row as an object first, and even Core's executemany
runs each value through its generic per-row parameter machinery: together several times what
the database itself takes (bench/bulk.py). Here the INSERT is compiled once per table, column
set and dialect; each value goes through the same type processor SQLAlchemy would apply, and a
value repeated from the row before (the batch's timestamp, its department) is converted once.
"""

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.schema import ScalarElementColumnDefault
from sqlmodel import Session, SQLModel

from db.prepared import driver_connection_of
from db.tables import table_of

_MISSING = object()


class _Insert:
    def __init__(self, table: Table, keys: tuple[str, ...], dialect: Dialect) -> None:
        # Columns the rows leave out get their scalar defaults, as Core's insert would give them.
        self.defaults = {c.key: c.default.arg for c in table.columns
                         if c.key not in keys and isinstance(c.default, ScalarElementColumnDefault)}
        self.keys = keys + tuple(self.defaults)
        compiled = table.insert().compile(dialect=dialect, column_keys=list(self.keys))
        self.sql = compiled.string
        self.positional = compiled.positiontup  # None for named paramstyles (psycopg)
        self.processors: list[tuple[str, Callable[[Any], Any]]] = []
        for key in self.keys:
            processor = table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors.append((key, processor))

    def parameters(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]] | list[tuple[Any, ...]]:
        converted: list[Any] = []
        last: dict[str, tuple[Any, Any]] = {}
        for row in rows:
            values = row | self.defaults if self.defaults else dict(row)
            for key, processor in self.processors:
                value = values[key]
                if value is None:
                    continue
                seen, done = last.get(key, (_MISSING, None))
                if seen is not value:
                    done = processor(value)
                    last[key] = (value, done)
                values[key] = done
            converted.append(values if self.positional is None else tuple(values[k] for k in self.positional))
        return converted


@lru_cache(maxsize=256)
def _insert(table: Table, keys: tuple[str, ...], dialect: Dialect) -> _Insert:
    return _Insert(table, keys, dialect)


def insert_rows(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """Rows with the same keys, in this session's transaction (the same DBAPI connection)."""
    if not rows:
        return
    connection = session.connection()
    insert = _insert(table_of(model), tuple(rows[0]), connection.dialect)
    cursor = driver_connection_of(connection).cursor()
    dbapi_error = connection.dialect.loaded_dbapi.Error
    try:
        cursor.executemany(insert.sql, insert.parameters(rows))
    except dbapi_error as error:
        # As SQLAlchemy would raise it, so callers catch one family of errors whichever way a row
        # went in: IntegrityError (a key taken meanwhile), DataError (a value the database
        # refuses), OperationalError (a busy database). Without the rows: they can hold
        # personal data, and the message can reach a log.
        raise DBAPIError.instance(insert.sql, None, error, dbapi_error, hide_parameters=True,
                                  dialect=connection.dialect, ismulti=True) from error
    finally:
        cursor.close()
