"""Never on the red and the black list at once (domain.md §4): a red entry is refused while a
public black entry is in force over any day of its term, on the single endpoint and in batches;
the rule set's red-list eligibility rule refuses an organization with a recent serious
violation; and the public red list, its exports and the search filter leave out a black-listed
organization even if a red entry slipped through (data entered before the rule, which the
migration ends)."""

import json
from datetime import date

import pytest
from sqlalchemy import text

from db import migrations
from db.session import open_database, transaction
from service.errors import ListConflict
from service.records import changes, history, publishing
from service.rules import lifecycle, reference
from tests import factories as f
from tests.database_state import counts

HUAWEI = f.HUAWEI


def _entry(list_name: str, decision_no: str, **overrides) -> dict:
    return {"code": HUAWEI, "list": list_name, "reason": "质量诚信示范企业" if list_name == "red" else "严重违法失信",
            "legal_basis": "《市场监督管理严重违法失信名单管理办法》", "decision_no": decision_no,
            "effective_on": "2026-05-10"} | overrides


def _setup(client, parties) -> dict[str, str]:
    a = parties["a"].headers
    assert client.put(f"/v1/organizations/{HUAWEI}", headers=a, json={"name": "华为技术有限公司"}).status_code in (200, 201)
    return a


def test_a_red_entry_under_a_black_one_is_refused_naming_it(client, parties, db) -> None:
    a = _setup(client, parties)
    black = client.post("/v1/list-entries", headers=a, json=_entry("black", "黑〔2026〕1号")).json()
    before = counts(db)
    response = client.post("/v1/list-entries", headers=a, json=_entry("red", "红〔2026〕1号", effective_on="2026-06-01"))
    assert response.status_code == 409, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["conflicting_id"] == black["id"] and "黑〔2026〕1号" in problem["detail"]
    assert counts(db) == before  # nothing written: no record, no version, no event
    # Another department that can see the public black entry is refused the same way.
    b = parties["b"].headers
    assert client.post("/v1/list-entries", headers=b, json=_entry("red", "红〔2026〕2号")).status_code == 409


def test_a_black_entry_that_starts_later_still_excludes_a_red_term_that_reaches_it(client, parties) -> None:
    a = _setup(client, parties)
    client.post("/v1/list-entries", headers=a, json=_entry("black", "黑〔2026〕3号", effective_on="2026-09-01"))
    overlapping = _entry("red", "红〔2026〕3号", effective_on="2026-06-01", expires_on="2026-12-31")
    assert client.post("/v1/list-entries", headers=a, json=overlapping).status_code == 409
    before_it = _entry("red", "红〔2026〕4号", effective_on="2026-06-01", expires_on="2026-09-01")
    assert client.post("/v1/list-entries", headers=a, json=before_it).status_code == 201  # ends the day it starts


def test_a_withdrawn_black_entry_excludes_nothing(client, parties) -> None:
    a = _setup(client, parties)
    black = client.post("/v1/list-entries", headers=a, json=_entry("black", "黑〔2026〕5号")).json()
    assert client.post(f"/v1/records/{black['id']}/withdrawal", headers=a,
                       json={"reason": "决定已撤销"}).status_code == 200
    assert client.post("/v1/list-entries", headers=a, json=_entry("red", "红〔2026〕5号")).status_code == 201


def test_a_batch_rejects_the_red_line_and_keeps_the_others(client, parties) -> None:
    a = _setup(client, parties)
    lines = [_entry("black", "黑〔2026〕6号"), _entry("red", "红〔2026〕6号"),
             {"type": "violation", "code": HUAWEI, **f.violation(decision_no="深市监罚〔2026〕606号")
              .model_dump(mode="json", exclude_none=True)}]
    body = "\n".join(json.dumps({"type": "list_entry", **e} if "list" in e else e, ensure_ascii=False) for e in lines)
    response = client.post("/v1/batches", headers=a | {"content-type": "application/x-ndjson"}, content=body.encode())
    assert response.status_code == 200, response.text
    results = {r["line"]: r for r in response.json()["results"]}
    assert [results[n]["outcome"] for n in (1, 2, 3)] == ["accepted", "rejected", "accepted"]
    assert "black list" in results[2]["message"]
    # The black entry from an earlier batch counts as well.
    again = json.dumps({"type": "list_entry", **_entry("red", "红〔2026〕7号")}, ensure_ascii=False)
    later = client.post("/v1/batches", headers=a | {"content-type": "application/x-ndjson"}, content=again.encode())
    assert later.json()["results"][0]["outcome"] == "rejected"


