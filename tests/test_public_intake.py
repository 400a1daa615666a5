"""Objections and credit repair requests from the public, over HTTP."""

from datetime import date

import pytest

from service.records import publishing
from tests import factories as f

HUAWEI = f.HUAWEI
CONTACT = "张先生 13912345678"


@pytest.fixture
def published(unit_of_work, clock):
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        f.make_organization(session, now=clock.now(), code=HUAWEI, name="华为技术有限公司")
        return {
            "violation": publishing.publish(session, HUAWEI, f.violation(decided_on=date(2026, 1, 10)),
                                         department_code="SZAMR", now=clock.now()).record,
            "fresh_violation": publishing.publish(session, HUAWEI, f.violation(decided_on=date(2026, 6, 1)),
                                               department_code="SZAMR", now=clock.now()).record,
            "revocation": publishing.publish(session, HUAWEI, f.violation(
                severity="serious", penalty_types=["fine", "licence_revocation"], decided_on=date(2024, 1, 1)),
                department_code="SZAMR", now=clock.now()).record,
            "shared": publishing.publish(session, HUAWEI, f.violation(), department_code="SZAMR", now=clock.now(),
                                      visibility="shared").record,
            "black": publishing.publish(session, HUAWEI, f.list_entry("black", effective_on=date(2025, 3, 1)),
                                     department_code="SZAMR", now=clock.now()).record,
            "rating": publishing.publish(session, HUAWEI, f.rating(), department_code="SZAMR", now=clock.now()).record,
        }


def objection(record_id: str) -> dict:
    return {"record_id": record_id, "reason": "处罚决定已被复议撤销，请更正", "contact": CONTACT,
            "evidence_url": "https://example.org/fuyi.pdf"}


def repair(record_id: str) -> dict:
    return {"record_id": record_id, "statement": "罚款已缴清，问题产品已全部召回整改。",
            "commitment": "本企业承诺今后严格遵守产品质量法律法规。", "contact": CONTACT}


class TestObjections:
    def test_filing_marks_the_record_and_the_ticket_shows_status(self, client, published) -> None:
        record_id = published["violation"].id
        filed = client.post("/v1/public/objections", json=objection(record_id))
        assert filed.status_code == 201
        body = filed.json()
        assert body["ticket"].startswith("obj_") and body["status"] == "pending"
        assert body["deadline"] == "2026-07-05"  # 20 days after 2026-06-15
        assert filed.headers["cache-control"] == "no-store"

        profile = client.get(f"/v1/public/organizations/{HUAWEI}")
        marked = {r["id"]: r["under_objection"] for r in profile.json()["records"]}
        assert marked[record_id] is True and marked[published["black"].id] is False
        assert CONTACT not in profile.text

        status = client.get(f"/v1/public/objections/{body['ticket']}", headers={"Ticket-Secret": body["secret"]})
        assert status.status_code == 200
        assert (status.json()["status"], status.json()["overdue"]) == ("pending", False)
        assert status.headers["cache-control"] == "no-store" and "etag" not in status.headers
        assert CONTACT not in status.text

    def test_wrong_secret_and_unknown_ticket_look_alike(self, client, published) -> None:
        body = client.post("/v1/public/objections", json=objection(published["violation"].id)).json()
        wrong = client.get(f"/v1/public/objections/{body['ticket']}", headers={"Ticket-Secret": "x" * 43})
        unknown = client.get("/v1/public/objections/obj_" + "0" * 26, headers={"Ticket-Secret": body["secret"]})
        assert wrong.status_code == unknown.status_code == 404
        assert wrong.json()["title"] == unknown.json()["title"]

    @pytest.mark.parametrize("which", ["shared", "missing"])
    def test_only_published_records(self, client, published, which) -> None:
        record_id = published["shared"].id if which == "shared" else "rec_" + "0" * 26
        response = client.post("/v1/public/objections", json=objection(record_id))
        assert response.status_code == 422
        assert "not a record on public display" in response.json()["detail"]

    @pytest.mark.parametrize("field", ["reason", "contact"])
    def test_required_fields(self, client, published, field) -> None:
        body = objection(published["violation"].id) | {field: ""}
        assert client.post("/v1/public/objections", json=body).status_code == 422


class TestRepairRequests:
    @pytest.mark.parametrize("which", ["violation", "black"])
    def test_accepted_once_the_minimum_is_served(self, client, published, which) -> None:
        filed = client.post("/v1/public/repair-requests", json=repair(published[which].id))
        assert filed.status_code == 201, filed.text
        body = filed.json()
        status = client.get(f"/v1/public/repair-requests/{body['ticket']}", headers={"Ticket-Secret": body["secret"]})
        assert status.json()["status"] == "pending"

    @pytest.mark.parametrize(("which", "message"), [
        ("fresh_violation", "repair can be requested from 2026-09-01"),
        ("revocation", "cannot be repaired early: licence_revocation"),
        ("rating", "only violations and black list entries"),
    ])
    def test_refused_when_the_rules_do_not_allow(self, client, published, which, message) -> None:
        response = client.post("/v1/public/repair-requests", json=repair(published[which].id))
        assert response.status_code == 422
        assert message in response.json()["detail"]

    def test_a_black_entry_younger_than_a_year_is_refused(self, client, published, unit_of_work, clock) -> None:
        with unit_of_work() as session:
            young = publishing.publish(session, HUAWEI, f.list_entry("black", effective_on=date(2026, 1, 1)),
                                    department_code="SZAMR", now=clock.now()).record
        response = client.post("/v1/public/repair-requests", json=repair(young.id))
        assert "from 2027-01-01" in response.json()["detail"]
