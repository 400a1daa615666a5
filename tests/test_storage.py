"""Storage guarantees: durable SQLite settings, no lost updates, a gap-free event sequence."""

import json
import threading

import pytest
from sqlalchemy import text
from sqlmodel import select

from db.session import WAIT_SECONDS, transaction
from db.tables import Event, Record
from service.records import publishing
from tests import factories as f


def test_sqlite_connections_are_durable_and_strict(db) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite settings")
    with transaction(db) as session:  # shortens the wait for itself, then gives the connection back whole
        used = session.connection().connection.driver_connection
        assert 0 < used.execute("PRAGMA busy_timeout").fetchone()[0] <= WAIT_SECONDS * 1000
    assert used.execute("PRAGMA busy_timeout").fetchone()[0] == WAIT_SECONDS * 1000
    with db.writer.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == WAIT_SECONDS * 1000  # then 503, not a queue


def test_concurrent_writers_get_a_gap_free_event_sequence_and_lose_nothing(db, clock) -> None:
    with transaction(db) as session:
        f.make_department(session, now=clock.now())
        organization = f.make_organization(session, now=clock.now())
    writers, per_writer = 4, 10
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for _ in range(per_writer):
                with transaction(db) as session:
                    # Read-then-write inside one transaction: the natural-key check, then the insert.
                    publishing.publish(session, organization.uscc, f.violation(), department_code="SZAMR",
                                    now=clock.now())
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with transaction(db) as session:
        seqs = [e.seq for e in session.exec(select(Event).order_by(Event.seq))]
        envelopes = [json.loads(e.envelope) for e in session.exec(select(Event).order_by(Event.seq))]
        stored = len(session.exec(select(Record)).all())
    total = 1 + writers * per_writer  # organization.updated + every violation
    assert seqs == list(range(1, total + 1))
    assert [e["seq"] for e in envelopes] == seqs
    assert stored == writers * per_writer


def test_a_failed_write_leaves_nothing_behind(db, clock) -> None:
    with transaction(db) as session:
        f.make_department(session, now=clock.now())
        organization = f.make_organization(session, now=clock.now())
    with pytest.raises(RuntimeError), transaction(db) as session:
        publishing.publish(session, organization.uscc, f.violation(), department_code="SZAMR", now=clock.now())
        raise RuntimeError("the request failed after the service call")
    with transaction(db) as session:
        assert session.exec(select(Record)).all() == []
        assert [e.type for e in session.exec(select(Event))] == ["organization.updated"]
        # The rolled-back transaction gave its sequence number back: no gap.
        publishing.publish(session, organization.uscc, f.violation(), department_code="SZAMR", now=clock.now())
    with transaction(db) as session:
        assert [e.seq for e in session.exec(select(Event).order_by(Event.seq))] == [1, 2]
