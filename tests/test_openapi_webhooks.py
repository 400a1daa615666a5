"""The webhooks in the OpenAPI document are the ones the registry sends: an entry for every event
type it can emit, and real deliveries (every type, driven through the HTTP app to a real receiver)
whose bodies match the documented schema of their type and whose headers are the documented ones."""

import json
import time
from datetime import date

import pytest
from openapi_schema_validator import OAS31Validator

from api.export_openapi import render
from api.schemas.webhooks import WEBHOOKS
from db.session import transaction
from service.rules import lifecycle
from service.sync import event_types, events
from service.sync.webhooks import signing
from tests import factories as f
from tests.test_complaints import about as complaint_about
from tests.test_complaints import product as complaint_about_product
from tests.test_public_intake import objection, repair
from tests.webhook_receivers import HUAWEI, run_until_idle

SENT = {*event_types.EVENT_TYPES, event_types.WEBHOOK_TEST}


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(render())


def _operation(document: dict, event_type: str) -> dict:
    return document["webhooks"][event_type]["post"]


def _body_schema(document: dict, event_type: str) -> OAS31Validator:
    schema = _operation(document, event_type)["requestBody"]["content"]["application/json"]["schema"]
    return OAS31Validator(schema | {"components": document["components"]}, format_checker=OAS31Validator.FORMAT_CHECKER)


class TestTheDocument:
    def test_every_event_type_has_a_webhook(self, document) -> None:
        assert list(WEBHOOKS) == list(event_types.EVENT_TYPES)
        assert set(document["webhooks"]) == SENT

    def test_each_states_its_headers_payload_and_answers(self, document) -> None:
        for event_type in SENT:
            operation = _operation(document, event_type)
            assert [(p["in"], p["name"], p["required"]) for p in operation["parameters"]] == \
                [("header", "webhook-id", True), ("header", "webhook-timestamp", True),
                 ("header", "webhook-signature", True)]
            schema = document["components"]["schemas"][operation["requestBody"]["content"]["application/json"]
                                                       ["schema"]["$ref"].rsplit("/", 1)[1]]
            assert schema["properties"]["type"]["const"] == event_type
            expected = {"200", "default"} if event_type == event_types.WEBHOOK_TEST else {"200", "410", "default"}
            assert set(operation["responses"]) == expected
            assert "whsec_" in operation["description"]

    def test_an_event_type_not_in_the_list_is_refused(self, unit_of_work, clock) -> None:
        with unit_of_work() as session, pytest.raises(ValueError, match=r"rating\.suspended"):
            events.emit(session, "rating.suspended", {}, at=clock.now())