def test_a_recent_serious_violation_excludes_a_red_entry_by_the_rule_set(client, parties, clock) -> None:
    a = _setup(client, parties)
    serious = client.post(f"/v1/organizations/{HUAWEI}/violations", headers=a, json=f.violation(
        decision_no="深市监罚〔2024〕9号", decided_on=date(2024, 1, 10), severity="serious",
        penalty_types=["fine"]).model_dump(mode="json", exclude_none=True)).json()
    refused = client.post("/v1/list-entries", headers=a, json=_entry("red", "红〔2026〕8号"))
    assert refused.status_code == 409 and refused.json()["conflicting_id"] == serious["id"]
    assert "3 years" in refused.json()["detail"]
    # The administrators change the rule from today: one clean year is enough.
    admin = parties["admin"].headers
    assert client.post("/v1/admin/rule-sets", headers=admin, json={
        "effective_from": "2026-06-15", "changes": {"red_list_clean_years": 1}}).status_code == 201
    assert client.post("/v1/list-entries", headers=a, json=_entry("red", "红〔2026〕9号",
                                                                 effective_on="2026-06-15")).status_code == 201


def test_a_correction_cannot_move_a_red_term_under_a_black_one(client, parties) -> None:
    a = _setup(client, parties)
    red = client.post("/v1/list-entries", headers=a, json=_entry("red", "红〔2026〕10号", effective_on="2026-05-10",
                                                                expires_on="2026-08-01")).json()
    client.post("/v1/list-entries", headers=a, json=_entry("black", "黑〔2026〕10号", effective_on="2026-09-01"))
    fields = red["details"] | {"expires_on": "2027-01-01"}
    fields.pop("internal_notes", None)
    corrected = client.post(f"/v1/records/{red['id']}/corrections", headers=a, json={"fields": fields, "reason": "延期"})
    assert corrected.status_code == 409, corrected.text


def test_the_public_red_list_never_shows_a_black_listed_organization(client, parties, db) -> None:
    a = _setup(client, parties)
    red = client.post("/v1/list-entries", headers=a, json=_entry("red", "红〔2026〕11号")).json()
    client.post("/v1/list-entries", headers=a, json=_entry("black", "黑〔2026〕11号"))
    # As data entered before the rule was enforced: the red entry active beside the black one.
    with db.writer.begin() as conn:
        conn.execute(text("UPDATE record SET status = 'active' WHERE id = :id"), {"id": red["id"]})
    for path in ("/v1/public/lists/red", "/v1/public/lists/red/export?format=ndjson",
                 "/v1/public/lists/red/export?format=csv", "/lists/red", "/v1/public/organizations?q=华为&list=red"):
        assert HUAWEI not in client.get(path).text, path
    assert client.get(f"/v1/public/organizations/{HUAWEI}").json()["list_status"] == "black"


def test_a_black_correction_that_meets_a_red_term_ends_it(client, parties) -> None:
    a = _setup(client, parties)
    black = client.post("/v1/list-entries", headers=a, json=_entry("black", "黑〔2026〕12号",
                                                                  effective_on="2026-09-01")).json()
    red = client.post("/v1/list-entries", headers=a, json=_entry("red", "红〔2026〕12号", expires_on="2026-08-01"))
    assert red.status_code == 201  # no day in common with the black term
    red = red.json()
    fields = {k: v for k, v in black["details"].items() if v is not None} | {"effective_on": "2026-06-01"}
    fields.pop("expires_on")
    assert client.post(f"/v1/records/{black['id']}/corrections", headers=a,
                       json={"fields": fields, "reason": "更正列入日期"}).status_code == 200
    assert client.get(f"/v1/records/{red['id']}", headers=a).json()["status"] == "superseded"


