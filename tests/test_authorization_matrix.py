"""Every route of the app, from its own route table, against every kind of caller, with the exact
status each gets for a well-formed request about real objects of the ``world`` fixture.

A new route without a line in RULES fails ``test_every_route_has_a_rule``: nobody can add an
endpoint without deciding who may call it. A status other than 401 or 403 proves that the call got
past authorization and did what it should, so it is stated too: a "200" that should be a 404 is a
leak, a "404" that should be a 200 a broken request. Objects are A's, except the webhook endpoint
(the insurer's, "hooks"); tests/test_ownership.py has two departments holding every scope.
"""

import json
from datetime import date

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from api import report_signing
from service.access import clients
from service.credit import reports
from service.organizations import master_data
from service.organizations.master_data import OrganizationFields
from service.records import publishing
from service.rules.clock import local_date
from service.sync.webhooks import endpoints
from tests import factories as f
from tests.test_complaints import about as complaint_about
from tests.test_complaints import product as complaint_about_product
from tests.test_public_intake import objection, repair

HUAWEI = f.HUAWEI
ROLES = ("anonymous", "a", "b", "reader", "admin", "hooks")
NOBODY = {"anonymous": 401, "a": 403, "b": 403, "reader": 403, "admin": 403, "hooks": 403}


def everyone(status: int) -> dict:
    return dict.fromkeys(ROLES, status)


def only(status: int, *roles: str, **others: int) -> dict:
    """``status`` for ``roles``, what ``others`` says for those, and 401/403 for the rest."""
    return NOBODY | dict.fromkeys(roles, status) | others


