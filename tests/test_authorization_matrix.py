"""Every route of the app, from its own route table, against every kind of caller.

A new route without a line in RULES fails ``test_every_route_has_a_rule``: nobody can add an
endpoint without deciding who may call it. "ok" means authorization let the call through (the
answer may still be 404, 409 or 422 for other reasons); 401 and 403 must be exact.
"""

import json

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from tests import factories as f

HUAWEI = f.HUAWEI
ROLES = ("anonymous", "a", "b", "reader", "admin", "hooks")

PUBLIC = dict.fromkeys(ROLES, "ok")
READ = {"anonymous": 401, "a": "ok", "b": "ok", "reader": "ok", "admin": 403, "hooks": 403}
WRITE = {"anonymous": 401, "a": "ok", "b": "ok", "reader": 403, "admin": 403, "hooks": 403}
# On things department A owns (its record; master data it keeps as market regulator):
OWNER_WRITE = {"anonymous": 401, "a": "ok", "b": 403, "reader": 403, "admin": 403, "hooks": 403}
ADMIN = {"anonymous": 401, "a": 403, "b": 403, "reader": 403, "admin": "ok", "hooks": 403}
AUTHENTICATED = {"anonymous": 401, "a": "ok", "b": "ok", "reader": "ok", "admin": "ok", "hooks": "ok"}
HANDLE = {"anonymous": 401, "a": "ok", "b": 403, "reader": 403, "admin": 403, "hooks": 403}  # A decides
WEBHOOKS = {"anonymous": 401, "a": 403, "b": 403, "reader": 403, "admin": 403, "hooks": "ok"}

RULES = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/.well-known/jwks.json"): PUBLIC,
    ("POST", "/v1/auth/token"): PUBLIC,
    ("GET", "/v1/public/organizations/{code}"): PUBLIC,
    ("GET", "/v1/public/organizations"): PUBLIC,
    ("GET", "/v1/public/lists/{list_name}"): PUBLIC,
    ("GET", "/v1/public/lists/{list_name}/export"): PUBLIC,
    ("GET", "/"): PUBLIC,
    ("GET", "/organizations/{code}"): PUBLIC,
    ("GET", "/organizations/{code}/objection"): PUBLIC,
    ("POST", "/organizations/{code}/objection"): PUBLIC,
    ("GET", "/lists/{list_name}"): PUBLIC,
    ("GET", "/tickets"): PUBLIC,
    ("POST", "/tickets"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("POST", "/v1/public/objections"): PUBLIC,
    ("GET", "/v1/public/objections/{ticket}"): PUBLIC,
    ("POST", "/v1/public/repair-requests"): PUBLIC,
    ("GET", "/v1/public/repair-requests/{ticket}"): PUBLIC,
    ("PUT", "/v1/organizations/{code}"): OWNER_WRITE,
    ("GET", "/v1/organizations/{code}"): READ,
    ("GET", "/v1/organizations/{code}/credit-check"): READ,
    ("POST", "/v1/organizations/{code}/ratings"): WRITE,
    ("POST", "/v1/organizations/{code}/violations"): WRITE,
    ("POST", "/v1/organizations/{code}/disclosures"): WRITE,
    ("POST", "/v1/list-entries"): WRITE,
    ("GET", "/v1/records"): READ,
    ("GET", "/v1/records/{record_id}"): READ,
    ("GET", "/v1/events"): READ,
    ("POST", "/v1/webhooks/endpoints"): WEBHOOKS,
    ("GET", "/v1/webhooks/endpoints"): WEBHOOKS,
    ("GET", "/v1/webhooks/endpoints/{endpoint_id}"): WEBHOOKS,
    ("PATCH", "/v1/webhooks/endpoints/{endpoint_id}"): WEBHOOKS,
    ("DELETE", "/v1/webhooks/endpoints/{endpoint_id}"): WEBHOOKS,
    ("POST", "/v1/webhooks/endpoints/{endpoint_id}/secret/rotate"): WEBHOOKS,
    ("GET", "/v1/webhooks/endpoints/{endpoint_id}/deliveries"): WEBHOOKS,
    ("POST", "/v1/webhooks/endpoints/{endpoint_id}/test"): WEBHOOKS,
    ("POST", "/v1/webhooks/endpoints/{endpoint_id}/replay"): WEBHOOKS,
    ("POST", "/v1/webhooks/deliveries/{delivery_id}/resend"): WEBHOOKS,
    ("POST", "/v1/records/{record_id}/corrections"): OWNER_WRITE,
    ("POST", "/v1/batches"): WRITE,
    # The department's own batches (404 for any other), for any of its clients.
    ("GET", "/v1/batches/{batch_id}"): AUTHENTICATED,
    ("GET", "/v1/batches/{batch_id}/results"): AUTHENTICATED,
    ("GET", "/v1/objections"): HANDLE,
    ("POST", "/v1/objections/{objection_id}/decision"): HANDLE,
    ("GET", "/v1/repair-requests"): HANDLE,
    ("POST", "/v1/repair-requests/{request_id}/decision"): HANDLE,
    ("POST", "/v1/records/{record_id}/withdrawal"): OWNER_WRITE,
    ("POST", "/v1/admin/departments"): ADMIN,
    ("GET", "/v1/admin/departments"): ADMIN,
    ("POST", "/v1/admin/departments/{code}/clients"): ADMIN,
    ("GET", "/v1/admin/departments/{code}/clients"): ADMIN,
    ("DELETE", "/v1/admin/clients/{client_id}"): ADMIN,
    ("GET", "/v1/admin/audit"): ADMIN,
    ("GET", "/v1/admin/rule-sets"): ADMIN,
    ("POST", "/v1/admin/rule-sets"): ADMIN,
}


