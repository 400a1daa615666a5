"""A world for the schema fuzzer to find its way around: one of every object the API names by id,
made the way a department and the public make them, and the cursors of lists three pages long.

Generated ids almost never name anything, so without these every request would stop at the 404
before the code behind it. ``World.hook`` makes schemathesis use them (mostly real ids, sometimes
the generated one); ``World.substitute`` does the same for a stateful step.
"""

import csv
import io
import json
import random
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

import schemathesis
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

from service.records import publishing
from tests import factories as f
from tests.test_complaints import about as complaint_about
from tests.test_complaints import product as complaint_about_product
from tests.test_public_intake import objection, repair
from tests.webhook_receivers import run_until_idle

HUAWEI = f.HUAWEI
# Webhook URLs are checked by resolving their host; a generated host name would send DNS queries
# off the machine, so every generated URL that is a string points at a closed loopback port.
LOOPBACK_HOOK = "http://127.0.0.1:9/hook"
RESTRICTED = {"visibility": "restricted"}
PAGE = 2  # small pages, so a handful of rows makes a list of three
# Which kind of object each path parameter names; `code` is a department's under /v1/admin.
KINDS = {"record_id": "record", "endpoint_id": "endpoint", "delivery_id": "delivery", "batch_id": "batch",
         "objection_id": "objection", "request_id": "repair", "ticket": "ticket", "client_id": "client",
         "list_name": "list_name", "code": "organization", "complaint_id": "complaint"}


@dataclass
class World:
    headers: dict[str, dict[str, str]]  # SZAMR and SZTAX: every scope; reader: records:read only
    ids: dict[str, list[str]] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # ticket -> Ticket-Secret
    # Query parameters that continue a list (a cursor, and the query the cursor belongs to), by operation.
    pages: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    # A valid body (and the path it belongs to) for every operation that takes one: random data
    # hardly ever makes one that gets through (a text body is a CSV batch).
    bodies: dict[str, tuple[dict[str, str], dict | str]] = field(default_factory=dict)

    def known(self, path: str, name: str) -> list[str]:
        kind = "department" if name == "code" and path.startswith("/v1/admin/") else KINDS.get(name)
        return self.ids.get(kind, [])

    def hook(self, schema) -> None:
        """Register the substitution as the schema's `flatmap_case` hook: a real id in three of
        four cases per path parameter (with its ticket's secret, mostly), a real cursor in three
        of four list requests; otherwise what schemathesis generated."""
        def flatmap_case(context, case):
            return st.fixed_dictionaries(self._draws(case)).map(lambda chosen: self._apply(case, chosen))
        schema.hook("flatmap_case")(flatmap_case)

    def _draws(self, case) -> dict[str, st.SearchStrategy]:
        # Where the case is invalid on purpose, a real value would make it valid, and then
        # "accepted" would be right; what it is invalid in stays as generated.
        def kept(location: ParameterLocation) -> bool:
            return case.meta is not None and case.meta.generation.mode.is_negative and case.meta.is_negative_at(location)

        draws = {}
        for name in [] if kept(ParameterLocation.PATH) else case.path_parameters or {}:
            if known := self.known(case.operation.path, name):
                draws[f"path:{name}"] = _mostly(st.sampled_from(known))
        if "ticket" in (case.path_parameters or {}) and not kept(ParameterLocation.HEADER):
            draws["secret"] = st.integers(0, 3)  # 0: the generated Ticket-Secret stays
        if (pages := self.pages.get(case.operation.label)) and not kept(ParameterLocation.QUERY):
            draws["page"] = _mostly(st.sampled_from(pages))
        return draws

    def _apply(self, case, chosen: dict):
        path_parameters = dict(case.path_parameters or {})
        for key, value in chosen.items():
            if key.startswith("path:") and value is not None:
                path_parameters[key.removeprefix("path:")] = value
        case.path_parameters = path_parameters
        ticket = path_parameters.get("ticket")
        if chosen.get("secret") and ticket in self.secrets:
            case.headers = {**(case.headers or {}), "Ticket-Secret": self.secrets[ticket]}
        if chosen.get("page") is not None and isinstance(case.query, dict):
            case.query = {**case.query, **chosen["page"]}
        return case

    def explicit_case(self, operation):
        """The request a client would send: the first real id for each path parameter, the first
        real cursor, a valid body where random data hardly ever makes one; None when there is
        no such request to make (a required body nothing here provides)."""
        path, body = self.bodies.get(operation.label, ({}, None))
        path_parameters = {parameter.name: (self.known(operation.path, parameter.name) or [None])[0]
                           for parameter in operation.path_parameters} | path
        if None in path_parameters.values() or (body is None and any(b.is_required for b in operation.body)):
            return None
        ticket = path_parameters.get("ticket")
        return operation.Case(path_parameters=path_parameters, query=dict((self.pages.get(operation.label) or [{}])[0]),
                              headers={"Ticket-Secret": self.secrets[ticket]} if ticket else {},
                              **({} if body is None else {"body": body, "media_type": _media_type(body)}))

    def substitute(self, case, *, keep: set[str] = frozenset()) -> None:
        """For a stateful step (valid data): real ids for the path parameters no link supplied
        (``keep``), in three of four cases, chosen by what was generated, so a replayed step makes
        the same choice; for one of two creates, a valid body (a new decision number), so there
        is something to follow the links from."""
        path_parameters = dict(case.path_parameters or {})
        rng = random.Random(json.dumps([case.operation.label, path_parameters], sort_keys=True, default=str))
        for name in path_parameters:
            if name not in keep and (known := self.known(case.operation.path, name)) and rng.random() < 0.75:
                path_parameters[name] = rng.choice(known)
        if case.operation.label in self.bodies and not keep and rng.random() < 0.5:
            path, body = self.bodies[case.operation.label]
            path_parameters |= path
            if isinstance(body, str):
                case.body, case.media_type = body, _media_type(body)
            else:
                case.body = body | ({"decision_no": f"深市监罚〔2026〕F{rng.randrange(10**6)}号"} if "decision_no" in body
                                    else {})
        case.path_parameters = path_parameters
        if path_parameters.get("ticket") in self.secrets:
            case.headers = {**(case.headers or {}), "Ticket-Secret": self.secrets[path_parameters["ticket"]]}