RULES = {
    ("GET", "/healthz"): everyone(200),
    ("GET", "/readyz"): everyone(200),
    ("GET", "/metrics"): everyone(200),
    ("GET", "/.well-known/jwks.json"): everyone(200),
    ("POST", "/v1/auth/token"): everyone(200),  # A's credentials in the form; a bearer header is ignored
    ("GET", "/v1/public/organizations/{code}"): everyone(200),
    ("GET", "/v1/public/organizations"): everyone(200),
    ("GET", "/v1/public/lists/{list_name}"): everyone(200),
    ("GET", "/v1/public/lists/{list_name}/export"): everyone(200),
    ("GET", "/"): everyone(200),
    ("GET", "/organizations/{code}"): everyone(200),
    ("GET", "/organizations/{code}/objection"): everyone(200),
    ("POST", "/organizations/{code}/objection"): everyone(201),
    ("GET", "/lists/{list_name}"): everyone(200),
    ("GET", "/tickets"): everyone(200),
    ("POST", "/tickets"): everyone(200),
    ("GET", "/docs"): everyone(200),
    ("GET", "/docs/oauth2-redirect"): everyone(200),
    ("GET", "/redoc"): everyone(200),
    ("POST", "/v1/public/objections"): everyone(201),
    ("GET", "/v1/public/objections/{ticket}"): everyone(200),
    ("POST", "/v1/public/repair-requests"): everyone(201),
    ("GET", "/v1/public/repair-requests/{ticket}"): everyone(200),
    # Master data A registered as market regulator: B (tax) may not overwrite it.
    ("PUT", "/v1/organizations/{code}"): only(200, "a"),
    ("GET", "/v1/organizations/{code}"): only(200, "a", "b", "reader"),
    ("GET", "/v1/organizations/{code}/credit-check"): only(200, "a", "b", "reader"),
    ("POST", "/v1/organizations/{code}/ratings"): only(201, "a", "b"),
    ("POST", "/v1/organizations/{code}/violations"): only(201, "a", "b"),
    ("POST", "/v1/organizations/{code}/disclosures"): only(201, "a", "b"),
    ("POST", "/v1/list-entries"): only(201, "a", "b"),
    # Spot checks (监督抽查): pushed like any record, searched by anyone. The id in the path is the
    # world's violation, no spot check: not found, for everyone alike.
    ("POST", "/v1/organizations/{code}/inspections"): only(201, "a", "b"),
    ("GET", "/v1/public/inspections"): everyone(200),
    ("GET", "/v1/public/inspections/export"): everyone(200),
    ("GET", "/v1/public/inspections/{record_id}"): everyone(404),
    ("GET", "/inspections"): everyone(200),
    ("GET", "/inspections/{record_id}"): everyone(404),
    ("GET", "/v1/records"): only(200, "a", "b", "reader"),
    ("GET", "/v1/records/{record_id}"): only(200, "a", "b", "reader"),  # public: every department sees it
    ("GET", "/v1/events"): only(200, "a", "b", "reader"),
    ("POST", "/v1/webhooks/endpoints"): only(201, "hooks"),
    ("GET", "/v1/webhooks/endpoints"): only(200, "hooks"),
    ("GET", "/v1/webhooks/endpoints/{endpoint_id}"): only(200, "hooks"),
    ("PATCH", "/v1/webhooks/endpoints/{endpoint_id}"): only(200, "hooks"),
    ("DELETE", "/v1/webhooks/endpoints/{endpoint_id}"): only(200, "hooks"),
    ("POST", "/v1/webhooks/endpoints/{endpoint_id}/secret/rotate"): only(200, "hooks"),
    ("GET", "/v1/webhooks/endpoints/{endpoint_id}/deliveries"): only(200, "hooks"),
    ("POST", "/v1/webhooks/endpoints/{endpoint_id}/test"): only(200, "hooks"),
    ("POST", "/v1/webhooks/endpoints/{endpoint_id}/replay"): only(202, "hooks"),
    ("POST", "/v1/webhooks/deliveries/{delivery_id}/resend"): only(202, "hooks"),
    # Any client may ask; only the owner may change (403 for a record the caller can see).
    ("POST", "/v1/records/{record_id}/corrections"): only(200, "a"),
    ("POST", "/v1/records/{record_id}/withdrawal"): only(200, "a"),
    ("POST", "/v1/batches"): only(200, "a", "b"),
    # Any authenticated client may ask; another department's batch is unknown to it.
    # Only a client that may push reads a batch's results, and only its own department's.
    ("GET", "/v1/batches/{batch_id}"): only(200, "a", b=404),
    ("GET", "/v1/batches/{batch_id}/results"): only(200, "a", b=404),
    ("GET", "/v1/objections"): only(200, "a"),
    ("POST", "/v1/objections/{objection_id}/decision"): only(200, "a"),
    ("GET", "/v1/repair-requests"): only(200, "a"),
    ("POST", "/v1/repair-requests/{request_id}/decision"): only(200, "a"),
    ("POST", "/v1/admin/departments"): only(201, "admin"),
    ("GET", "/v1/admin/departments"): only(200, "admin"),
    ("POST", "/v1/admin/departments/{code}/clients"): only(201, "admin"),
    ("GET", "/v1/admin/departments/{code}/clients"): only(200, "admin"),
    ("DELETE", "/v1/admin/clients/{client_id}"): only(200, "admin"),
    ("GET", "/v1/admin/audit"): only(200, "admin"),
    ("GET", "/v1/admin/rule-sets"): only(200, "admin"),
    ("POST", "/v1/admin/rule-sets"): only(201, "admin"),
    # Credit checks with consequences, in bulk too; measures applied (反馈); what follows from credit.
    ("POST", "/v1/credit-checks"): only(200, "a", "b", "reader"),
    ("GET", "/v1/organizations/{code}/measures"): only(200, "a", "b", "reader"),
    # Writers get past authorization to the measure's own checks: it does not apply to this organization.
    ("POST", "/v1/organizations/{code}/measures"): only(422, "a", "b"),
    ("GET", "/v1/public/statistics/measures-applied"): everyone(200),
    ("GET", "/v1/public/statistics"): everyone(200),
    ("GET", "/v1/public/statistics/{name}"): everyone(200),
    ("GET", "/statistics"): everyone(200),
    ("GET", "/v1/public/measures"): everyone(200),
    ("GET", "/v1/public/grade-schemes"): everyone(200),
    ("GET", "/v1/admin/grade-schemes"): only(200, "admin"),
    ("POST", "/v1/admin/grade-schemes"): only(201, "admin"),
    ("GET", "/v1/admin/measures"): only(200, "admin"),
    ("POST", "/v1/admin/measures"): only(201, "admin"),
    # Signed credit reports: issued to readers (and credit:check clients), verified by anyone.
    ("GET", "/v1/organizations/{code}/credit-report"): only(200, "a", "b", "reader"),
    ("GET", "/.well-known/credit-report-jwks.json"): everyone(200),
    ("GET", "/reports/{report_id}"): everyone(200),
    ("GET", "/reports/{report_id}.pdf"): everyone(200),
    ("GET", "/verify"): everyone(200),
    ("POST", "/verify"): everyone(200),
    ("GET", "/verify/{report_id}"): everyone(200),
    # Complaints (投诉举报): filed and followed by anyone; handled by the department they are routed
    # to (A, Huawei's market regulator); the administrators route their queue (a product complaint).
    ("POST", "/v1/public/complaints"): everyone(201),
    ("GET", "/v1/public/complaints/{ticket}"): everyone(200),
    ("GET", "/complaints/new"): everyone(200),
    ("POST", "/complaints/new"): everyone(201),
    ("GET", "/complaints"): everyone(200),
    ("POST", "/complaints"): everyone(200),
    ("GET", "/v1/complaints"): only(200, "a"),
    ("GET", "/v1/complaints/{complaint_id}"): only(200, "a"),
    ("POST", "/v1/complaints/{complaint_id}/accept"): only(200, "a"),
    ("POST", "/v1/complaints/{complaint_id}/reject"): only(200, "a"),
    ("POST", "/v1/complaints/{complaint_id}/transfer"): only(200, "a"),
    ("POST", "/v1/complaints/{complaint_id}/close"): only(409, "a"),  # past authorization: not accepted yet
    ("GET", "/v1/admin/complaints"): only(200, "admin"),
    ("POST", "/v1/admin/complaints/{complaint_id}/route"): only(200, "admin"),
    ("POST", "/v1/admin/complaints/{complaint_id}/reject"): only(200, "admin"),
}


