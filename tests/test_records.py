"""Records through the service layer (write endpoints arrive with departments and auth)."""

import json
from datetime import date

import pytest
from sqlmodel import select

from db.tables import Event, Record
from service.errors import (
    DepartmentNotFound,
    DuplicateRecord,
    InvalidRecord,
    InvalidTransition,
    NotOwner,
    OrganizationNotFound,
    RecordNotFound,
)
from service.organizations import master_data
from service.records import changes, history, publishing
from tests import factories as f


@pytest.fixture
def org(unit_of_work, clock):
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        f.make_department(session, now=clock.now(), code="SZTAX", name="国家税务总局深圳市税务局", kind="tax")
        return f.make_organization(session, now=clock.now())


def _events(session) -> list[dict]:
    """The records' events; changes of supervision class they cause are tested in
    tests/test_credit_consequences.py."""
    return [json.loads(e.envelope) for e in session.exec(select(Event).order_by(Event.seq))
            if e.type != "organization.supervision_changed"]


class TestPublish:
    def test_each_kind_gets_version_one_and_its_event(self, unit_of_work, clock, org) -> None:
        with unit_of_work() as session:
            for fields in (f.rating(), f.violation(), f.disclosure(), f.list_entry("red")):
                publishing.publish(session, org.uscc, fields, department_code="SZAMR", now=clock.now())
        with unit_of_work() as session:
            kinds = sorted((r.kind, r.version, r.status) for r in session.exec(select(Record)))
            types = [e["type"] for e in _events(session)]
        assert kinds == [("disclosure", 1, "active"), ("list_entry", 1, "active"),
                         ("rating", 1, "active"), ("violation", 1, "active")]
        assert types == ["organization.updated", "rating.published", "violation.published",
                         "disclosure.published", "list_entry.added"]

    def test_legacy_code_finds_the_organization(self, unit_of_work, clock, org) -> None:
        legacy = org.uscc[8:16] + "-" + org.uscc[16]
        with unit_of_work() as session:
            record = publishing.publish(session, legacy, f.rating(), department_code="SZAMR", now=clock.now()).record
        assert record.organization_uscc == org.uscc

    def test_unknown_organization(self, unit_of_work, clock, org) -> None:
        with pytest.raises(OrganizationNotFound), unit_of_work() as session:
            publishing.publish(session, f.HUAWEI, f.rating(), department_code="SZAMR", now=clock.now())

    def test_unknown_department(self, unit_of_work, clock, org) -> None:
        with pytest.raises(DepartmentNotFound), unit_of_work() as session:
            publishing.publish(session, org.uscc, f.rating(), department_code="NOPE", now=clock.now())

    def test_grade_must_be_in_the_scheme(self, unit_of_work, clock, org) -> None:
        with pytest.raises(InvalidRecord, match="grade 'AAAA' is not in scheme 'default'"), unit_of_work() as s:
            publishing.publish(s, org.uscc, f.rating(grade="AAAA"), department_code="SZAMR", now=clock.now())

    def test_duplicate_decision_names_the_existing_record_and_writes_nothing(
        self, unit_of_work, clock, org
    ) -> None:
        fields = f.violation()
        with unit_of_work() as session:
            first = publishing.publish(session, org.uscc, fields, department_code="SZAMR", now=clock.now()).record
        with pytest.raises(DuplicateRecord) as error, unit_of_work() as session:
            publishing.publish(session, org.uscc, fields, department_code="SZAMR", now=clock.now())
        assert error.value.existing_id == first.id
        with unit_of_work() as session:
            assert len(session.exec(select(Record)).all()) == 1
            assert [e["type"] for e in _events(session)][-1] == "violation.published"

    def test_same_decision_number_from_another_department_is_another_record(
        self, unit_of_work, clock, org
    ) -> None:
        fields = f.violation()
        with unit_of_work() as session:
            a = publishing.publish(session, org.uscc, fields, department_code="SZAMR", now=clock.now()).record
            b = publishing.publish(session, org.uscc, fields, department_code="SZTAX", now=clock.now()).record
        assert a.id != b.id

    def test_shared_with_only_for_restricted(self, unit_of_work, clock, org) -> None:
        with pytest.raises(InvalidRecord, match="restricted"), unit_of_work() as session:
            publishing.publish(session, org.uscc, f.rating(), department_code="SZAMR", now=clock.now(),
                            visibility="shared", shared_with=["SZTAX"])
        with unit_of_work() as session:
            record = publishing.publish(session, org.uscc, f.rating(), department_code="SZAMR", now=clock.now(),
                                     visibility="restricted", shared_with=["SZTAX"]).record
        with unit_of_work() as session:
            assert history.history(session, record.id, viewer="SZAMR").shared_with == ["SZTAX"]


