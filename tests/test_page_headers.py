"""Every HTML answer the registry gives, successes and errors alike, cannot be framed, runs no
script but its own, and is never stored by a browser or a proxy: the page after filing an
objection shows the ticket's secret, and the back button or a shared cache must not show it again.

The cases come from the app's own route table: a new page without one here fails
``test_every_page_route_has_cases``.
"""

from datetime import date

import pytest
from fastapi.routing import iter_route_contexts

from service.records import publishing
from tests import factories as f

HUAWEI = f.HUAWEI
UNKNOWN = "91440300708461136T"  # a valid code nobody registered
NOT_PAGES = ("/v1/", "/static", "/healthz", "/readyz", "/metrics", "/.well-known", "/openapi.json")


def _objection_form(record_id: str, contact: str = "wang@example.org") -> dict[str, str]:
    return {"record_id": record_id, "reason": "处罚信息有误，请核实", "contact": contact}


# (method, route) -> the answers to check: (path, form or None, extra headers, expected status).
def _complaint_form(contact: str = "li@example.org", **more: str) -> dict[str, str]:
    return {"subject": "organization", "organization": HUAWEI, "category": "service",
            "description": "售后拒绝履行三包义务，请处理", "contact": contact} | more


def _cases(record_id: str, filed: dict[str, str], report_id: str = "rpt_none",
           complaint: dict[str, str] | None = None) -> dict[tuple[str, str], list[tuple]]:
    complaint = complaint or {}
    return {
        ("GET", "/"): [("/", None, {}, 200), ("/?q=华为", None, {}, 200), ("/?q=华&lang=en", None, {}, 422)],
        ("GET", "/organizations/{code}"): [(f"/organizations/{HUAWEI}", None, {}, 200),
                                           (f"/organizations/{UNKNOWN}?lang=en", None, {}, 404),
                                           ("/organizations/12345", None, {}, 422)],
        ("GET", "/organizations/{code}/objection"): [
            (f"/organizations/{HUAWEI}/objection?record_id={record_id}", None, {}, 200),
            (f"/organizations/{UNKNOWN}/objection", None, {}, 404)],
        ("POST", "/organizations/{code}/objection"): [
            # Filed: the page that shows the secret (the test checks it does).
            (f"/organizations/{HUAWEI}/objection", _objection_form(record_id, "li@example.org"), {}, 201),
            (f"/organizations/{HUAWEI}/objection", _objection_form(record_id, "li@example.org"), {}, 409),
            (f"/organizations/{HUAWEI}/objection", {"record_id": record_id, "reason": "x"}, {}, 422),
            (f"/organizations/{HUAWEI}/objection", _objection_form(record_id), {"Sec-Fetch-Site": "cross-site"}, 403),
            (f"/organizations/{UNKNOWN}/objection", _objection_form(record_id), {}, 404)],
        ("GET", "/lists/{list_name}"): [("/lists/black", None, {}, 200), ("/lists/red?lang=en", None, {}, 200),
                                        ("/lists/grey", None, {}, 404), ("/lists/black?since=yesterday", None, {}, 422)],
        ("GET", "/tickets"): [("/tickets", None, {}, 200)],
        ("GET", "/inspections"): [("/inspections", None, {}, 200), ("/inspections?q=电缆&lang=en", None, {}, 200),
                                  ("/inspections?q=电", None, {}, 422)],
        ("GET", "/inspections/{record_id}"): [(f"/inspections/{record_id}", None, {}, 404)],  # a violation's id
        ("POST", "/tickets"): [("/tickets", filed, {}, 200), ("/tickets", filed | {"secret": "x" * 43}, {}, 404)],
        ("GET", "/docs"): [("/docs", None, {}, 200)],
        ("GET", "/redoc"): [("/redoc", None, {}, 200)],
        ("GET", "/docs/oauth2-redirect"): [("/docs/oauth2-redirect", None, {}, 200)],
        ("GET", "/reports/{report_id}"): [(f"/reports/{report_id}", None, {}, 200),
                                          ("/reports/rpt_none?lang=en", None, {}, 404)],
        ("GET", "/reports/{report_id}.pdf"): [("/reports/rpt_none.pdf", None, {}, 404)],  # found, it is a PDF
        ("GET", "/verify"): [("/verify", None, {}, 200)],
        ("POST", "/verify"): [("/verify", {"jws": "a.b.c"}, {}, 200), ("/verify", {"jws": ""}, {}, 422),
                              ("/verify", {"jws": "a.b.c"}, {"Sec-Fetch-Site": "cross-site"}, 403)],
        ("GET", "/verify/{report_id}"): [(f"/verify/{report_id}", None, {}, 200), ("/verify/rpt_none", None, {}, 404)],
        ("GET", "/complaints/new"): [("/complaints/new", None, {}, 200),
                                     (f"/complaints/new?organization={HUAWEI}&lang=en", None, {}, 200)],
        ("POST", "/complaints/new"): [
            ("/complaints/new", _complaint_form(), {}, 201), ("/complaints/new", _complaint_form(), {}, 409),
            ("/complaints/new", _complaint_form(description="太短"), {}, 422),
            ("/complaints/new", _complaint_form(organization=UNKNOWN), {}, 404),
            ("/complaints/new?lang=en", _complaint_form(), {"Sec-Fetch-Site": "cross-site"}, 403)],
        ("GET", "/complaints"): [("/complaints", None, {}, 200)],
        ("POST", "/complaints"): [("/complaints", complaint, {}, 200),
                                  ("/complaints?lang=en", complaint | {"secret": "x" * 43}, {}, 404)],
        ("GET", "/statistics"): [("/statistics", None, {}, 200), ("/statistics?lang=en&by=region", None, {}, 200),
                                 ("/statistics?region=990000", None, {}, 422)],
    }