def app_routes(app) -> set[tuple[str, str]]:
    return {(method, context.path_format) for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute) for method in context.methods}


def test_every_route_has_a_rule(app) -> None:
    assert app_routes(app) == set(RULES)


def _json(model) -> dict:
    return model.model_dump(mode="json", exclude_none=True)


@pytest.fixture
def world(client, parties, unit_of_work, clock, receivers):
    """Huawei registered by A; the insurer's endpoint (a real receiver) with a delivery of A's
    public violation; a batch of A's; an objection and a repair request the public filed on the
    violation (A decides them); a spare client to revoke."""
    # Decided long enough ago that its minimum publicity is served: repair may be requested.
    fields = f.violation(decided_on=date(2025, 12, 1))
    with unit_of_work() as session:
        master_data.register(session, HUAWEI, OrganizationFields(name="华为技术有限公司"), now=clock.now(),
                               department_code="SZAMR")
        endpoint = endpoints.create(session, "SZINS", endpoints.EndpointCreate(url=receivers().url), now=clock.now(),
                                   allowed_hosts=frozenset({"127.0.0.1"})).endpoint.id
        record = publishing.publish(session, HUAWEI, fields, department_code="SZAMR", now=clock.now()).record.id
        [(delivery, _, _)] = endpoints.deliveries(session, endpoint, owner="SZINS", status=None, limit=2)
        spare = clients.create(session, "SZTAX", name="spare", scopes=["records:read"], now=clock.now())
        report = reports.issue(session, HUAWEI, as_of=None, today=local_date(clock.now()), now=clock.now(),
                               sign=report_signing.sign).report_id
    # Filed over HTTP, so the log scan knows their secrets (conftest.TICKET_SECRETS).
    tickets = {kind: client.post(f"/v1/public/{kind}", json=body(record)).json()
               for kind, body in (("objections", objection), ("repair-requests", repair))}
    tickets["complaints"] = client.post("/v1/public/complaints", json=complaint_about(HUAWEI)).json()
    tickets["queued"] = client.post("/v1/public/complaints", json=complaint_about_product()).json()
    batch = client.post("/v1/batches", headers=parties["a"].headers | {"content-type": "application/x-ndjson"},
                        content=json.dumps({"type": "violation", "code": HUAWEI, **_json(f.violation())}).encode())
    return {"record_id": record, "fields": _json(fields) | {"fine_amount": "30000"}, "endpoint_id": endpoint,
            "delivery_id": delivery.id, "batch_id": batch.json()["id"], "tickets": tickets,
            "client_id": spare.client.client_id, "report_id": report}


