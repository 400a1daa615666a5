"""Many rows in one statement (executemany), straight to the table: the ORM's bulk insert would
rebuild every row as an object first, which costs more than the database does."""

from typing import Any

from sqlmodel import Session, SQLModel


def insert_rows(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """Rows with the same keys, in this session's transaction."""
    if rows:
        session.connection().execute(model.__table__.insert(), rows)  # type: ignore[attr-defined]