class TestPublicityWindows:
    @pytest.mark.parametrize(
        ("severity", "penalty_types", "ends_on"),
        [
            ("minor", ["warning", "fine"], date(2026, 8, 1)),
            ("general", ["fine"], date(2027, 5, 1)),
            ("serious", ["fine", "licence_revocation"], date(2029, 5, 1)),
            ("minor", ["warning"], date(2026, 5, 1)),  # warning-only: never published
        ],
    )
    def test_window_from_severity_and_decision_date(
        self, unit_of_work, clock, org, severity, penalty_types, ends_on
    ) -> None:
        fields = f.violation(severity=severity, penalty_types=penalty_types, decided_on=date(2026, 5, 1),
                             fine_amount="1000" if "fine" in penalty_types else None)
        with unit_of_work() as session:
            record = publishing.publish(session, org.uscc, fields, department_code="SZAMR", now=clock.now()).record
        assert record.ends_on == ends_on
        assert record.rule_set_id is not None

    def test_black_list_term_defaults_to_three_years(self, unit_of_work, clock, org) -> None:
        with unit_of_work() as session:
            entry = publishing.publish(session, org.uscc, f.list_entry("black", effective_on=date(2024, 2, 29)),
                                    department_code="SZAMR", now=clock.now()).record
        assert entry.ends_on == date(2027, 2, 28)
        assert entry.details["expires_on"] == "2027-02-28"


class TestBlackListEndsRedEntries:
    def test_red_entry_is_superseded_with_reason_and_event(self, unit_of_work, clock, org) -> None:
        with unit_of_work() as session:
            red = publishing.publish(session, org.uscc, f.list_entry("red"), department_code="SZAMR", now=clock.now()).record
            black = publishing.publish(session, org.uscc, f.list_entry("black"), department_code="SZTAX",
                                    now=clock.now()).record
        with unit_of_work() as session:
            seen = history.history(session, red.id, viewer="SZAMR")
            removed = _events(session)[-1]
        assert seen.record.status == "superseded"
        assert seen.record.status_reason == "superseded_by_black_list"
        assert [c.status for c in seen.status_changes] == ["active", "superseded"]
        assert removed["type"] == "list_entry.removed"
        assert removed["data"]["reason"] == "superseded_by_black_list"
        assert removed["data"]["caused_by"] == black.id

    def test_a_restricted_black_entry_ends_nothing(self, unit_of_work, clock, org) -> None:
        with unit_of_work() as session:
            red = publishing.publish(session, org.uscc, f.list_entry("red"), department_code="SZAMR", now=clock.now()).record
            publishing.publish(session, org.uscc, f.list_entry("black"), department_code="SZTAX", now=clock.now(),
                            visibility="restricted")
        with unit_of_work() as session:
            assert history.history(session, red.id, viewer="SZAMR").record.status == "active"

    def test_withdrawing_the_black_entry_reinstates_the_red_one(self, unit_of_work, clock, org) -> None:
        with unit_of_work() as session:
            red = publishing.publish(session, org.uscc, f.list_entry("red"), department_code="SZAMR", now=clock.now()).record
            black = publishing.publish(session, org.uscc, f.list_entry("black"), department_code="SZTAX",
                                    now=clock.now()).record
            changes.withdraw(session, black.id, department_code="SZTAX", reason="决定被撤销", now=clock.now())
        with unit_of_work() as session:
            seen = history.history(session, red.id, viewer="SZAMR")
            last = _events(session)[-1]
        assert [c.status for c in seen.status_changes] == ["active", "superseded", "active"]
        assert (last["type"], last["data"]["reason"], last["data"]["caused_by"]) == \
            ("list_entry.added", "reinstated", black.id)

    def test_a_red_entry_comes_back_only_when_no_black_entry_is_left(self, unit_of_work, clock, org) -> None:
        def statuses(*ids: str) -> list[str]:
            with unit_of_work() as session:
                return [history.history(session, i, viewer="SZAMR").record.status for i in ids]

        with unit_of_work() as session:
            other = f.make_organization(session, now=clock.now()).uscc
            red = publishing.publish(session, org.uscc, f.list_entry("red"), department_code="SZAMR", now=clock.now()).record
            first = publishing.publish(session, org.uscc, f.list_entry("black"), department_code="SZTAX", now=clock.now()).record
            second = publishing.publish(session, org.uscc, f.list_entry("black"), department_code="SZAMR",
                                     now=clock.now()).record
            other_red = publishing.publish(session, other, f.list_entry("red"), department_code="SZAMR", now=clock.now()).record
            publishing.publish(session, other, f.list_entry("black"), department_code="SZTAX", now=clock.now())
            changes.withdraw(session, first.id, department_code="SZTAX", reason="决定被撤销", now=clock.now())
        assert statuses(red.id, other_red.id) == ["superseded", "superseded"]  # the second still excludes it
        with unit_of_work() as session:
            changes.withdraw(session, second.id, department_code="SZAMR", reason="决定被撤销", now=clock.now())
            red_changes = history.history(session, red.id, viewer="SZAMR").status_changes
            untouched = history.history(session, other_red.id, viewer="SZAMR").status_changes
        assert [c.status for c in untouched] == ["active", "superseded"]
        assert statuses(red.id, other_red.id) == ["active", "superseded"]  # another organization's stays ended
        assert [(c.status, c.caused_by) for c in red_changes] == [("active", None), ("superseded", first.id),
                                                              ("superseded", second.id), ("active", second.id)]
        assert [c.reason for c in red_changes[2:]] == ["superseded_by_black_list",
                                                   "reinstated: the black listing that ended it was withdrawn"]