def _request(method: str, path: str, world: dict, role: str, parties) -> dict:
    """Keyword arguments for a call that succeeds for an authorized caller. Public filings name
    the role in their contact: one filer may have only one objection pending per record."""
    contact = f"王先生 {role}@example.org"
    ticket_kind = "objections" if "objection" in path else "complaints" if "complaints" in path else "repair-requests"
    json_body = {
        ("PUT", "/v1/organizations/{code}"): {"name": "华为技术有限公司"},
        ("POST", "/v1/organizations/{code}/ratings"): _json(f.rating()),
        ("POST", "/v1/organizations/{code}/violations"): _json(f.violation()),
        ("POST", "/v1/organizations/{code}/disclosures"): _json(f.disclosure()),
        ("POST", "/v1/list-entries"): _json(f.list_entry("red")) | {"code": HUAWEI},
        ("POST", "/v1/organizations/{code}/inspections"): _json(f.inspection()),
        ("POST", "/v1/records/{record_id}/corrections"): {"reason": "更正", "fields": world["fields"]},
        ("POST", "/v1/records/{record_id}/withdrawal"): {"reason": "撤销"},
        ("POST", "/v1/admin/departments"): {"code": f"D{len(path)}X", "name": "某部门", "kind": "bank",
                                            "region_code": "440300"},
        ("POST", "/v1/admin/departments/{code}/clients"): {"name": "c", "scopes": ["records:read"]},
        ("POST", "/v1/admin/rule-sets"): {"effective_from": "2027-01-01", "changes": {"objection_deadline_days": 15}},
        ("POST", "/v1/credit-checks"): {"codes": [HUAWEI], "purpose": "招标资格审查"},
        ("POST", "/v1/organizations/{code}/measures"): {
            "measure": "honours_restriction", "decision_no": f"惩〔2026〕{role}号", "decided_on": "2026-06-15",
            "trigger_record_id": world["record_id"]},
        ("POST", "/v1/admin/grade-schemes"): {
            "code": "matrix", "effective_from": "2026-01-01", "name_zh": "等级", "name_en": "Grades", "basis": "依据",
            "grades": [{"code": "A", "label_zh": "好", "label_en": "Good", "supervision_class": "A"}],
            "classes": {c: {"inspections_per_year": 1} for c in "ABCD"}},
        ("POST", "/v1/admin/measures"): {"effective_from": "2027-01-01", "measures": [{
            "code": "m", "name_zh": "措施", "name_en": "Measure", "direction": "punishment",
            "trigger": {"kind": "black_list"}, "applied_by": ["finance"], "legal_basis": "依据",
            "duration": {"kind": "while_triggered"}}]},
        ("POST", "/v1/webhooks/endpoints"): {"url": "http://127.0.0.1:9/other"},
        ("PATCH", "/v1/webhooks/endpoints/{endpoint_id}"): {"description": "x"},
        ("POST", "/v1/webhooks/endpoints/{endpoint_id}/replay"): {"since": "2026-06-01T00:00:00Z"},
        ("POST", "/v1/objections/{objection_id}/decision"): {"outcome": "upheld", "reason": "维持"},
        ("POST", "/v1/repair-requests/{request_id}/decision"): {"outcome": "rejected", "reason": "不符合条件"},
        ("POST", "/v1/public/objections"): objection(world["record_id"]) | {"contact": contact},
        ("POST", "/v1/public/repair-requests"): repair(world["record_id"]) | {"contact": contact},
        ("POST", "/v1/public/complaints"): complaint_about(HUAWEI) | {"contact": contact},
        ("POST", "/v1/complaints/{complaint_id}/reject"): {"reason": "不予受理"},
        ("POST", "/v1/complaints/{complaint_id}/transfer"): {"department": "SZTAX", "reason": "转办"},
        ("POST", "/v1/complaints/{complaint_id}/close"): {"result": "办结"},
        ("POST", "/v1/admin/complaints/{complaint_id}/route"): {"department": "SZAMR", "reason": "分派"},
        ("POST", "/v1/admin/complaints/{complaint_id}/reject"): {"reason": "与产品质量无关"},
    }.get((method, path))
    tickets = world["tickets"]
    url = path.format(code="SZAMR" if path.startswith("/v1/admin") else HUAWEI,
                      record_id=world["record_id"], client_id=world["client_id"], list_name="black",
                      endpoint_id=world["endpoint_id"], delivery_id=world["delivery_id"],
                      ticket=tickets[ticket_kind]["ticket"], objection_id=tickets["objections"]["ticket"],
                      request_id=tickets["repair-requests"]["ticket"], batch_id=world["batch_id"],
                      report_id=world["report_id"], name="inspections",
                      complaint_id=tickets["queued" if path.startswith("/v1/admin") else "complaints"]["ticket"])
    if "{ticket}" in path:
        return {"url": url, "headers_extra": {"Ticket-Secret": tickets[ticket_kind]["secret"]}}
    if (method, path) == ("POST", "/tickets"):
        return {"url": url, "data": {"ticket": tickets["objections"]["ticket"],
                                     "secret": tickets["objections"]["secret"]}}
    if (method, path) == ("POST", "/complaints"):
        return {"url": url, "data": {"ticket": tickets["complaints"]["ticket"],
                                     "secret": tickets["complaints"]["secret"]}}
    if (method, path) == ("POST", "/complaints/new"):
        return {"url": url, "data": complaint_about(HUAWEI) | {"contact": contact, "evidence_urls": ""}}
    if (method, path) == ("POST", "/verify"):
        return {"url": url, "data": {"jws": "a text anyone may ask about"}}
    if (method, path) == ("POST", "/organizations/{code}/objection"):
        return {"url": url, "data": objection(world["record_id"]) | {"contact": contact}}
    if path == "/v1/batches":
        body = json.dumps({"type": "organization", "code": HUAWEI, "name": "华为技术有限公司"}) + "\n"
        return {"url": url, "content": body.encode(), "headers_extra": {"content-type": "application/x-ndjson"}}
    if path == "/v1/public/organizations":
        return {"url": url, "params": {"q": "华为"}}
    if path == "/v1/auth/token":
        a = parties["a"]
        return {"url": url, "data": {"grant_type": "client_credentials", "client_id": a.client_id,
                                     "client_secret": a.secret}}
    return {"url": url, "json": json_body} if json_body is not None else {"url": url}


@pytest.mark.parametrize(("method", "path"), sorted(RULES))
def test_route_against_every_caller(client, parties, world, method, path) -> None:
    outcomes, answers = {}, {}
    for role in ROLES:
        headers = parties[role].headers if role != "anonymous" else {}
        request = _request(method, path, world, role, parties)
        headers = headers | request.pop("headers_extra", {})
        response = client.request(method, headers=headers, **request)
        outcomes[role], answers[role] = response.status_code, response.text[:300]
    assert outcomes == RULES[(method, path)], answers
