"""Operational checks shared by the API and the CLI."""

from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from db import migrations
from db.session import Database


@dataclass(frozen=True)
class Readiness:
    status: str  # "ready" or "not_ready"
    database: str  # "ok" or "unreachable"
    migration: str | None
    expected_migration: str | None


def readiness(database: Database) -> Readiness:
    expected = migrations.head_revision()
    try:
        with database.reader.connect() as conn:
            current = migrations.current_revision(conn)
    except SQLAlchemyError:
        return Readiness("not_ready", "unreachable", None, expected)
    return Readiness("ready" if current == expected else "not_ready", "ok", current, expected)
