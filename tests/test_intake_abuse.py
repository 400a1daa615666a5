"""The public's objection channel cannot be abused: one pending objection per record and filer,
a cap per record, forms that only this site's pages can send, objections only to the page's own
organization; and a page where a person follows a ticket with its secret."""

from datetime import date

import pytest
from sqlmodel import func, select

from db.session import transaction
from db.tables import Objection
from service.records import publishing
from tests import factories as f

HUAWEI = f.HUAWEI
OTHER = "91440300708461136T"


@pytest.fixture
def published(parties, unit_of_work, clock) -> dict[str, str]:
    with unit_of_work() as session:  # SZAMR (parties["a"]) decides the records
        f.make_organization(session, now=clock.now(), code=HUAWEI, name="华为技术有限公司")
        f.make_organization(session, now=clock.now(), code=OTHER, name="深圳市腾讯计算机系统有限公司")
        return {"huawei": publishing.publish(session, HUAWEI, f.violation(decided_on=date(2026, 6, 1)),
                                          department_code="SZAMR", now=clock.now()).record.id,
                "other": publishing.publish(session, OTHER, f.violation(decided_on=date(2026, 6, 1)),
                                         department_code="SZAMR", now=clock.now()).record.id}


def _objections(db) -> int:
    with transaction(db) as session:
        return session.exec(select(func.count()).select_from(Objection)).one()


def _object(client, record_id: str, contact: str):
    return client.post("/v1/public/objections", json={"record_id": record_id, "reason": "处罚信息有误请核实",
                                                      "contact": contact})


def test_the_same_filer_objects_once_while_the_first_is_pending(client, published, db) -> None:
    first = _object(client, published["huawei"], "张先生 13912345678")
    assert first.status_code == 201
    for same in ("张先生 13912345678", "张先生13912345678", " 张先生  １３９１２３４５６７８ ", "张先生：139-1234-5678"):
        again = _object(client, published["huawei"], same)
        assert again.status_code == 409, same
        assert again.json()["existing_id"] == first.json()["ticket"] and "pending" in again.json()["detail"]
    assert _object(client, published["huawei"], "李女士 13700000000").status_code == 201  # another filer
    assert _object(client, published["other"], "张先生 13912345678").status_code == 201  # another record
    assert _objections(db) == 3


def test_a_record_takes_no_more_pending_objections_than_the_rule_set_allows(client, published, parties) -> None:
    admin, a = parties["admin"].headers, parties["a"].headers
    assert client.post("/v1/admin/rule-sets", headers=admin, json={
        "effective_from": "2026-06-15", "changes": {"objection_pending_cap": 2}}).status_code == 201
    tickets = [_object(client, published["huawei"], f"filer {n}").json()["ticket"] for n in range(2)]
    refused = _object(client, published["huawei"], "filer 3")
    assert refused.status_code == 409 and refused.json()["title"] == "Objection limit reached"
    assert client.post(f"/v1/objections/{tickets[0]}/decision", headers=a,
                       json={"outcome": "upheld", "reason": "经核实无误"}).status_code == 200
    assert _object(client, published["huawei"], "filer 3").status_code == 201  # a place came free


def _form(record_id: str) -> dict[str, str]:
    return {"record_id": record_id, "reason": "处罚信息有误请核实", "contact": "王五 13512345678"}


def test_an_objection_is_filed_only_from_the_records_own_organization_page(client, published, db) -> None:
    response = client.post(f"/organizations/{HUAWEI}/objection", data=_form(published["other"]))
    assert response.status_code == 422 and f"{published['other']} is not a record of {HUAWEI}" in response.text
    assert _objections(db) == 0
    assert client.post(f"/organizations/{OTHER}/objection", data=_form(published["other"])).status_code == 201


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {"Origin": "https://evil.example"},
    {"Origin": "null"}, {"Origin": "http://testserver.evil.example"},
])
def test_forms_refuse_posts_from_other_sites(client, published, db, headers) -> None:
    response = client.post(f"/organizations/{HUAWEI}/objection", data=_form(published["huawei"]), headers=headers)
    assert response.status_code == 403 and "本站" in response.text
    assert client.post("/tickets", data={"ticket": "obj_x", "secret": "y" * 20}, headers=headers).status_code == 403
    assert _objections(db) == 0


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://testserver"}, {}])
def test_forms_take_posts_from_this_site_and_from_non_browsers(client, published, headers) -> None:
    response = client.post(f"/organizations/{HUAWEI}/objection", data=_form(published["huawei"]), headers=headers)
    assert response.status_code == 201


def test_a_person_follows_a_ticket_on_a_page_with_its_secret(client, published, parties) -> None:
    filed = _object(client, published["huawei"], "张先生 13912345678").json()
    assert 'name="secret"' in client.get("/tickets").text
    page = client.post("/tickets", data={"ticket": filed["ticket"], "secret": filed["secret"]})
    assert page.status_code == 200 and "办理中" in page.text and filed["secret"] not in page.text
    assert page.headers["cache-control"] == "no-store"
    client.post(f"/v1/objections/{filed['ticket']}/decision", headers=parties["a"].headers,
                json={"outcome": "upheld", "reason": "经核实无误，咨询电话 0755-23456789"})
    decided = client.post("/tickets?lang=en", data={"ticket": filed["ticket"], "secret": filed["secret"]})
    assert "Record upheld" in decided.text and "0755-****6789" in decided.text and "23456789" not in decided.text
    wrong = client.post("/tickets", data={"ticket": filed["ticket"], "secret": "x" * 43})
    assert wrong.status_code == 404 and "编号或密码不正确" in wrong.text