def _mostly(real: st.SearchStrategy) -> st.SearchStrategy:
    # None keeps the generated value; shrinking goes to it, the smallest counterexample.
    return st.integers(0, 3).flatmap(lambda i: real if i else st.none())


def resolves_a_name(url) -> bool:
    """Whether the service would look the URL's host up in DNS (a name, not an address)."""
    if not isinstance(url, str):
        return False
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return bool(host) and not host.replace(".", "").isdigit() and ":" not in host


def load_schema(app, client, world: World | None = None, *, mode: str = "all",
                auth: dict | None = None) -> schemathesis.schemas.BaseSchema:
    """The app's OpenAPI document as schemathesis sees it. Its token scheme is declared OAuth2
    (so /docs offers the client-credentials flow); schemathesis 4.32 tries credentials only for
    apiKey, http and basic schemes, so `ignored_auth` would silently check nothing. On the wire
    it is an `Authorization: Bearer` header either way, which is what this declares. The token
    is the test's, never generated: a request without one is `ignored_auth`'s to send."""
    raw = client.get("/openapi.json").json()
    raw["components"]["securitySchemes"]["departmentToken"] = {"type": "http", "scheme": "bearer"}
    config = {"generation": {"mode": mode, "with-security-parameters": False}} | ({"auth": auth} if auth else {})
    schema = schemathesis.openapi.from_dict(raw, config=SchemathesisConfig.from_dict(config))
    schema.app = app  # what from_asgi does: requests go to the app in process
    if world is not None:
        world.hook(schema)
    return schema