def app_routes(app) -> set[tuple[str, str]]:
    return {(method, context.path_format) for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute) for method in context.methods}


def test_every_route_has_a_rule(app) -> None:
    assert app_routes(app) == set(RULES)


@pytest.fixture
def world(client, parties, app, unit_of_work):
    """Huawei registered by A, a violation of A's, and a spare client to revoke."""
    from service import clients

    client.put(f"/v1/organizations/{HUAWEI}", headers=parties["a"].headers, json={"name": "华为技术有限公司"})
    record = client.post(f"/v1/organizations/{HUAWEI}/violations", headers=parties["a"].headers,
                         json=f.violation().model_dump(mode="json", exclude_none=True)).json()
    from service import webhooks

    with unit_of_work() as session:
        spare = clients.create(session, "SZTAX", name="spare", scopes=["records:read"], now=app.state.clock.now())
        hook = webhooks.create(session, "SZINS", webhooks.EndpointCreate(url="http://127.0.0.1:9/hooks"),
                               now=app.state.clock.now(), allowed_hosts=frozenset({"127.0.0.1"}))
    return {"code": HUAWEI, "record_id": record["id"], "client_id": spare.client.client_id,
            "endpoint_id": hook.endpoint.id,
            "fields": {k: v for k, v in record["details"].items() if k != "internal_notes"}}


def _request(method: str, path: str, world: dict, parties) -> dict:
    """Keyword arguments for a call that would succeed for an authorized caller."""
    json_body = {
        ("PUT", "/v1/organizations/{code}"): {"name": "华为技术有限公司"},
        ("POST", "/v1/organizations/{code}/ratings"): f.rating().model_dump(mode="json", exclude_none=True),
        ("POST", "/v1/organizations/{code}/violations"): f.violation().model_dump(mode="json", exclude_none=True),
        ("POST", "/v1/organizations/{code}/disclosures"): f.disclosure().model_dump(mode="json", exclude_none=True),
        ("POST", "/v1/list-entries"): f.list_entry("red").model_dump(mode="json", exclude_none=True)
        | {"code": HUAWEI},
        ("POST", "/v1/records/{record_id}/corrections"): {"reason": "更正", "fields": world["fields"]},
        ("POST", "/v1/records/{record_id}/withdrawal"): {"reason": "撤销"},
        ("POST", "/v1/admin/departments"): {"code": f"D{len(path)}X", "name": "某部门", "kind": "bank",
                                            "region_code": "440300"},
        ("POST", "/v1/admin/departments/{code}/clients"): {"name": "c", "scopes": ["records:read"]},
        ("POST", "/v1/admin/rule-sets"): {"effective_from": "2027-01-01", "changes": {"objection_deadline_days": 15}},
        ("POST", "/v1/webhooks/endpoints"): {"url": "http://127.0.0.1:9/other"},
        ("PATCH", "/v1/webhooks/endpoints/{endpoint_id}"): {"description": "x"},
        ("POST", "/v1/webhooks/endpoints/{endpoint_id}/replay"): {"since": "2026-06-01T00:00:00Z"},
        ("POST", "/v1/objections/{objection_id}/decision"): {"outcome": "upheld", "reason": "维持"},
        ("POST", "/v1/repair-requests/{request_id}/decision"): {"outcome": "rejected", "reason": "不符合条件"},
        ("POST", "/v1/public/objections"): {"record_id": world["record_id"], "reason": "记录有误，请核实",
                                           "contact": "wang@example.org"},
        ("POST", "/v1/public/repair-requests"): {"record_id": world["record_id"], "statement": "罚款已缴清并完成整改",
                                                "commitment": "承诺守法经营，接受社会监督", "contact": "wang@example.org"},
    }.get((method, path))
    url = path.format(code="SZAMR" if path.startswith("/v1/admin") else world["code"],
                      record_id=world["record_id"], client_id=world["client_id"], list_name="black",
                      endpoint_id=world["endpoint_id"], delivery_id="whd_" + "0" * 26,
                      ticket="obj_" + "0" * 26 if "objections" in path else "rep_" + "0" * 26,
                      objection_id="obj_" + "0" * 26, request_id="rep_" + "0" * 26, batch_id="bat_" + "0" * 26)
    if "{ticket}" in path:
        return {"url": url, "headers_extra": {"Ticket-Secret": "s" * 43}}
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
    outcomes = {}
    for role in ROLES:
        headers = parties[role].headers if role != "anonymous" else {}
        request = _request(method, path, world, parties)
        headers = headers | request.pop("headers_extra", {})
        response = client.request(method, headers=headers, **request)
        outcomes[role] = response.status_code if response.status_code in (401, 403) else "ok"
        assert response.status_code < 500, (role, response.text)
    assert outcomes == RULES[(method, path)]
