"""Hostile fixtures: a department types a resident ID, a mobile and a bank card number into every
free-text field (tests/factories.py ``hostile=True``), through every way records reach the
registry: the single endpoints, batches in NDJSON and in CSV, corrections (direct and by an
objection's decision), and the answers to objections and repair requests.

Then every public route of the app, taken from its own route table, is read: the JSON profile,
search, the lists and their exports, the pages in Chinese and English, the ticket status in JSON
and on its page. The suite's detector (tests/masking.py, which shares nothing with the masking)
must find nothing there, while it finds every planted number in what the department reads of the
same records: the planting worked, and the masked text is on show (``****``), so the public read
is not empty by accident. A public route added without a read here fails
``test_every_public_route_is_read_here``.
"""

import csv
import io
import json
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from pypdf import PdfReader

from api.app import create_app
from api.middleware.public_paths import is_public
from api.settings import Settings
from api.tokens import generate_key_pem
from service.organizations.master_data import OrganizationFields
from service.records.fields import FIELDS_BY_KIND
from tests import factories as f
from tests.masking import find_personal_data

MASKED = "****"
NDJSON, CSV = {"content-type": "application/x-ndjson"}, {"content-type": "text/csv"}
# Public routes that take what the public files: used below to file, their answers checked too.
PUBLIC_FILINGS = {("POST", "/v1/public/objections"), ("POST", "/v1/public/repair-requests"),
                  ("POST", "/organizations/{code}/objection"), ("POST", "/v1/public/complaints"),
                  ("POST", "/complaints/new")}


def _text_fields(model: type[BaseModel]) -> set[str]:
    def holds_text(annotation: Any) -> bool:
        return annotation is str or any(holds_text(arg) for arg in typing.get_args(annotation))

    return {name for name, info in model.model_fields.items() if holds_text(info.annotation)}


def test_every_free_text_field_is_planted() -> None:
    """A field added to a record kind or to the master data is planted too, or this fails. A
    rating's scheme and grade must name a grade scheme's; they hold no free text."""
    models: dict[str, type[BaseModel]] = {"organization": OrganizationFields, **FIELDS_BY_KIND}
    unplanted = {kind: _text_fields(model) - set(f.HOSTILE_FIELDS[kind]) for kind, model in models.items()}
    # A spot check's seller is a code (validated as a USCC), no free text.
    code_only = {"rating": {"scheme", "grade"}, "inspection": {"seller_uscc"}}
    assert unplanted == {kind: code_only.get(kind, set()) for kind in models}


def _json(fields: BaseModel) -> dict[str, Any]:
    return fields.model_dump(mode="json", exclude_none=True)


def _planted(value: Any) -> set[str]:
    return set(find_personal_data(json.dumps(value, ensure_ascii=False)))


@dataclass
class World:
    """What was written, and what the detector found in what was sent for each thing."""

    codes: list[str]
    sent: dict[str, set[str]] = field(default_factory=dict)  # organization code or record id -> hits
    records: dict[str, list[str]] = field(default_factory=dict)  # organization code -> its public records
    tickets: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (ticket, secret)
    filings: list[str] = field(default_factory=list)  # what the public filing routes answered
    reports: dict[str, str] = field(default_factory=dict)  # credit report id -> its JWS
    inspections: list[str] = field(default_factory=list)  # spot-check record ids


def _csv(rows: list[dict[str, Any]]) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns)
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        return json.dumps(value, ensure_ascii=False)  # a spot check's failed items: a JSON cell
    return ";".join(value) if isinstance(value, list) else value


def _batch(client, headers, lines: list[dict[str, Any]], content: dict[str, str], world: World) -> None:
    body = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) if content is NDJSON else _csv(lines)
    response = client.post("/v1/batches", headers=headers | content, content=body.encode())
    assert response.status_code == 200 and response.json()["rejected"] == 0, response.text
    for line, result in zip(lines, response.json()["results"], strict=True):
        fields = {k: v for k, v in line.items() if k not in ("type", "code")}
        world.sent[result["record_id"] or line["code"]] = _planted(fields)
        if result["record_id"]:
            world.records.setdefault(line["code"], []).append(result["record_id"])
        if line["type"] == "inspection":
            world.inspections.append(result["record_id"])