def _written(response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


def _json(fields) -> dict:
    return fields.model_dump(mode="json", exclude_none=True)


def _every_event(client, a: dict, clock, db) -> None:
    """A world in which each event type happens at least once, all decided by department A."""
    other = f.new_uscc()
    for code, name in ((HUAWEI, "华为技术有限公司"), (other, "深圳市华兴电子科技有限公司")):
        _written(client.put(f"/v1/organizations/{code}", headers=a, json={"name": name}))
    org = f"/v1/organizations/{HUAWEI}"

    def record(kind: str, fields) -> dict:
        return _written(client.post(f"{org}/{kind}", headers=a, json=_json(fields)))

    def correct(record_id: str, fields) -> None:
        _written(client.post(f"/v1/records/{record_id}/corrections", headers=a,
                             json={"reason": "录入错误", "fields": _json(fields)}))

    def withdraw(record_id: str) -> None:
        _written(client.post(f"/v1/records/{record_id}/withdrawal", headers=a, json={"reason": "决定已撤销"}))

    rating = record("ratings", f.rating(valid_until=date(2026, 6, 20)))  # the sweep expires it
    correct(rating["id"], f.rating(valid_until=date(2026, 6, 20), score="90"))
    withdraw(record("ratings", f.rating())["id"])

    general = f.violation(decided_on=date(2026, 6, 1))
    objected = _written(client.post("/v1/public/objections", json=objection(record("violations", general)["id"])))
    corrected = f.violation(decided_on=date(2026, 6, 1), decision_no=general.decision_no, fine_amount="30000")
    _written(client.post(f"/v1/objections/{objected['ticket']}/decision", headers=a, json={
        "outcome": "corrected", "reason": "罚款金额录入错误", "fields": _json(corrected)}))
    withdraw(record("violations", f.violation())["id"])
    record("violations", f.violation(severity="minor", decided_on=date(2026, 3, 1)))  # publicity over: swept
    serious = record("violations", f.violation(severity="serious", decided_on=date(2025, 3, 1)))
    repairing = _written(client.post("/v1/public/repair-requests", json=repair(serious["id"])))
    _written(client.post(f"/v1/repair-requests/{repairing['ticket']}/decision", headers=a,
                         json={"outcome": "approved", "reason": "已履行处罚决定并作出信用承诺"}))

    published = record("disclosures", f.disclosure())
    correct(published["id"], f.disclosure(title="2025年度质量信用报告（修订）"))
    withdraw(published["id"])

    checked = f.inspection()  # a spot check: published, corrected, withdrawn
    spot_check = record("inspections", checked)
    correct(spot_check["id"], f.inspection(report_no=checked.report_no, product_name="橡皮绝缘软电线"))
    withdraw(spot_check["id"])

    def entry(fields) -> dict:
        return _written(client.post("/v1/list-entries", headers=a, json={"code": other} | _json(fields)))

    red_fields = f.list_entry("red")
    red = entry(red_fields)
    correct(red["id"], f.list_entry("red", decision_no=red_fields.decision_no, reason="质量诚信示范企业（复核）"))
    black = entry(f.list_entry("black"))  # ends the red entry: superseded_by_black_list; class D
    _written(client.post(f"/v1/organizations/{other}/measures", headers=a, json={
        "measure": "honours_restriction", "decision_no": "深市监惩〔2026〕1号", "decided_on": "2026-06-15",
        "trigger_record_id": black["id"]}))
    withdraw(black["id"])  # the red entry is in force again: reinstated

    clock.advance(days=10)  # past the rating's validity and the minor violation's publicity
    lifecycle.sweep(lambda: transaction(db), now=clock.now())


def _complaint_events(client, a: dict, admin: dict) -> None:
    """Complaints about Huawei go to A, its market regulator; one about a product without a
    producer is routed to A by the administrators (a transfer from their queue)."""
    closing, rejecting = (_written(client.post("/v1/public/complaints", json=complaint_about(contact=f"filer {n}")))
                          for n in range(2))
    _written(client.post(f"/v1/complaints/{closing['ticket']}/accept", headers=a))
    _written(client.post(f"/v1/complaints/{closing['ticket']}/close", headers=a, json={"result": "经调解已退货"}))
    _written(client.post(f"/v1/complaints/{rejecting['ticket']}/reject", headers=a, json={"reason": "不属于受理范围"}))
    queued = _written(client.post("/v1/public/complaints", json=complaint_about_product()))
    _written(client.post(f"/v1/admin/complaints/{queued['ticket']}/route", headers=admin,
                         json={"department": "SZAMR", "reason": "生产企业位于深圳"}))


def test_every_delivery_matches_its_documented_webhook(client, parties, db, clock, client_for, receivers,
                                                      document) -> None:
    a = parties["a"].headers
    receiver = receivers()
    hooks = client_for("SZAMR", "webhooks:manage")  # the deciding department: it gets the ticket events too
    endpoint = _written(client.post("/v1/webhooks/endpoints", headers=hooks, json={"url": receiver.url}))
    _every_event(client, a, clock, db)
    _complaint_events(client, a, parties["admin"].headers)
    run_until_idle(db, clock)
    assert client.post(f"/v1/webhooks/endpoints/{endpoint['id']}/test", headers=hooks).json()["status_code"] == 200

    seen = set()
    for headers, body in receiver.received:
        payload = json.loads(body)
        seen.add(payload["type"])
        assert payload["type"] in SENT, payload
        errors = [e.message for e in _body_schema(document, payload["type"]).iter_errors(payload)]
        assert not errors, (payload, errors)
        parameters = _operation(document, payload["type"])["parameters"]
        assert {h for h in headers if h.startswith("webhook-")} == {p["name"] for p in parameters}
        for parameter in parameters:
            value = headers[parameter["name"]]
            if parameter["schema"]["type"] == "integer":
                assert value.isdigit(), (parameter["name"], value)
                value = int(value)
            assert not list(OAS31Validator(parameter["schema"]).iter_errors(value)), (parameter["name"], value)
        assert headers["webhook-id"] == payload["id"]
        signing.verify([endpoint["secret"]], headers, body, now=int(time.time()))  # as the document says
    assert seen == SENT  # every documented webhook was really sent, and nothing else