def _page_routes(app) -> set[tuple[str, str]]:
    return {(method, context.path_format) for context in iter_route_contexts(app.routes)
            if not context.path_format.startswith(NOT_PAGES) for method in (context.methods or ()) if method != "HEAD"}


@pytest.fixture
def published(parties, unit_of_work, clock) -> str:
    with unit_of_work() as session:
        f.make_organization(session, now=clock.now(), code=HUAWEI, name="华为技术有限公司")
        return publishing.publish(session, HUAWEI, f.violation(decided_on=date(2026, 6, 1)), department_code="SZAMR",
                               now=clock.now()).record.id


def test_every_page_route_has_cases(app) -> None:
    assert _page_routes(app) == set(_cases("rec", {}))


def test_every_html_answer_cannot_be_framed_or_stored(client, parties, published) -> None:
    filed = client.post("/v1/public/objections", json=_objection_form(published)).json()
    ticket = {"ticket": filed["ticket"], "secret": filed["secret"]}
    report = client.get(f"/v1/organizations/{HUAWEI}/credit-report", headers=parties["reader"].headers).json()
    complained = client.post("/v1/public/complaints", json=_complaint_form("wang@example.org")).json()
    complaint = {"ticket": complained["ticket"], "secret": complained["secret"]}
    checked = 0
    for (method, _), answers in _cases(published, ticket, report["report_id"], complaint).items():
        for path, form, headers, status in answers:
            response = client.request(method, path, data=form, headers=headers)
            where = f"{method} {path} {form}"
            assert response.status_code == status, (where, response.text[:300])
            assert response.headers["content-type"].startswith("text/html"), where
            policy = dict(d.strip().partition(" ")[::2] for d in response.headers["content-security-policy"].split(";"))
            assert policy["frame-ancestors"] == "'none'", where
            assert "unsafe" not in policy.get("script-src", "") and "*" not in response.headers[
                "content-security-policy"], where
            assert response.headers["x-frame-options"] == "DENY", where
            assert response.headers["cache-control"] == "no-store", where
            assert "etag" not in response.headers, where
            assert response.headers["x-content-type-options"] == "nosniff", where
            if status == 201:  # the page after filing really is the one that shows the secret
                assert 'data-testid="secret"' in response.text, where
            checked += 1
    assert checked >= 20