def test_an_upgraded_registry_ends_red_entries_stored_under_a_black_one(tmp_path, clock) -> None:
    """Migration 20261128_0011 masks what is stored; the first sweep ends red entries beside black ones."""
    url = f"sqlite:///{tmp_path / 'before.db'}"
    migrations.upgrade(url)
    database = open_database(url)
    try:
        with transaction(database) as session:
            reference.ensure_defaults(session, now=clock.now())
            f.make_department(session, now=clock.now())
            f.make_organization(session, now=clock.now(), code=HUAWEI, name="华为技术有限公司",
                                legal_representative="任某 13912345678")
            red = publishing.publish(session, HUAWEI, f.list_entry("red"), department_code="SZAMR", now=clock.now()).record.id
            black = publishing.publish(session, HUAWEI, f.list_entry("black"), department_code="SZAMR",
                                    now=clock.now()).record.id
            violation = publishing.publish(session, HUAWEI, f.violation(penalty="罚款，当事人电话13912345678"),
                                        department_code="SZAMR", now=clock.now()).record.id
        with database.writer.begin() as conn:  # as a registry before this revision held them
            conn.execute(text("UPDATE record SET status = 'active' WHERE id = :id"), {"id": red})
        migrations.downgrade(url, "20261126_0010")
        migrations.upgrade(url)
        with database.writer.connect() as conn:
            summary, masked = conn.execute(text("SELECT public_summary, masked_fields FROM record WHERE id = :id"),
                                           {"id": violation}).one()
            representative = conn.execute(text("SELECT public_legal_representative FROM organization")).scalar_one()
        assert "13912345678" not in summary and json.loads(masked) == ["penalty"]
        assert representative == "任某 139****5678"

        lifecycle.sweep(lambda: transaction(database), now=clock.now())
        lifecycle.sweep(lambda: transaction(database), now=clock.now())  # once is enough: no second event
        with database.writer.connect() as conn:
            status = conn.execute(text("SELECT status FROM record WHERE id = :id"), {"id": red}).scalar_one()
            change = conn.execute(text("SELECT reason, caused_by FROM record_status_change WHERE record_id = :id "
                                       "ORDER BY id DESC LIMIT 1"), {"id": red}).one()
            types = conn.execute(text("SELECT type FROM event WHERE record_id = :id ORDER BY seq"),
                                 {"id": red}).scalars().all()
        assert status == "superseded" and tuple(change) == ("superseded_by_black_list", black)
        assert types == ["list_entry.added", "list_entry.removed", "list_entry.removed"]  # the first by the black entry
    finally:
        database.dispose()


def test_the_sweep_ends_only_red_entries_a_public_black_one_in_force_meets(unit_of_work, clock, db) -> None:
    """Red entries stored beside black ones (as before the rule), each case on an organization of
    its own: only a red term that a public, active black term of the same organization meets ends,
    once, by the earliest such black entry."""
    cases = {  # case -> (black entries: effective_on, expires_on, withdrawn, visibility), red term
        "under two blacks": ([(date(2026, 5, 10), None, False, "public"), (date(2026, 6, 1), None, False, "public")],
                             (date(2026, 5, 10), None)),
        "no black": ([], (date(2026, 5, 10), None)),
        "two blacks, no red": ([(date(2026, 5, 10), None, False, "public"), (date(2026, 6, 1), None, False, "public")],
                               None),
        "withdrawn black": ([(date(2026, 5, 10), None, True, "public")], (date(2026, 5, 10), None)),
        "restricted black": ([(date(2026, 5, 10), None, False, "restricted")], (date(2026, 5, 10), None)),
        "black ends as red starts": ([(date(2026, 5, 10), date(2026, 9, 1), False, "public")],
                                     (date(2026, 9, 1), None)),
        "red ends as black starts": ([(date(2026, 9, 1), None, False, "public")], (date(2026, 5, 10), date(2026, 9, 1))),
    }
    entries: dict[str, tuple[list[str], str | None]] = {}
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        for case, (blacks, red_term) in cases.items():
            code = f.make_organization(session, now=clock.now()).uscc
            red = red_term and publishing.publish(session, code, f.list_entry("red", effective_on=red_term[0],
                                                                          expires_on=red_term[1]),
                                               department_code="SZAMR", now=clock.now()).record.id
            black_ids = []
            for effective_on, expires_on, withdrawn, visibility in blacks:
                black = publishing.publish(session, code, f.list_entry("black", effective_on=effective_on,
                                                                    expires_on=expires_on),
                                        department_code="SZAMR", now=clock.now(), visibility=visibility).record
                if withdrawn:
                    changes.withdraw(session, black.id, department_code="SZAMR", reason="撤销", now=clock.now())
                black_ids.append(black.id)
            entries[case] = (black_ids, red)
    with db.writer.begin() as conn:  # every red entry active again, as a registry before the rule held them
        conn.execute(text("UPDATE record SET status = 'active' WHERE list_name = 'red'"))

    def trails() -> dict[str, list[tuple[str, str | None]]]:
        with unit_of_work() as session:
            return {case: [(c.status, c.caused_by) for c in history.history(session, record_id, viewer="SZAMR")
                           .status_changes] for case, (ids, red) in entries.items() for record_id in [red or ids[-1]]}

    before = trails()
    lifecycle.sweep(unit_of_work, now=clock.now())
    added = {case: trail[len(before[case]):] for case, trail in trails().items()}
    assert added == {case: [] for case in cases} | {"under two blacks": [("superseded", entries["under two blacks"][0][0])]}


