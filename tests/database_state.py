"""Looking at and holding the test database from outside the service."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import func, select

from db.session import Database, transaction
from db.tables import AuditEntry, Event, Record


def empty_postgres(url: str) -> None:
    """A PostgreSQL database as new: its public schema dropped and made again, for the migrations."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def counts(db: Database) -> tuple[int, int]:
    """(records, events)"""
    with transaction(db) as session:
        return (session.exec(select(func.count()).select_from(Record)).one(),
                session.exec(select(func.count()).select_from(Event)).one())


def audit_statuses(db: Database) -> list[int]:
    with transaction(db) as session:
        return list(session.exec(select(AuditEntry.status).order_by(AuditEntry.id)).all())


@contextmanager
def write_lock_held_elsewhere(database_url: str) -> Iterator[None]:
    """Another client of the database holds what every write needs, until the block ends."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(url.database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    else:
        other = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
        other.execute("LOCK TABLE event_counter IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        other.rollback()
        other.close()