def build(client, headers: dict[str, dict[str, str]], parties, unit_of_work, clock, db, receiver_url: str) -> World:
    """Departments SZAMR and SZTAX (``headers``: every scope each) own records, endpoints with
    deliveries, batches; the public files objections and repair requests on SZAMR's records."""
    world = World(headers | {"reader": parties["reader"].headers})
    amr, tax = headers["SZAMR"], headers["SZTAX"]
    with unit_of_work() as session:
        f.make_organization(session, now=clock.now(), code=HUAWEI, name="华为技术有限公司")
        codes = [HUAWEI] + [f.make_organization(session, now=clock.now(), name=f"深圳市第{n}电子有限公司").uscc
                            for n in range(1, 7)]

        def publish(department: str, code: str, fields, **options) -> str:
            return publishing.publish(session, code, fields, department_code=department, now=clock.now(), **options).record.id

        # Decided long enough ago that their minimum publicity is served: repair may be requested.
        decided = [f.violation(decided_on=date(2025, 12, 1)) for _ in codes[:5]]
        repairable = [publish("SZAMR", code, fields) for code, fields in zip(codes[:5], decided, strict=True)]
        own = [
            *repairable, publish("SZAMR", HUAWEI, f.violation(), visibility="restricted"),
            publish("SZAMR", HUAWEI, f.rating()), publish("SZAMR", HUAWEI, f.disclosure()),
            publish("SZAMR", codes[6], f.list_entry("red")),
            *(publish("SZAMR", code, f.list_entry("black")) for code in codes[1:6])]
        others = [publish("SZTAX", HUAWEI, f.violation()), publish("SZTAX", HUAWEI, f.violation(),
                                                                    visibility="restricted")]
    # Complaints go to SZAMR, Shenzhen's market regulator; a product with no producer to the
    # administrators' queue. Each action's own complaint (its explicit case), apart from the pool
    # generated cases draw from, so no generated call decides one before its action runs.
    complaints = [_created(client.post("/v1/public/complaints", json=complaint_about(code, contact=f"投诉人 {n}")))
                  for n, code in enumerate(codes[:6])]
    queued = _created(client.post("/v1/public/complaints", json=complaint_about_product()))["ticket"]
    spam = _created(client.post("/v1/public/complaints", json=complaint_about_product(
        product_name="代购减肥茶", description="加微信领优惠券，加微信领优惠券")))["ticket"]
    acted = [c["ticket"] for c in complaints[2:]]
    assert client.post(f"/v1/complaints/{acted[1]}/accept", headers=amr).status_code == 200  # to be closed
    world.ids["complaint"] = [c["ticket"] for c in complaints[:2]]
    world.secrets |= {c["ticket"]: c["secret"] for c in complaints}
    world.ids |= {"organization": codes, "record": own + others, "list_name": ["black", "red"],
                  "department": sorted({p.department for p in parties.values()}),
                  "client": [p.client_id for p in parties.values()]}
    world.bodies = {
        # Restricted: SZTAX may not read them, which is what the stateful pass replays them to see
        # (schemathesis replays one read per operation: the first of SZAMR's creations it follows).
        "POST /v1/organizations/{code}/violations": ({"code": HUAWEI}, _json(f.violation()) | RESTRICTED),
        "POST /v1/organizations/{code}/ratings": ({"code": HUAWEI}, _json(f.rating()) | RESTRICTED),
        "POST /v1/organizations/{code}/disclosures": ({"code": HUAWEI}, _json(f.disclosure()) | RESTRICTED),
        "POST /v1/list-entries": ({}, {"code": HUAWEI, **_json(f.list_entry("black"))}),
        "POST /v1/organizations/{code}/inspections": ({"code": HUAWEI}, _json(f.inspection()) | RESTRICTED),
        "POST /v1/records/{record_id}/corrections": ({"record_id": repairable[0]}, {
            "reason": "罚款金额录入错误，更正", "fields": _json(decided[0]) | {"fine_amount": "30000"}}),
        "POST /v1/records/{record_id}/withdrawal": ({"record_id": repairable[1]}, {"reason": "处罚决定已撤销"}),
        "PUT /v1/organizations/{code}": ({"code": codes[1]}, {"name": "深圳市第1电子有限公司"}),
        "POST /v1/batches": ({}, _csv({"type": "violation", "code": HUAWEI, **_json(f.violation())})),
        "POST /v1/webhooks/endpoints": ({}, {"url": LOOPBACK_HOOK}),
        "PATCH /v1/webhooks/endpoints/{endpoint_id}": ({}, {"description": "夜间同步"}),
        "POST /v1/webhooks/endpoints/{endpoint_id}/replay": ({}, {"since": "2026-06-01T00:00:00Z"}),
        "POST /v1/objections/{objection_id}/decision": ({}, {"outcome": "upheld", "reason": "处罚决定合法有效"}),
        "POST /v1/repair-requests/{request_id}/decision": ({}, {"outcome": "rejected", "reason": "整改尚未完成"}),
        "POST /v1/admin/departments": ({}, {"code": "SZFUZZ", "name": "模糊测试局", "kind": "other",
                                            "region_code": "440300"}),
        "POST /v1/admin/departments/{code}/clients": ({}, {"name": "fuzz client", "scopes": ["records:read"]}),
        "POST /v1/admin/rule-sets": ({}, {"effective_from": "2027-01-01", "changes": {}}),
        "POST /v1/admin/grade-schemes": ({}, {
            "code": "fuzz-scheme", "effective_from": "2026-01-01", "name_zh": "等级", "name_en": "Grades",
            "basis": "依据", "grades": [{"code": "A", "label_zh": "好", "label_en": "Good", "supervision_class": "A"}],
            "classes": {c: {"inspections_per_year": 1} for c in "ABCD"}}),
        "POST /v1/admin/measures": ({}, {"effective_from": "2027-01-01", "measures": [{
            "code": "fuzz", "name_zh": "措施", "name_en": "Measure", "direction": "punishment",
            "trigger": {"kind": "black_list"}, "applied_by": ["finance"], "legal_basis": "依据",
            "duration": {"kind": "while_triggered"}}]}),
        # codes[1] is on SZAMR's black list: a market-regulation department restricts its honours.
        "POST /v1/organizations/{code}/measures": ({"code": codes[1]}, {
            "measure": "honours_restriction", "decision_no": "深市监惩〔2026〕1号", "decided_on": "2026-06-15",
            "trigger_record_id": own[-5]}),
        "POST /v1/public/complaints": ({}, complaint_about(codes[5], contact="模糊测试 投诉人")),
        "POST /v1/complaints/{complaint_id}/accept": ({"complaint_id": acted[0]}, {"note": "已受理"}),
        "POST /v1/complaints/{complaint_id}/close": ({"complaint_id": acted[1]}, {"result": "经调解已退货"}),
        "POST /v1/complaints/{complaint_id}/reject": ({"complaint_id": acted[2]}, {"reason": "不属于受理范围"}),
        "POST /v1/complaints/{complaint_id}/transfer": ({"complaint_id": acted[3]},
                                                        {"department": "SZTAX", "reason": "转办"}),
        "POST /v1/admin/complaints/{complaint_id}/route": ({"complaint_id": queued},
                                                           {"department": "SZAMR", "reason": "分派"}),
        "POST /v1/admin/complaints/{complaint_id}/reject": ({"complaint_id": spam}, {"reason": "广告信息"}),
    }

    # Violations only: the batch's four make deliveries enough, and few enough to send quickly.
    endpoints = {code: [_created(client.post("/v1/webhooks/endpoints", headers=h,
                                             json={"url": url, "event_types": ["violation.*"]}))["id"] for url in urls]
                 for code, h, urls in (("SZAMR", amr, (receiver_url, LOOPBACK_HOOK)), ("SZTAX", tax, (receiver_url,)))}
    world.ids["endpoint"] = [*endpoints["SZAMR"], *endpoints["SZTAX"]]
    world.ids["batch"] = [_push(client, amr, [{"type": "violation", "code": code, **_json(f.violation())}
                                              for code in codes[:4]] + [{"type": "violation", "code": HUAWEI}] * 2),
                          _push(client, tax, [{"type": "violation", "code": HUAWEI}])]
    for record_id in repairable:
        for kind, path, body in (("objection", "/v1/public/objections", objection(record_id)),
                                 ("repair", "/v1/public/repair-requests", repair(record_id))):
            filed = _created(client.post(path, json=body))  # by the public: SZAMR decides
            world.ids.setdefault(kind, []).append(filed["ticket"])
            world.secrets[filed["ticket"]] = filed["secret"]
    world.ids["ticket"] = [*world.ids["objection"], *world.ids["repair"], *world.ids["complaint"]]

    run_until_idle(db, clock)  # deliveries: succeeded to the receiver, failed to the closed port
    world.ids["delivery"] = [delivery["id"] for code, h in (("SZAMR", amr), ("SZTAX", tax))
                             for endpoint in endpoints[code]
                             for delivery in client.get(f"/v1/webhooks/endpoints/{endpoint}/deliveries",
                                                        headers=h).json()[:2]]
    assert len(world.ids["delivery"]) >= 3, world.ids["delivery"]
    _walk_lists(client, amr, world)
    return world