def test_what_keeps_a_red_entry_out_and_what_does_not(unit_of_work, clock) -> None:
    """Each case on an organization of its own, by the service, one department deciding (SZAMR)."""
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        f.make_department(session, now=clock.now(), code="SZTAX", name="国家税务总局深圳市税务局", kind="tax")
        code = {case: f.make_organization(session, now=clock.now()).uscc for case in (
            "black", "black ended", "restricted black", "two reds", "old violation", "own restricted violation",
            "one request")}

        def publish(case: str, fields, department: str = "SZAMR", **options):
            return publishing.publish(session, code[case], fields, department_code=department, now=clock.now(), **options).record

        def refused(case: str, fields) -> str:
            with pytest.raises(ListConflict) as conflict:
                publish(case, fields)
            return conflict.value.detail

        publish("black", f.list_entry("black", effective_on=date(2026, 5, 10)))
        assert "until 2029-05-10" in refused("black", f.list_entry("red"))  # how long the black term runs
        publish("black ended", f.list_entry("black", effective_on=date(2026, 5, 10), expires_on=date(2026, 6, 1)))
        publish("black ended", f.list_entry("red", effective_on=date(2026, 6, 1)))  # the day after its last
        publish("restricted black", f.list_entry("black"), department="SZTAX", visibility="restricted")
        publish("restricted black", f.list_entry("red"))  # not a publication: excludes nothing
        publish("two reds", f.list_entry("red"))
        publish("two reds", f.list_entry("red"), department="SZTAX")
        # A serious violation 37 months before the red entry takes effect: outside the rule set's 3 years.
        publish("old violation", f.violation(severity="serious", decided_on=date(2023, 5, 15), penalty_types=["fine"]))
        publish("old violation", f.list_entry("red", effective_on=date(2026, 6, 15)))
        publish("own restricted violation", f.violation(severity="serious", decided_on=date(2025, 6, 1),
                                                        penalty_types=["fine"]), visibility="restricted")
        assert "serious violation" in refused("own restricted violation", f.list_entry("red"))
        # One request: black terms before and after the red one, each meeting it on no day.
        outcome = publishing.publish_many(session, [
            publishing.NewRecord(1, code["one request"], f.list_entry("black", effective_on=date(2026, 5, 10),
                                                                   expires_on=date(2026, 6, 1))),
            publishing.NewRecord(2, code["one request"], f.list_entry("black", effective_on=date(2026, 12, 1))),
            publishing.NewRecord(3, code["one request"], f.list_entry("red", effective_on=date(2026, 6, 1),
                                                                   expires_on=date(2026, 12, 1)))],
            department_code="SZAMR", now=clock.now())
        assert all(isinstance(result, str) for result in outcome.values()), outcome


def test_a_black_listing_ends_only_the_red_entries_whose_term_meets_its_own(client, parties) -> None:
    """The same overlap as the refusal and the sweep, not "active today": a black term recorded
    late and already over leaves a current red entry alone; a future black term leaves a red term
    that ends before it starts, and ends one that reaches into it."""
    a = _setup(client, parties)
    open_ended = client.post("/v1/list-entries", headers=a, json=_entry("red", "红〔2026〕21号")).json()
    ends_before = client.post("/v1/list-entries", headers=a, json=_entry(
        "red", "红〔2026〕22号", expires_on="2026-09-01")).json()  # its term is [05-10, 09-01)

    def status(record: dict) -> str:
        return client.get(f"/v1/records/{record['id']}", headers=a).json()["status"]

    past = client.post("/v1/list-entries", headers=a, json=_entry(
        "black", "黑〔2024〕21号", effective_on="2024-03-01", expires_on="2025-03-01"))
    assert past.status_code == 201, past.text
    assert status(open_ended) == status(ends_before) == "active"  # recorded late, over before either began
    future = client.post("/v1/list-entries", headers=a, json=_entry("black", "黑〔2026〕23号", effective_on="2026-09-01"))
    assert future.status_code == 201, future.text
    assert status(open_ended) == "superseded" and status(ends_before) == "active"
