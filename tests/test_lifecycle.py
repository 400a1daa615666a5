"""The lifecycle sweep: a clock driven day by day through every publicity window and list term;
each record expires once, on time, with a reason and an event; concurrent sweepers never double."""

import threading
from datetime import date, timedelta

from sqlmodel import select
from typer.testing import CliRunner

from api.settings import get_settings
from cli.main import cli
from db.session import transaction
from db.tables import Event, Record, RecordStatusChange
from service.records import publishing
from service.rules import lifecycle
from service.rules.clock import local_date
from tests import factories as f


def publish(db, clock, uscc, fields):
    with transaction(db) as session:
        return publishing.publish(session, uscc, fields, department_code="SZAMR", now=clock.now()).record.id


def test_three_years_of_days_expire_every_record_once_on_its_day(client, parties, db, clock) -> None:
    with transaction(db) as session:
        red_org = f.make_organization(session, now=clock.now()).uscc
        black_org = f.make_organization(session, now=clock.now()).uscc
    decided = date(2026, 6, 1)
    expected = {  # record -> the first day it may no longer be shown (its exclusive end)
        publish(db, clock, red_org, f.violation(severity="minor", decided_on=decided)): date(2026, 9, 1),
        publish(db, clock, red_org, f.violation(severity="general", decided_on=decided)): date(2027, 6, 1),
        publish(db, clock, black_org, f.violation(severity="serious", decided_on=decided)): date(2029, 6, 1),
        publish(db, clock, red_org, f.list_entry("red", effective_on=decided,
                                                 expires_on=date(2027, 1, 1))): date(2027, 1, 1),
        publish(db, clock, red_org, f.list_entry("red", effective_on=date(2026, 6, 10))): date(2029, 6, 10),
        publish(db, clock, black_org, f.list_entry("black", effective_on=date(2026, 6, 12))): date(2029, 6, 12),
        publish(db, clock, red_org, f.rating(valid_until=date(2026, 12, 31))): date(2027, 1, 1),  # valid through 12-31
    }
    warning_only = publish(db, clock, red_org, f.violation(severity="general", decided_on=decided,
                                                           penalty_types=["warning"], fine_amount=None))
    never = publish(db, clock, red_org, f.disclosure())

    expired_on: dict[str, date] = {}
    for _ in range(365 * 3 + 30):
        assert lifecycle.sweep(lambda: transaction(db), now=clock.now()) >= 0
        with transaction(db) as session:
            for record in session.exec(select(Record).where(Record.status == "expired")):
                expired_on.setdefault(record.id, local_date(clock.now()))
        clock.advance(days=1)

    first_day = local_date(clock.now()) - timedelta(days=365 * 3 + 30)
    assert expired_on.pop(warning_only) == first_day  # never public: ended the day it was decided
    assert expired_on == {record_id: max(day, first_day) for record_id, day in expected.items()}
    with transaction(db) as session:
        assert session.get(Record, never).status == "active"
        changes = session.exec(select(RecordStatusChange).where(RecordStatusChange.status == "expired")).all()
        assert sorted(c.record_id for c in changes) == sorted([*expected, warning_only])  # each once
        assert all("ended on" in c.reason for c in changes)
        kinds = [(e.type, e.envelope) for e in session.exec(select(Event).where(
            Event.type.in_(("violation.expired", "rating.expired", "list_entry.removed"))))]
    assert sorted(t for t, _ in kinds) == sorted(["violation.expired"] * 4 + ["rating.expired"]
                                                 + ["list_entry.removed"] * 3)
    assert all('"reason":"expired"' in envelope for t, envelope in kinds if t == "list_entry.removed")


def test_a_list_entry_off_the_public_list_once_its_term_ends(client, parties, db, clock) -> None:
    with transaction(db) as session:
        uscc = f.make_organization(session, now=clock.now()).uscc
    publish(db, clock, uscc, f.list_entry("red", effective_on=date(2026, 6, 1), expires_on=date(2026, 6, 20)))
    assert len(client.get("/v1/public/lists/red").json()["items"]) == 1
    clock.advance(days=5)  # 2026-06-20: the term is over, before any sweep ran
    assert client.get("/v1/public/lists/red").json()["items"] == []
    lifecycle.sweep(lambda: transaction(db), now=clock.now())
    assert client.get("/v1/public/lists/red").json()["items"] == []
    removed = client.get("/v1/events", headers=parties["b"].headers, params={"type": "list_entry.removed"}).json()
    assert [e["data"]["reason"] for e in removed["data"]] == ["expired"]


def test_concurrent_sweepers_expire_each_record_once(client, parties, db, clock) -> None:
    with transaction(db) as session:
        uscc = f.make_organization(session, now=clock.now()).uscc
    due = [publish(db, clock, uscc, f.violation(severity="minor", decided_on=date(2026, 1, 1))) for _ in range(60)]
    counts: list[int] = []
    sweepers = [threading.Thread(target=lambda: counts.append(lifecycle.sweep(lambda: transaction(db),
                                                                              now=clock.now())))
                for _ in range(4)]
    for sweeper in sweepers:
        sweeper.start()
    for sweeper in sweepers:
        sweeper.join(60)
    assert sum(counts) == len(due)
    with transaction(db) as session:
        assert len(session.exec(select(Event).where(Event.type == "violation.expired")).all()) == len(due)


def test_sweep_from_the_cli(client, parties, db, clock, database_url, data_dir, monkeypatch) -> None:
    with transaction(db) as session:
        uscc = f.make_organization(session, now=clock.now()).uscc
    publish(db, clock, uscc, f.violation(severity="minor", decided_on=date(2026, 6, 1)))  # ends 2026-09-01
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["sweep"])  # today (the real date) is past the window
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0 and "expired 1 records" in result.output