class TestCorrect:
    def test_correction_is_a_new_version_and_keeps_the_old(self, unit_of_work, clock, org) -> None:
        with unit_of_work() as session:
            record = publishing.publish(session, org.uscc, f.violation(severity="general"),
                                     department_code="SZAMR", now=clock.now()).record
        corrected_fields = f.violation(decision_no=record.decision_no, severity="serious",
                                       penalty="罚款人民币20万元", fine_amount="200000")
        clock.advance(days=1)
        with unit_of_work() as session:
            changes.correct(session, record.id, corrected_fields, department_code="SZAMR",
                            reason="处罚金额录入错误", now=clock.now())
        with unit_of_work() as session:
            seen = history.history(session, record.id, viewer="SZAMR")
            last = _events(session)[-1]
        assert seen.record.version == 2
        assert seen.record.severity == "serious"
        assert seen.record.ends_on == date(2029, 5, 1)  # serious window, same rule set
        assert [v.version for v in seen.versions] == [1, 2]
        assert seen.versions[0].content["penalty"] == "警告，罚款人民币5万元"
        assert seen.versions[1].reason == "处罚金额录入错误"
        assert last["type"] == "violation.corrected" and last["data"]["version"] == 2

    def test_only_the_owner_corrects(self, unit_of_work, clock, org) -> None:
        with unit_of_work() as session:
            record = publishing.publish(session, org.uscc, f.rating(), department_code="SZAMR", now=clock.now()).record
        with pytest.raises(NotOwner), unit_of_work() as session:
            changes.correct(session, record.id, f.rating(grade="D"), department_code="SZTAX", reason="x",
                            now=clock.now())
        with unit_of_work() as session:
            assert history.history(session, record.id, viewer="SZAMR").record.grade == "AA"

    def test_kind_cannot_change(self, unit_of_work, clock, org) -> None:
        with unit_of_work() as session:
            record = publishing.publish(session, org.uscc, f.rating(), department_code="SZAMR", now=clock.now()).record
        with pytest.raises(InvalidRecord, match="is a rating"), unit_of_work() as session:
            changes.correct(session, record.id, f.disclosure(), department_code="SZAMR", reason="x",
                            now=clock.now())

    def test_entry_cannot_move_between_lists(self, unit_of_work, clock, org) -> None:
        with unit_of_work() as session:
            record = publishing.publish(session, org.uscc, f.list_entry("red"), department_code="SZAMR",
                                     now=clock.now()).record
        with pytest.raises(InvalidRecord, match="other list"), unit_of_work() as session:
            changes.correct(session, record.id, f.list_entry("black"), department_code="SZAMR", reason="x",
                            now=clock.now())


