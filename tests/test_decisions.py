"""Objections and credit repair end to end: the public files, the deciding department answers over
its API, and the public view, the filer's ticket, other departments and the feed all follow."""

from datetime import date

import pytest

from service.records import publishing
from service.rules import lifecycle
from tests import factories as f
from tests.test_public_intake import objection, repair

HUAWEI = f.HUAWEI


@pytest.fixture
def world(client, parties, unit_of_work, clock):
    client.put(f"/v1/organizations/{HUAWEI}", headers=parties["a"].headers, json={"name": "华为技术有限公司"})
    with unit_of_work() as session:
        made = {
            "violation": publishing.publish(session, HUAWEI, f.violation(decided_on=date(2026, 6, 1)),
                                         department_code="SZAMR", now=clock.now()).record.id,
            "serious": publishing.publish(session, HUAWEI, f.violation(severity="serious", decided_on=date(2025, 3, 1)),
                                       department_code="SZAMR", now=clock.now()).record.id,
        }
    return made


def file(client, path: str, body: dict) -> dict:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def ticket(client, kind: str, filed: dict) -> dict:
    return client.get(f"/v1/public/{kind}/{filed['ticket']}", headers={"Ticket-Secret": filed["secret"]}).json()


def marked(client, record_id: str) -> bool | None:
    profile = client.get(f"/v1/public/organizations/{HUAWEI}").json()
    return {r["id"]: r["under_objection"] for r in profile["records"]}.get(record_id)


def event_types(client, headers) -> list[str]:
    return [e["type"] for e in client.get("/v1/events", headers=headers, params={"limit": 1000}).json()["data"]]


def test_an_objection_answered_with_a_correction(client, parties, world, client_for) -> None:
    a = parties["a"].headers
    record_id = world["violation"]
    filed = file(client, "/v1/public/objections", objection(record_id))
    assert marked(client, record_id) is True

    listed = client.get("/v1/objections", headers=a, params={"status": "pending"}).json()["items"]
    assert [(o["id"], o["record_id"], o["overdue"], o["deadline"]) for o in listed] == \
        [(filed["ticket"], record_id, False, "2026-07-05")]
    assert listed[0]["contact"].startswith("张先生")  # the deciding department may reach the filer

    b = client_for("SZTAX", "objections:handle")  # handles objections, on B's records only
    assert client.get("/v1/objections", headers=b).json()["items"] == []
    decision = {"outcome": "corrected", "reason": "经核查，罚款金额录入错误，已更正",
                "fields": f.violation(decided_on=date(2026, 6, 1), fine_amount="30000").model_dump(mode="json")}
    assert client.post(f"/v1/objections/{filed['ticket']}/decision", headers=b, json=decision).status_code == 404

    decided = client.post(f"/v1/objections/{filed['ticket']}/decision", headers=a, json=decision)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "corrected"
    history = client.get(f"/v1/records/{record_id}", headers=a).json()
    assert history["version"] == 2 and history["details"]["fine_amount"] == "30000"
    assert history["versions"][-1]["reason"].startswith(f"objection {filed['ticket']}")
    assert marked(client, record_id) is False
    answer = ticket(client, "objections", filed)
    assert answer["status"] == "corrected" and answer["decision_reason"] == decision["reason"]
    assert client.post(f"/v1/objections/{filed['ticket']}/decision", headers=a, json=decision).status_code == 409
    assert event_types(client, a)[-2:] == ["violation.corrected", "objection.resolved"]


def test_objections_upheld_or_withdrawn(client, parties, world) -> None:
    a = parties["a"].headers
    upheld = file(client, "/v1/public/objections", objection(world["violation"]))
    withdrawn = file(client, "/v1/public/objections", objection(world["serious"]))
    assert client.post(f"/v1/objections/{upheld['ticket']}/decision", headers=a,
                       json={"outcome": "upheld", "reason": "处罚决定合法有效"}).status_code == 200
    assert client.post(f"/v1/objections/{withdrawn['ticket']}/decision", headers=a,
                       json={"outcome": "withdrawn", "reason": "处罚决定已被复议撤销"}).status_code == 200
    profile = client.get(f"/v1/public/organizations/{HUAWEI}").json()
    shown = {r["id"]: r["under_objection"] for r in profile["records"]}
    assert shown == {world["violation"]: False}  # the withdrawn record is off public display
    assert client.get(f"/v1/records/{world['serious']}", headers=a).json()["status"] == "withdrawn"
    assert ticket(client, "objections", upheld)["status"] == "upheld"