def _media_type(body) -> str:
    # schemathesis sends text/* as it is; it has no serializer for NDJSON.
    return "text/csv" if isinstance(body, str) else "application/json"


def _csv(line: dict) -> str:
    """A batch of one line in its CSV form: a header naming the fields, list items joined by ';'."""
    cells = {name: ";".join(value) if isinstance(value, list) else str(value) for name, value in line.items()}
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(cells))
    writer.writeheader()
    writer.writerow(cells)
    return text.getvalue()


def _json(fields) -> dict:
    return fields.model_dump(mode="json", exclude_none=True)


def _created(response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def _push(client, headers: dict[str, str], lines: list[dict]) -> str:
    response = client.post("/v1/batches", headers=headers | {"content-type": "application/x-ndjson"},
                           content="\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode())
    assert response.status_code == 200, response.text
    return response.json()["id"]


def _walk_lists(client, headers: dict[str, str], world: World) -> None:
    """Every list that takes a cursor, read a page of two at a time to its third page at least:
    the cursors of its first two pages (and later ones) are what a client would send back."""
    lists = {
        "GET /v1/records": ("/v1/records", "cursor", {}),
        "GET /v1/objections": ("/v1/objections", "cursor", {}),
        "GET /v1/repair-requests": ("/v1/repair-requests", "cursor", {}),
        "GET /v1/admin/audit": ("/v1/admin/audit", "cursor", {}),
        "GET /v1/batches/{batch_id}/results": (f"/v1/batches/{world.ids['batch'][0]}/results", "cursor", {}),
        "GET /v1/events": ("/v1/events", "after", {}),
        "GET /v1/public/lists/{list_name}": ("/v1/public/lists/black", "cursor", {}),
        "GET /v1/public/organizations": ("/v1/public/organizations", "cursor", {"q": "深圳"}),
    }
    for label, (url, name, query) in lists.items():
        pages, sent = [], {}
        for _ in range(4):
            response = client.get(url, headers=headers, params=query | {"limit": PAGE} | sent)
            assert response.status_code == 200, (label, response.text)
            body = response.json()
            if not body.get("items", body.get("data")):
                break
            pages.append(body)
            if not body.get("next_cursor") or body.get("has_more") is False:
                break
            sent = {name: body["next_cursor"]}
            world.pages.setdefault(label, []).append(query | sent)
        assert len(pages) >= 3, f"{label}: {len(pages)} pages of {PAGE}"