class TestWithdraw:
    def test_withdrawal_keeps_the_record_with_its_reason(self, unit_of_work, clock, org) -> None:
        with unit_of_work() as session:
            record = publishing.publish(session, org.uscc, f.violation(), department_code="SZAMR", now=clock.now()).record
            changes.withdraw(session, record.id, department_code="SZAMR", reason="复议撤销", now=clock.now())
        with unit_of_work() as session:
            seen = history.history(session, record.id, viewer="SZAMR")
            last = _events(session)[-1]
        assert seen.record.status == "withdrawn"
        assert [(c.status, c.reason) for c in seen.status_changes] == [("active", "published"),
                                                                           ("withdrawn", "复议撤销")]
        assert last["type"] == "violation.withdrawn" and last["data"]["reason"] == "复议撤销"

    def test_list_entry_withdrawal_is_a_removal(self, unit_of_work, clock, org) -> None:
        with unit_of_work() as session:
            record = publishing.publish(session, org.uscc, f.list_entry(), department_code="SZAMR", now=clock.now()).record
            changes.withdraw(session, record.id, department_code="SZAMR", reason="决定被撤销", now=clock.now())
        with unit_of_work() as session:
            last = _events(session)[-1]
        assert (last["type"], last["data"]["reason"]) == ("list_entry.removed", "withdrawn")

    def test_twice_is_refused(self, unit_of_work, clock, org) -> None:
        with unit_of_work() as session:
            record = publishing.publish(session, org.uscc, f.rating(), department_code="SZAMR", now=clock.now()).record
            changes.withdraw(session, record.id, department_code="SZAMR", reason="错误", now=clock.now())
        with pytest.raises(InvalidTransition), unit_of_work() as session:
            changes.withdraw(session, record.id, department_code="SZAMR", reason="再次", now=clock.now())

    def test_other_department_forbidden(self, unit_of_work, clock, org) -> None:
        with unit_of_work() as session:
            record = publishing.publish(session, org.uscc, f.rating(), department_code="SZAMR", now=clock.now()).record
        with pytest.raises(NotOwner), unit_of_work() as session:
            changes.withdraw(session, record.id, department_code="SZTAX", reason="x", now=clock.now())

    def test_unknown_record(self, unit_of_work, clock, org) -> None:
        with pytest.raises(RecordNotFound), unit_of_work() as session:
            changes.withdraw(session, "rec_nope", department_code="SZAMR", reason="x", now=clock.now())


class TestOrganizations:
    def test_update_keeps_region_from_code_and_emits_event(self, unit_of_work, clock, org) -> None:
        with unit_of_work() as session:
            updated = master_data.register(
                session, org.uscc.lower(), master_data.OrganizationFields(name="深圳市华兴电子科技股份有限公司",
                                                                            status="revoked"),
                now=clock.now(),
            )
        assert (updated.uscc, updated.region_code, updated.status) == (org.uscc, "440300", "revoked")
        with unit_of_work() as session:
            assert [e["data"]["created"] for e in _events(session)] == [True, False]


def test_a_decision_cannot_be_dated_after_today(client, parties) -> None:
    a = parties["a"].headers
    client.put(f"/v1/organizations/{f.HUAWEI}", headers=a, json={"name": "华为技术有限公司"})
    future = f.violation(decided_on=date(2026, 6, 16)).model_dump(mode="json", exclude_none=True)  # today: 06-15
    response = client.post(f"/v1/organizations/{f.HUAWEI}/violations", headers=a, json=future)
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["body", "decided_on"]
    listing = f.list_entry("red", effective_on=date(2026, 7, 1)).model_dump(mode="json", exclude_none=True)
    assert client.post("/v1/list-entries", headers=a, json=listing | {"code": f.HUAWEI}).status_code == 201