def _written(response, world: World, code: str, fields: dict[str, Any]) -> str:
    assert response.status_code == 201, response.text
    record_id = response.json()["id"]
    world.sent[record_id] = _planted(fields)
    world.records.setdefault(code, []).append(record_id)
    return record_id


def _write_singly(client, a, world: World) -> dict[str, str]:
    """Master data and a record of each kind through the single endpoints; the records' ids."""
    code = world.codes[0]
    organization = _json(f.organization(hostile=True))
    assert client.put(f"/v1/organizations/{code}", headers=a, json=organization).status_code in (200, 201)
    world.sent[code] = _planted(organization)
    written = {}
    for name, path, fields in (
            ("rating", "ratings", f.rating(hostile=True)), ("violation", "violations", f.violation(hostile=True)),
            ("disclosure", "disclosures", f.disclosure(hostile=True)),
            ("minor", "violations", f.violation(hostile=True, severity="minor", penalty_types=["fine"])),
            ("inspection", "inspections", f.inspection(hostile=True))):
        response = client.post(f"/v1/organizations/{code}/{path}", headers=a, json=_json(fields))
        written[name] = _written(response, world, code, _json(fields))
    world.inspections.append(written["inspection"])
    black = _json(f.list_entry("black", hostile=True))
    _written(client.post("/v1/list-entries", headers=a, json={"code": code, **black}), world, code, black)
    return written


def _write_in_batches(client, a, world: World) -> None:
    """Master data and a record of each kind as the lines of a batch: one in NDJSON, one in CSV."""
    for code, content, listed in ((world.codes[1], NDJSON, "red"), (world.codes[2], CSV, "black")):
        kinds = (("rating", f.rating(hostile=True)), ("violation", f.violation(hostile=True)),
                 ("disclosure", f.disclosure(hostile=True)), ("list_entry", f.list_entry(listed, hostile=True)),
                 ("inspection", f.inspection(hostile=True)))
        _batch(client, a, [{"type": "organization", "code": code, **_json(f.organization(hostile=True))},
                           *({"type": kind, "code": code, **_json(fields)} for kind, fields in kinds)], content, world)


def _file(client, world: World, name: str, path: str, body: dict[str, str]) -> None:
    """File in JSON (/v1/public/...) or with the page's form; the ticket and secret as shown."""
    on_the_page = not path.startswith("/v1/")
    filed = client.post(path, data=body) if on_the_page else client.post(path, json=body)
    assert filed.status_code == 201, filed.text
    world.filings.append(filed.text)
    if on_the_page:
        world.tickets[name] = tuple(re.search(f'data-testid="{field}">(?:<code>)?([^<]+)<', filed.text).group(1)
                                    for field in ("ticket", "secret"))
    else:
        world.tickets[name] = filed.json()["ticket"], filed.json()["secret"]