@pytest.mark.parametrize(("body", "problem"), [
    ({"outcome": "corrected", "reason": "更正"}, "fields are required"),
    ({"outcome": "upheld", "reason": "维持", "fields": {}}, "only with it"),
    ({"outcome": "maybe", "reason": "维持"}, "outcome"),
])
def test_an_objection_decision_must_be_complete(client, parties, world, body, problem) -> None:
    filed = file(client, "/v1/public/objections", objection(world["violation"]))
    response = client.post(f"/v1/objections/{filed['ticket']}/decision", headers=parties["a"].headers, json=body)
    assert response.status_code == 422 and problem in response.text
    assert ticket(client, "objections", filed)["status"] == "pending"  # nothing written


def test_overdue_objections_are_flagged(client, parties, world, clock) -> None:
    file(client, "/v1/public/objections", objection(world["violation"]))
    clock.advance(days=21)
    [listed] = client.get("/v1/objections", headers=parties["a"].headers).json()["items"]
    assert listed["overdue"] is True
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'registry_objections_overdue{department="SZAMR"} 1\n' in metrics.text
    assert 'registry_tickets_pending{kind="objection"} 1\n' in metrics.text
    assert "张先生" not in metrics.text


def test_credit_repair_approved_takes_the_record_off_display_and_out_of_sharing(client, parties, world) -> None:
    a, b = parties["a"].headers, parties["b"].headers
    record_id = world["serious"]  # decided 2025-03-01: the 1-year minimum publicity is served
    filed = file(client, "/v1/public/repair-requests", repair(record_id))
    [listed] = client.get("/v1/repair-requests", headers=a, params={"status": "pending"}).json()["items"]
    assert listed["id"] == filed["ticket"] and listed["commitment"].startswith("本企业承诺")
    assert client.get(f"/v1/records/{record_id}", headers=b).status_code == 200  # public: others see it

    decided = client.post(f"/v1/repair-requests/{filed['ticket']}/decision", headers=a,
                          json={"outcome": "approved", "reason": "已履行处罚决定并作出信用承诺"})
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    profile = client.get(f"/v1/public/organizations/{HUAWEI}").json()
    assert record_id not in {r["id"] for r in profile["records"]}
    assert client.get(f"/v1/records/{record_id}", headers=b).status_code == 404  # sharing stopped
    kept = client.get(f"/v1/records/{record_id}", headers=a).json()
    assert kept["status"] == "repaired" and [c["status"] for c in kept["status_changes"]] == ["active", "repaired"]
    assert ticket(client, "repair-requests", filed)["status"] == "approved"
    assert event_types(client, a)[-2:] == ["violation.repaired", "repair.decided"]
    assert event_types(client, b)[-1] == "violation.repaired"  # told to let go of its copy; not the ticket events


def test_early_black_list_removal_leaves_no_public_trace(client, parties, unit_of_work, clock) -> None:
    a = parties["a"].headers
    client.put(f"/v1/organizations/{HUAWEI}", headers=a, json={"name": "华为技术有限公司"})
    with unit_of_work() as session:
        black = publishing.publish(session, HUAWEI, f.list_entry("black", effective_on=date(2025, 5, 1)),
                                department_code="SZAMR", now=clock.now()).record.id
    assert [e["record_id"] for e in client.get("/v1/public/lists/black").json()["items"]] == [black]
    filed = file(client, "/v1/public/repair-requests", repair(black))
    assert client.post(f"/v1/repair-requests/{filed['ticket']}/decision", headers=a,
                       json={"outcome": "approved", "reason": "满一年且已整改"}).status_code == 200
    assert client.get("/v1/public/lists/black").json()["items"] == []
    profile = client.get(f"/v1/public/organizations/{HUAWEI}")
    assert profile.json()["list_status"] == "none" and black not in profile.text
    assert client.get(f"/v1/records/{black}", headers=a).json()["status"] == "repaired"


