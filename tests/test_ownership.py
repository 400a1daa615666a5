"""Every object a department owns, reached by its real id from another department that holds
every scope a department can hold: the answer is the contract's (404, or 403 where the contract
says so), nothing changes, and the owner's identical request succeeds.

The cases come from the app's own route table: a new route that takes an object id fails
``test_every_id_route_has_a_case`` until it gets a case here or a reason in NOT_OWNED.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select

from db.session import transaction
from db.tables import metadata
from service.access.actors import ALL_SCOPES, Scope
from tests import factories as f
from tests.test_complaints import about as complaint_about
from tests.test_public_intake import objection, repair
from tests.webhook_receivers import run_until_idle

HUAWEI = f.HUAWEI
DEPARTMENT_SCOPES = sorted(ALL_SCOPES - {Scope.ADMIN})

# Routes with a path parameter that names no department's object, and why.
NOT_OWNED = {
    ("GET", "/v1/organizations/{code}"): "organizations are shared master data; records inside are filtered "
                                         "by visibility (test_records)",
    ("PUT", "/v1/organizations/{code}"): "master data: the market regulator may update any, others what they "
                                         "registered (403, test_authorization_matrix)",
    ("GET", "/v1/organizations/{code}/credit-check"): "shared master data",
    ("POST", "/v1/organizations/{code}/ratings"): "creates a record of the caller's own",
    ("POST", "/v1/organizations/{code}/violations"): "creates a record of the caller's own",
    ("POST", "/v1/organizations/{code}/disclosures"): "creates a record of the caller's own",
    ("POST", "/v1/organizations/{code}/inspections"): "creates a record of the caller's own",
    ("GET", "/v1/public/inspections/{record_id}"): "public: only public, active spot checks are found "
                                                   "(test_inspections)",
    ("GET", "/inspections/{record_id}"): "public page, as the API beside it",
    ("GET", "/v1/public/organizations/{code}"): "public",
    ("GET", "/v1/public/lists/{list_name}"): "public",
    ("GET", "/v1/public/lists/{list_name}/export"): "public",
    ("GET", "/v1/public/statistics/{name}"): "public: counts of what the public sees",
    ("GET", "/organizations/{code}"): "public page",
    ("GET", "/organizations/{code}/objection"): "public page",
    ("POST", "/organizations/{code}/objection"): "public page",
    ("GET", "/lists/{list_name}"): "public page",
    ("GET", "/v1/public/objections/{ticket}"): "the filer's, guarded by the ticket secret, not by a department",
    ("GET", "/v1/public/repair-requests/{ticket}"): "the filer's, guarded by the ticket secret",
    ("POST", "/v1/admin/departments/{code}/clients"): "admin scope only, which no department holds",
    ("GET", "/v1/admin/departments/{code}/clients"): "admin scope only",
    ("DELETE", "/v1/admin/clients/{client_id}"): "admin scope only",
    ("POST", "/v1/organizations/{code}/measures"): "creates a report of the caller's own; the triggering record "
                                                   "must be one it may see (test_credit_consequences)",
    ("GET", "/v1/organizations/{code}/measures"): "shared master data; the reports inside are filtered to the "
                                                  "caller's own and those its records triggered "
                                                  "(test_credit_consequences)",
    ("GET", "/v1/organizations/{code}/credit-report"): "public data of shared master data, issued to any reader",
    ("GET", "/reports/{report_id}"): "public page: a report is made to be shown",
    ("GET", "/reports/{report_id}.pdf"): "public: a report is made to be shown",
    ("GET", "/verify/{report_id}"): "public page",
    ("GET", "/v1/public/complaints/{ticket}"): "the filer's, guarded by the ticket secret, not by a department",
    ("POST", "/v1/admin/complaints/{complaint_id}/route"): "admin scope only (the administrators' queue)",
    ("POST", "/v1/admin/complaints/{complaint_id}/reject"): "admin scope only (the administrators' queue)",
}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    target: str  # which of the owner's objects the id names
    owner_status: int
    stranger_status: int = 404
    body: dict | Callable[[dict], dict] | None = None  # a callable gets the owner's objects
    # Whether the owner's call changes what the state check looks at: proof that the check would
    # have seen the stranger's call change it.
    changes: bool = True


def _correction(target: str) -> Callable[[dict], dict]:
    return lambda owned: {"reason": "罚款金额录入错误，更正", "fields": owned["fields"][target]}


# In this order: what ends an object (a decision, DELETE, a withdrawal) comes after every other
# call on it, because the owner's call goes through each time.
CASES = [
    Case("GET", "/v1/webhooks/endpoints/{endpoint_id}", "endpoint", 200, changes=False),
    Case("GET", "/v1/webhooks/endpoints/{endpoint_id}/deliveries", "endpoint", 200, changes=False),
    Case("PATCH", "/v1/webhooks/endpoints/{endpoint_id}", "endpoint", 200, body={"description": "夜间同步"}),
    Case("POST", "/v1/webhooks/endpoints/{endpoint_id}/secret/rotate", "endpoint", 200),
    Case("POST", "/v1/webhooks/endpoints/{endpoint_id}/test", "endpoint", 200),
    Case("POST", "/v1/webhooks/endpoints/{endpoint_id}/replay", "endpoint", 202,
         body={"since": "2026-06-01T00:00:00Z"}),
    Case("POST", "/v1/webhooks/deliveries/{delivery_id}/resend", "delivery", 202),
    Case("DELETE", "/v1/webhooks/endpoints/{endpoint_id}", "endpoint", 200),
    Case("GET", "/v1/batches/{batch_id}", "batch", 200, changes=False),
    Case("GET", "/v1/batches/{batch_id}/results", "batch", 200, changes=False),
    # Complaints are the handling department's (routed to SZAMR; SZTAX's were transferred to it).
    Case("GET", "/v1/complaints/{complaint_id}", "complaint", 200, changes=False),
    Case("POST", "/v1/complaints/{complaint_id}/accept", "complaint", 200),
    Case("POST", "/v1/complaints/{complaint_id}/close", "complaint", 200, body={"result": "经调解已退货"}),
    Case("POST", "/v1/complaints/{complaint_id}/reject", "complaint_rejected", 200, body={"reason": "不予受理"}),
    Case("POST", "/v1/complaints/{complaint_id}/transfer", "complaint_transferred", 200,
         body=lambda owned: {"department": owned["other"], "reason": "属地管辖"}),
    Case("POST", "/v1/objections/{objection_id}/decision", "objection", 200,
         body={"outcome": "upheld", "reason": "处罚决定合法有效"}),
    Case("POST", "/v1/repair-requests/{request_id}/decision", "repair_request", 200,
         body={"outcome": "rejected", "reason": "整改尚未完成"}),
    Case("GET", "/v1/records/{record_id}", "restricted", 200, changes=False),
    # A restricted record is invisible to the stranger: 404, as if it did not exist. A public one
    # the stranger may read (GET answers 200), so hiding it would hide nothing: the contract says
    # "only the owning department may correct or withdraw (others get 403)".
    Case("POST", "/v1/records/{record_id}/corrections", "restricted", 200, body=_correction("restricted")),
    Case("POST", "/v1/records/{record_id}/corrections", "public", 200, 403, body=_correction("public")),
    Case("POST", "/v1/records/{record_id}/withdrawal", "restricted", 200, body={"reason": "处罚决定已撤销"}),
    Case("POST", "/v1/records/{record_id}/withdrawal", "public", 200, 403, body={"reason": "处罚决定已撤销"}),
]


def id_routes(app) -> set[tuple[str, str]]:
    return {(method, context.path_format) for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute) and "{" in context.path_format
            for method in context.methods}


def test_every_id_route_has_a_case(app) -> None:
    assert id_routes(app) == {(c.method, c.path) for c in CASES} | set(NOT_OWNED)


def database_rows(db) -> dict[str, list[tuple]]:
    """Every row of every table but the audit log (which records the refusals themselves)."""
    with transaction(db) as session:
        return {table.name: [tuple(row) for row in session.execute(
                    select(table).order_by(*table.primary_key.columns))]
                for table in metadata.sorted_tables if table.name != "audit_entry"}


def _build(client, headers: dict, receiver_url: str) -> dict:
    """A department's own objects, each made over HTTP as a client of it would."""
    endpoint = client.post("/v1/webhooks/endpoints", headers=headers, json={"url": receiver_url})
    made = {"endpoint": endpoint.json()["id"], "fields": {}}
    for target, visibility in (("public", "public"), ("restricted", "restricted")):
        # Decided long enough ago that its minimum publicity is served: repair may be requested.
        fields = f.violation(decided_on=date(2025, 12, 1)).model_dump(mode="json", exclude_none=True)
        response = client.post(f"/v1/organizations/{HUAWEI}/violations", headers=headers,
                               json=fields | {"visibility": visibility})
        assert response.status_code == 201, response.text
        made[target], made["fields"][target] = response.json()["id"], fields | {"fine_amount": "30000"}
    lines = [{"type": "violation", "code": HUAWEI, **f.violation().model_dump(mode="json", exclude_none=True)},
             {"type": "violation", "code": HUAWEI}]  # the second is rejected: results of both kinds
    batch = client.post("/v1/batches", headers=headers | {"content-type": "application/x-ndjson"},
                        content="\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode())
    assert (batch.status_code, batch.json()["accepted"], batch.json()["rejected"]) == (200, 1, 1), batch.text
    made["batch"] = batch.json()["id"]
    for target, path, body in (("objection", "/v1/public/objections", objection(made["public"])),
                               ("repair_request", "/v1/public/repair-requests", repair(made["public"]))):
        filed = client.post(path, json=body)  # by the public: the department is the handler
        assert filed.status_code == 201, filed.text
        made[target] = filed.json()["ticket"]
    return made


@pytest.fixture
def departments(client, parties, client_for, db, clock, receivers):
    """Market regulation (SZAMR) and tax (SZTAX), each holding every department scope and owning
    one of everything; every endpoint has deliveries that were attempted."""
    headers = {code: client_for(code, *DEPARTMENT_SCOPES) for code in ("SZAMR", "SZTAX")}
    # Registered before any endpoint exists: its event is one a replay finds missing.
    client.put(f"/v1/organizations/{HUAWEI}", headers=headers["SZAMR"], json={"name": "华为技术有限公司"})
    hooks = {code: receivers() for code in headers}
    owned = {code: _build(client, headers[code], hooks[code].url) for code in headers}
    for code, other in (("SZAMR", "SZTAX"), ("SZTAX", "SZAMR")):
        owned[code]["other"] = other
        for target in ("complaint", "complaint_rejected", "complaint_transferred"):
            # Huawei's complaints go to its market regulator, SZAMR, which hands SZTAX its share.
            filed = client.post("/v1/public/complaints", json=complaint_about(HUAWEI, contact=f"{code} {target}"))
            assert filed.status_code == 201, filed.text
            owned[code][target] = filed.json()["ticket"]
            if code == "SZTAX":
                assert client.post(f"/v1/complaints/{owned[code][target]}/transfer", headers=headers["SZAMR"],
                                   json={"department": "SZTAX", "reason": "税务问题"}).status_code == 200
    run_until_idle(db, clock)
    for code, objects in owned.items():
        log = client.get(f"/v1/webhooks/endpoints/{objects['endpoint']}/deliveries", headers=headers[code]).json()
        assert log and all(d["status"] == "succeeded" for d in log)
        objects["delivery"] = log[0]["id"]
    return {code: (headers[code], owned[code], hooks[code]) for code in headers}


def _call(client, case: Case, headers: dict, owned: dict):
    url = re.sub(r"\{\w+\}", owned[case.target], case.path)
    body = case.body(owned) if callable(case.body) else case.body
    return client.request(case.method, url, headers=headers, json=body)


def test_another_department_gets_the_contract_answer_and_changes_nothing(client, db, departments) -> None:
    def state() -> tuple:
        return database_rows(db), [len(hook.received) for _, _, hook in departments.values()]

    wrong = []
    before = state()
    for owner, stranger in (("SZAMR", "SZTAX"), ("SZTAX", "SZAMR")):
        owner_headers, owned, _ = departments[owner]
        stranger_headers = departments[stranger][0]
        for case in CASES:
            where = f"{stranger} -> {owner}'s {case.target}: {case.method} {case.path}"
            refused = _call(client, case, stranger_headers, owned)
            if refused.status_code != case.stranger_status:
                wrong.append(f"{where}: {refused.status_code} {refused.text[:200]}")
            if (after_refusal := state()) != before:
                wrong.append(f"{where}: changed {_difference(before, after_refusal)}")
            done = _call(client, case, owner_headers, owned)
            if done.status_code != case.owner_status:
                wrong.append(f"{where}: the owner got {done.status_code} {done.text[:200]}")
            if ((after := state()) != after_refusal) != case.changes:
                wrong.append(f"{where}: the owner's call {'changed nothing' if case.changes else 'changed state'}")
            before = after
    assert not wrong, "\n".join(wrong)


def _difference(before: tuple, after: tuple) -> list[str]:
    rows_before, rows_after = before[0], after[0]
    changed = [name for name in rows_before if rows_before[name] != rows_after[name]]
    return changed + (["webhook receivers"] if before[1] != after[1] else [])