@pytest.fixture
def world(client, parties) -> World:
    """Three organizations with records of every kind, written singly, in NDJSON and in CSV; then
    corrected, objected to (in JSON and on the page) and asked to repair, each answered."""
    a = parties["a"].headers
    world = World([f.new_uscc() for _ in range(3)])
    written = _write_singly(client, a, world)
    _write_in_batches(client, a, world)
    corrected = _json(f.violation(hostile=True))
    response = client.post(f"/v1/records/{written['violation']}/corrections", headers=a,
                           json={"fields": corrected, "reason": f.plant_personal_data("更正")})
    assert response.status_code == 200, response.text
    world.sent[written["violation"]] = _planted(corrected)

    objected = world.records[world.codes[1]][1]  # the NDJSON batch's violation
    _file(client, world, "corrected", "/v1/public/objections", {
        "record_id": objected, "reason": f.plant_personal_data("处罚有误"), "contact": f.plant_personal_data("王五")})
    _file(client, world, "upheld", f"/organizations/{world.codes[0]}/objection", {
        "record_id": written["violation"], "reason": f.plant_personal_data("处罚对象有误"),
        "contact": f.plant_personal_data("赵六")})
    _file(client, world, "rejected", "/v1/public/repair-requests", {
        "record_id": written["minor"], "statement": f.plant_personal_data("罚款已于五月缴清"),
        "commitment": f.plant_personal_data("本公司承诺守法经营"), "contact": f.plant_personal_data("钱七")})
    corrected = _json(f.violation(hostile=True))
    for name, path, more in (("corrected", "objections", {"fields": corrected}), ("upheld", "objections", {}),
                             ("rejected", "repair-requests", {})):
        decided = client.post(f"/v1/{path}/{world.tickets[name][0]}/decision", headers=a,
                              json={"outcome": name, "reason": f.plant_personal_data("经核实，如有疑问请致电"), **more})
        assert decided.status_code == 200, decided.text
    world.sent[objected] = _planted(corrected)
    # Complaints (投诉举报), in JSON and on the page form, planted everywhere the filer writes; the
    # department's reason and result too.
    _file(client, world, "complaint_closed", "/v1/public/complaints", {
        "subject": "organization", "organization": world.codes[0], "category": "service",
        "description": f.plant_personal_data("售后服务态度恶劣"), "contact": f.plant_personal_data("孙八"),
        "evidence_urls": ["https://example.org/receipt.jpg"]})
    _file(client, world, "complaint_rejected", "/complaints/new", {
        "subject": "product", "product_name": f.plant_personal_data("电热水壶"), "brand": f.plant_personal_data("美好"),
        "producer": world.codes[1], "category": "counterfeit", "description": f.plant_personal_data("疑似假冒产品"),
        "contact": f.plant_personal_data("周九"), "anonymous": "on", "evidence_urls": ""})
    closed, rejected = world.tickets["complaint_closed"][0], world.tickets["complaint_rejected"][0]
    for path, body in ((f"{closed}/accept", {}), (f"{closed}/close", {"result": f.plant_personal_data("已退款")}),
                       (f"{rejected}/reject", {"reason": f.plant_personal_data("证据不足")})):
        handled = client.post(f"/v1/complaints/{path}", headers=a, json=body)
        assert handled.status_code == 200, handled.text
    # A credit report of each: issued to a department, then shown and verified in public.
    for code in world.codes:
        issued = client.get(f"/v1/organizations/{code}/credit-report", headers=a)
        assert issued.status_code == 200, issued.text
        world.filings.append(issued.text)  # handed to third parties: no less public than a page
        world.reports[issued.json()["report_id"]] = issued.json()["jws"]
    return world


@dataclass(frozen=True)
class Read:
    method: str
    url: str
    shows_masked: bool = True  # the planted text is on show there, masked
    kwargs: dict[str, Any] = field(default_factory=dict)
    pdf: bool = False  # the answer is a PDF: its text is what is read

    def text(self, response: Any) -> str:
        if not self.pdf:
            return str(response.text)
        return "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def _ticket_reads(world: World, prefix: str) -> list[Read]:
    return [Read("GET", f"/v1/public/{prefix}/{ticket}", kwargs={"headers": {"Ticket-Secret": secret}})
            for ticket, secret in world.tickets.values() if ticket.startswith(prefix[:3])]


def _both_languages(urls: list[str]) -> list[Read]:
    return [Read("GET", url + suffix) for url in urls for suffix in ("", "&lang=en" if "?" in url else "?lang=en")]