def test_repair_rejected_or_no_longer_possible(client, parties, world, clock) -> None:
    a = parties["a"].headers
    rejected = file(client, "/v1/public/repair-requests", repair(world["serious"]))
    late = file(client, "/v1/public/repair-requests", repair(world["serious"]))
    assert client.post(f"/v1/repair-requests/{rejected['ticket']}/decision", headers=a,
                       json={"outcome": "rejected", "reason": "罚款尚未缴清"}).status_code == 200
    assert client.get(f"/v1/records/{world['serious']}", headers=a).json()["status"] == "active"
    assert client.post(f"/v1/records/{world['serious']}/withdrawal", headers=a,
                       json={"reason": "处罚决定被撤销"}).status_code == 200
    response = client.post(f"/v1/repair-requests/{late['ticket']}/decision", headers=a,
                           json={"outcome": "approved", "reason": "同意"})
    assert response.status_code == 409 and "withdrawn" in response.json()["detail"]
    assert ticket(client, "repair-requests", late)["status"] == "pending"


def test_as_of_answers_remember_expired_and_repaired_entries(client, parties, unit_of_work, clock) -> None:
    a, b = parties["a"].headers, parties["b"].headers
    client.put(f"/v1/organizations/{HUAWEI}", headers=a, json={"name": "华为技术有限公司"})
    with unit_of_work() as session:
        black = publishing.publish(session, HUAWEI, f.list_entry("black", effective_on=date(2025, 5, 1)),
                                department_code="SZAMR", now=clock.now()).record.id
        publishing.publish(session, HUAWEI, f.violation(severity="minor", decided_on=date(2026, 6, 1)),
                        department_code="SZAMR", now=clock.now())  # public until 2026-09-01
    filed = file(client, "/v1/public/repair-requests", repair(black))
    clock.advance(days=2)  # 2026-06-17: repair approved
    assert client.post(f"/v1/repair-requests/{filed['ticket']}/decision", headers=a,
                       json={"outcome": "approved", "reason": "满一年且已整改"}).status_code == 200
    clock.advance(days=106)  # 2026-10-01, past the violation's window
    lifecycle.sweep(unit_of_work, now=clock.now())

    def check(headers, as_of=None):
        body = client.get(f"/v1/organizations/{HUAWEI}/credit-check", headers=headers,
                          params={"as_of": as_of} if as_of else {}).json()
        return body["black_listed"], body["active_violations"]

    assert check(a) == (False, 0)
    assert check(a, "2026-06-16") == (True, 1)  # the owner: as it stood, repaired listing included
    assert check(a, "2026-08-01") == (False, 1)  # after the repair, before the expiry
    assert check(b, "2026-06-16") == (False, 1)  # sharing of the repaired listing stopped, even for the past


def test_ticket_events_are_for_the_deciding_department_alone(client, parties, world) -> None:
    file(client, "/v1/public/objections", objection(world["violation"]))
    assert "objection.filed" in event_types(client, parties["a"].headers)
    assert "objection.filed" not in event_types(client, parties["b"].headers)  # the record is public; the ticket is not


def test_deciding_a_correction_needs_the_scope_to_correct(client, parties, world, client_for) -> None:
    handler = client_for("SZAMR", "objections:handle")
    filed = file(client, "/v1/public/objections", objection(world["violation"]))
    withdrawn = client.post(f"/v1/objections/{filed['ticket']}/decision", headers=handler,
                            json={"outcome": "withdrawn", "reason": "撤销"})
    assert withdrawn.status_code == 403 and "records:write" in withdrawn.json()["detail"]
    assert client.post(f"/v1/objections/{filed['ticket']}/decision", headers=handler,
                       json={"outcome": "upheld", "reason": "维持"}).status_code == 200