PUBLIC_READS: dict[tuple[str, str], Callable[[World], list[Read]]] = {
    ("GET", "/v1/public/organizations/{code}"): lambda w: [Read("GET", f"/v1/public/organizations/{c}") for c in w.codes],
    ("GET", "/v1/public/organizations"): lambda w: [Read("GET", f"/v1/public/organizations?q=华兴电子{more}")
                                                    for more in ("", "&list=black", "&region=440300")],
    ("GET", "/v1/public/lists/{list_name}"): lambda w: [Read("GET", f"/v1/public/lists/{name}{more}")
                                                        for name in ("black", "red") for more in ("", "?region=4403")],
    ("GET", "/v1/public/lists/{list_name}/export"): lambda w: [
        Read("GET", f"/v1/public/lists/{name}/export?format={form}") for name in ("black", "red")
        for form in ("csv", "ndjson")],
    # The bare home page shows the newest red and black entries and failed spot checks, planted too.
    ("GET", "/"): lambda w: _both_languages(["/", "/?q=华兴电子"]),
    ("GET", "/organizations/{code}"): lambda w: _both_languages([f"/organizations/{c}" for c in w.codes]),
    ("GET", "/organizations/{code}/objection"): lambda w: _both_languages(
        [f"/organizations/{c}/objection?record={w.records[c][0]}" for c in w.codes]),
    ("GET", "/lists/{list_name}"): lambda w: _both_languages(["/lists/black", "/lists/red"]),
    ("GET", "/tickets"): lambda w: [Read("GET", "/tickets", shows_masked=False)],
    ("POST", "/tickets"): lambda w: [Read("POST", f"/tickets{lang}", kwargs={"data": {"ticket": t, "secret": s}})
                                     for t, s in w.tickets.values() for lang in ("", "?lang=en")
                                     if not t.startswith("cmp_")],
    ("GET", "/v1/public/complaints/{ticket}"): lambda w: [
        Read("GET", f"/v1/public/complaints/{t}", kwargs={"headers": {"Ticket-Secret": s}})
        for t, s in w.tickets.values() if t.startswith("cmp_")],
    ("GET", "/complaints/new"): lambda w: [Read("GET", f"/complaints/new{more}", shows_masked=False)
                                           for more in ("", f"?organization={w.codes[0]}&lang=en")],
    ("GET", "/complaints"): lambda w: [Read("GET", "/complaints", shows_masked=False)],
    ("POST", "/complaints"): lambda w: [Read("POST", f"/complaints{lang}", kwargs={"data": {"ticket": t, "secret": s}})
                                        for t, s in w.tickets.values() if t.startswith("cmp_")
                                        for lang in ("", "?lang=en")],
    ("GET", "/v1/public/objections/{ticket}"): lambda w: _ticket_reads(w, "objections"),
    ("GET", "/v1/public/repair-requests/{ticket}"): lambda w: _ticket_reads(w, "repair-requests"),
    # Reference data and counts: nothing of anyone's on show.
    ("GET", "/v1/public/measures"): lambda w: [Read("GET", "/v1/public/measures", shows_masked=False)],
    ("GET", "/v1/public/grade-schemes"): lambda w: [Read("GET", "/v1/public/grade-schemes", shows_masked=False)],
    # Spot checks: planted in product name, brand, model, batch, standards and failed items.
    ("GET", "/v1/public/inspections"): lambda w: [Read("GET", f"/v1/public/inspections{more}")
                                                  for more in ("?q=电缆", "", "?result=fail&region=4403")],
    ("GET", "/v1/public/inspections/export"): lambda w: [
        Read("GET", f"/v1/public/inspections/export?format={form}") for form in ("csv", "ndjson")],
    ("GET", "/v1/public/inspections/{record_id}"): lambda w: [Read("GET", f"/v1/public/inspections/{r}")
                                                              for r in w.inspections],
    ("GET", "/inspections"): lambda w: _both_languages(["/inspections?q=电缆", "/inspections?result=fail"]),
    ("GET", "/inspections/{record_id}"): lambda w: _both_languages([f"/inspections/{r}" for r in w.inspections]),
    ("GET", "/v1/public/statistics/measures-applied"): lambda w: [
        Read("GET", "/v1/public/statistics/measures-applied", shows_masked=False)],
    # Statistics: counts and the categories the records name (masked when written, so never planted).
    ("GET", "/v1/public/statistics"): lambda w: [Read("GET", "/v1/public/statistics", shows_masked=False)],
    ("GET", "/v1/public/statistics/{name}"): lambda w: [
        Read("GET", f"/v1/public/statistics/{name}{more}",
             shows_masked=name in ("violations", "inspections") and "region" not in more)
        for name in ("organizations", "violations", "inspections", "red-and-black")
        for more in ("", "?by=region", "?format=csv")],
    ("GET", "/statistics"): lambda w: [Read("GET", f"/statistics{lang}")
                                       for lang in ("", "?lang=en")],
    # Credit reports: the page, the PDF, the verification by id and by the pasted document.
    ("GET", "/reports/{report_id}"): lambda w: _both_languages([f"/reports/{r}" for r in w.reports]),
    ("GET", "/reports/{report_id}.pdf"): lambda w: [Read("GET", f"/reports/{r}.pdf", pdf=True) for r in w.reports],
    ("GET", "/verify/{report_id}"): lambda w: _both_languages([f"/verify/{r}" for r in w.reports]),
    ("GET", "/verify"): lambda w: [Read("GET", "/verify", shows_masked=False)],
    ("POST", "/verify"): lambda w: [Read("POST", "/verify", kwargs={"data": {"jws": jws}}) for jws in w.reports.values()],
}


def _public_routes(app) -> set[tuple[str, str]]:
    return {(method, context.path_format) for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute) and is_public(context.path_format)
            for method in context.methods}


def test_every_public_route_is_read_here() -> None:
    kid, pem = generate_key_pem()  # the route table needs neither a database nor the key files
    app = create_app(Settings(database_url="sqlite://", signing_key=pem, signing_key_id=kid))
    assert _public_routes(app) == set(PUBLIC_READS) | PUBLIC_FILINGS


def test_planted_everywhere_shown_to_the_department_and_published_nowhere(app, client, parties, world) -> None:
    a = parties["a"].headers
    # What the department reads holds every number planted, in whatever form it was typed; and every
    # record is on public display, so the reads below see them.
    for written, hits in world.sent.items():
        read = client.get(f"/v1/records/{written}" if written.startswith("rec_") else f"/v1/organizations/{written}",
                          headers=a)
        assert len(hits) >= 3 and hits <= _planted(read.json()), (written, hits)
    for code in world.codes:
        shown = {r["id"] for r in client.get(f"/v1/public/organizations/{code}").json()["records"]}
        assert set(world.records[code]) <= shown

    published = {filing: find_personal_data(filing) for filing in world.filings}
    without_masked_text = []
    for route in sorted(_public_routes(app) - PUBLIC_FILINGS):
        for read in PUBLIC_READS[route](world):
            response = client.request(read.method, read.url, **read.kwargs)
            assert response.status_code == 200, (read.url, response.status_code, response.text[:300])
            text = read.text(response)
            published[read.url] = find_personal_data(text)
            if (MASKED in text) != read.shows_masked:
                without_masked_text.append(read.url)
    assert {where: hits for where, hits in published.items() if hits} == {}
    assert without_masked_text == []


def test_a_number_glued_to_latin_letters_is_masked_not_a_server_error(client, client_for, unit_of_work, clock) -> None:
    """Letters and digits together make 18 characters, like a unified social credit code, but with a
    letter no code has (O, I, S, V, Z): the check for a code raised KeyError and the write was a 500."""
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
    writer = client_for("SZAMR", "records:write")
    for typed, shown in (("联系Mobile13912340008x", "联系Mobile139****0008x"), ("卡NO6222021234560089", "卡NO6222********0089")):
        code = f.new_uscc()
        organization = client.put(f"/v1/organizations/{code}", headers=writer, json={"name": f"深圳市{typed}有限公司"})
        assert organization.status_code == 201, organization.text
        violation = client.post(f"/v1/organizations/{code}/violations", headers=writer,
                                json=_json(f.violation(penalty=typed)))
        assert violation.status_code == 201, violation.text
        profile = client.get(f"/v1/public/organizations/{code}").json()
        assert profile["name"] == f"深圳市{shown}有限公司" and profile["records"][0]["summary"]["penalty"] == shown
