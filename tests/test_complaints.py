"""Complaints and reports (投诉举报, issue 19 item 4): filing about an organization or a product,
routing to the market-regulation department of the region (walking up) or the administrators,
deadlines from the rule set, the department's handling, the filer's status read, the overdue
metric, floods and privacy. Through HTTP, on both databases."""

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from api.app import create_app
from api.settings import Settings
from db.repositories.complaints import ComplaintRepository
from db.session import transaction
from db.tables import Complaint, ComplaintAction, Event
from service.rules import reference
from tests import factories as f
from tests.conftest import FIXED_NOW
from tests.masking import find_personal_data

HUAWEI = f.HUAWEI  # registered in 440300: Shenzhen, where SZAMR is
FUTIAN = f.new_uscc("440304")  # a district with its own market regulator
HAIZHU = f.new_uscc("440105")  # Guangzhou: no district or city regulator, the province's is
FUZHOU = f.new_uscc("350102")  # Fujian: no market regulator registered at all
CONTACT = "张先生 13912345678"
ID_NUMBER = "110101199003074477"  # a valid resident id number (check digit and birth date)


@pytest.fixture
def world(parties, unit_of_work, clock, client_for):
    """SZAMR (Shenzhen, the parties' market regulator), FTAMR (Futian district), GDAMR (Guangdong
    province); organizations in each place and one in Fujian; handlers with complaints:handle."""
    with unit_of_work() as session:
        f.make_department(session, now=clock.now(), code="FTAMR", name="福田区市场监督管理局", region_code="440304")
        f.make_department(session, now=clock.now(), code="GDAMR", name="广东省市场监督管理局", region_code="440000")
        # Another kind of department in the district: never a complaint's destination.
        reference.add_department(session, code="FTTAX", name="福田区税务局", kind="tax", region_code="440304",
                                 now=clock.now())
        for code, name in ((HUAWEI, "华为技术有限公司"), (FUTIAN, "深圳市福田电器有限公司"),
                           (HAIZHU, "广州市海珠食品有限公司"), (FUZHOU, "福州市鼓楼服装有限公司")):
            f.make_organization(session, now=clock.now(), code=code, name=name)
    return {"SZAMR": client_for("SZAMR", "complaints:handle", "records:read"),
            "FTAMR": client_for("FTAMR", "complaints:handle", "records:read"),
            "GDAMR": client_for("GDAMR", "complaints:handle"),
            "SZTAX": client_for("SZTAX", "complaints:handle"),
            "objections_only": client_for("SZAMR", "objections:handle"), "admin": parties["admin"].headers}


def about(code: str = HUAWEI, **overrides) -> dict:
    return {"subject": "organization", "organization": code, "category": "product_quality",
            "description": "购买的电热水壶使用一周后漏电，商家拒绝退换。", "contact": CONTACT,
            "evidence_urls": ["https://example.org/receipt.jpg"]} | overrides


def product(**overrides) -> dict:
    return {"subject": "product", "product_name": "电热水壶", "brand": "美好牌", "category": "counterfeit",
            "description": "包装上的厂名厂址是假的，怀疑为假冒产品。", "contact": CONTACT} | overrides


def file(client, body: dict):
    return client.post("/v1/public/complaints", json=body)


def filed(client, body: dict) -> dict:
    response = file(client, body)
    assert response.status_code == 201, response.text
    return response.json()


def status(client, ticket: dict):
    return client.get(f"/v1/public/complaints/{ticket['ticket']}", headers={"Ticket-Secret": ticket["secret"]})


def act(client, headers, complaint_id: str, action: str, body: dict | None = None):
    return client.post(f"/v1/complaints/{complaint_id}/{action}", headers=headers, json=body or {})


def count(db, model=Complaint) -> int:
    with transaction(db) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def events(db) -> list[dict]:
    with transaction(db) as session:
        return [json.loads(e) for e in session.exec(select(Event.envelope).order_by(Event.seq))]


class TestFiling:
    def test_an_organization_complaint_goes_to_its_city_regulator_with_the_acceptance_deadline(self, client, world,
                                                                                            db) -> None:
        response = file(client, about())
        assert response.status_code == 201, response.text
        assert response.headers["cache-control"] == "no-store"
        ticket = response.json()
        assert ticket["ticket"].startswith("cmp_") and len(ticket["secret"]) >= 40
        # Filed 2026-06-15 (Beijing time): 7 days to accept or refuse (SAMR Order 20, art. 18).
        assert (ticket["status"], ticket["department"], ticket["accept_by"]) == ("submitted", "SZAMR", "2026-06-22")
        seen = status(client, ticket)
        assert seen.status_code == 200 and seen.headers["cache-control"] == "no-store"
        body = seen.json()
        assert (body["status"], body["organization"], body["category"], body["evidence_count"]) == \
            ("submitted", HUAWEI, "product_quality", 1)
        assert body["resolve_by"] is None and body["overdue"] is False and "contact" not in body
        assert CONTACT not in seen.text
        [event] = [e for e in events(db) if e["type"].startswith("complaint.")]
        assert event["type"] == "complaint.filed" and event["data"] == {
            "complaint_id": ticket["ticket"], "department": "SZAMR", "subject": "organization",
            "category": "product_quality", "organization": HUAWEI, "accept_by": "2026-06-22"}

    def test_a_product_complaint_with_a_producer_goes_to_the_producers_region(self, client, world) -> None:
        ticket = filed(client, product(producer=FUTIAN))
        assert ticket["department"] == "FTAMR"
        body = status(client, ticket).json()
        assert (body["subject"], body["product_name"], body["brand"], body["organization"]) == \
            ("product", "电热水壶", "美好牌", FUTIAN)

    def test_a_product_complaint_without_a_producer_goes_to_the_administrators(self, client, world) -> None:
        ticket = filed(client, product())
        assert ticket["department"] is None
        queue = client.get("/v1/admin/complaints", headers=world["admin"]).json()["items"]
        assert [c["id"] for c in queue] == [ticket["ticket"]]
        assert queue[0]["contact"] is None  # the administrators route; only the handling department reads it

    def test_the_administrators_queue_shows_the_text_masked(self, client, world) -> None:
        # Only the handling department may learn who filed; a filer who wrote their number into the
        # description is not named to the administrators who route it.
        filed(client, about(FUZHOU, description="我是张先生，电话13912345678，产品标签虚假"))
        queue = client.get("/v1/admin/complaints", headers=world["admin"])
        assert queue.status_code == 200 and "13912345678" not in queue.text
        assert "139****5678" in queue.json()["items"][0]["description"]

    def test_anyone_may_complain_without_a_contact(self, client, world, db) -> None:
        ticket = filed(client, about(contact=None, anonymous=True))
        view = client.get(f"/v1/complaints/{ticket['ticket']}", headers=world["SZAMR"])
        assert view.status_code == 200, view.text
        view = view.json()
        assert (view["contact"], view["anonymous"]) == (None, True)


class TestRouting:
    @pytest.mark.parametrize(("code", "department"), [
        (HUAWEI, "SZAMR"),  # the city
        (FUTIAN, "FTAMR"),  # the district's own, before the city's (and never its tax bureau)
        (HAIZHU, "GDAMR"),  # no district nor city regulator: up to the province
        (FUZHOU, None),  # none at all: the administrators
    ])
    def test_the_nearest_market_regulator_walking_up(self, client, world, code, department) -> None:
        assert filed(client, about(code))["department"] == department

    def test_the_administrators_route_their_queue(self, client, world, db) -> None:
        ticket = filed(client, about(FUZHOU))
        assert client.get(f"/v1/complaints/{ticket['ticket']}", headers=world["SZAMR"]).status_code == 404
        assert client.post(f"/v1/admin/complaints/{ticket['ticket']}/route", headers=world["SZAMR"],
                           json={"department": "SZAMR", "reason": "x" * 5}).status_code == 403
        routed = client.post(f"/v1/admin/complaints/{ticket['ticket']}/route", headers=world["admin"],
                             json={"department": "SZAMR", "reason": "福建暂无登记的市场监管部门，先由深圳处理"})
        assert routed.status_code == 200, routed.text
        assert routed.json()["department"] == "SZAMR" and routed.json()["contact"] is None
        assert client.get("/v1/admin/complaints", headers=world["admin"]).json()["items"] == []
        view = client.get(f"/v1/complaints/{ticket['ticket']}", headers=world["SZAMR"]).json()
        assert view["contact"] == CONTACT
        assert [a["action"] for a in view["trail"]] == ["filed", "transferred"]
        assert client.post(f"/v1/admin/complaints/{ticket['ticket']}/route", headers=world["admin"],
                           json={"department": "FTAMR", "reason": "再次分派"}).status_code == 404  # no longer queued

    def test_the_administrators_reject_spam_in_their_queue_and_only_there(self, client, world) -> None:
        spam = filed(client, product(product_name="代购减肥茶", description="加微信领优惠券，加微信领优惠券"))
        routed_away = filed(client, about(HUAWEI))  # a department's: not the administrators' to decide
        reason = {"reason": "与产品质量无关的广告信息"}
        assert client.post(f"/v1/admin/complaints/{spam['ticket']}/reject", headers=world["SZAMR"],
                           json=reason).status_code == 403
        assert client.post(f"/v1/admin/complaints/{routed_away['ticket']}/reject", headers=world["admin"],
                           json=reason).status_code == 404
        rejected = client.post(f"/v1/admin/complaints/{spam['ticket']}/reject", headers=world["admin"], json=reason)
        assert rejected.status_code == 200, rejected.text
        assert (rejected.json()["status"], rejected.json()["contact"]) == ("rejected", None)
        assert status(client, spam).json()["answer"] == "与产品质量无关的广告信息"
        assert client.get("/v1/admin/complaints", headers=world["admin"],
                          params={"status": "submitted"}).json()["items"] == []
        assert client.post(f"/v1/admin/complaints/{spam['ticket']}/reject", headers=world["admin"],
                           json=reason).status_code == 409  # decided already


class TestHandling:
    def test_accept_then_close_with_the_result_the_filer_reads(self, client, world, clock, db) -> None:
        ticket = filed(client, about())
        cid, szamr = ticket["ticket"], world["SZAMR"]
        clock.advance(days=2)
        accepted = act(client, szamr, cid, "accept", {"note": "已受理，转消保科"})
        assert accepted.status_code == 200, accepted.text
        # Accepted 2026-06-17: the result is due 60 days later (the rule set's complaint_resolution_days).
        assert (accepted.json()["status"], accepted.json()["resolve_by"]) == ("accepted", "2026-08-16")
        assert status(client, ticket).json()["resolve_by"] == "2026-08-16"
        closed = act(client, szamr, cid, "close", {"result": "经调解，商家同意退货并赔偿200元"})
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        seen = status(client, ticket).json()
        assert (seen["status"], seen["answer"]) == ("closed", "经调解，商家同意退货并赔偿200元")
        assert seen["decided_at"] is not None and seen["overdue"] is False
        view = client.get(f"/v1/complaints/{cid}", headers=szamr).json()
        assert [(a["action"], a["department"]) for a in view["trail"]] == [
            ("filed", None), ("accepted", "SZAMR"), ("closed", "SZAMR")]
        assert [e["type"] for e in events(db) if e["type"].startswith("complaint.")] == [
            "complaint.filed", "complaint.accepted", "complaint.closed"]

    def test_reject_with_a_reason(self, client, world) -> None:
        ticket = filed(client, about())
        rejected = act(client, world["SZAMR"], ticket["ticket"], "reject", {"reason": "不属于市场监管部门职责范围"})
        assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
        assert status(client, ticket).json()["answer"] == "不属于市场监管部门职责范围"

    @pytest.mark.parametrize(("before", "action", "body"), [
        ([], "close", {"result": "已处理完毕"}),  # not accepted yet
        (["accept"], "accept", {}),
        (["accept"], "reject", {"reason": "重复投诉"}),
        (["accept"], "transfer", {"department": "FTAMR", "reason": "属地管辖"}),
        (["reject"], "accept", {}),
        (["reject"], "close", {"result": "已处理"}),
        (["accept", "close"], "close", {"result": "再次办结"}),
        (["accept", "close"], "transfer", {"department": "FTAMR", "reason": "属地管辖"}),
    ])
    def test_refused_transitions_are_409_and_change_nothing(self, client, world, db, before, action, body) -> None:
        cid, szamr = filed(client, about())["ticket"], world["SZAMR"]
        steps = {"accept": {}, "reject": {"reason": "不予受理"}, "close": {"result": "办结"}}
        for step in before:
            assert act(client, szamr, cid, step, steps[step]).status_code == 200
        trail = count(db, ComplaintAction)
        refused = act(client, szamr, cid, action, body)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert count(db, ComplaintAction) == trail

    def test_another_departments_complaint_does_not_exist_for_it(self, client, world) -> None:
        cid = filed(client, about())["ticket"]
        for other in ("FTAMR", "SZTAX"):
            assert client.get(f"/v1/complaints/{cid}", headers=world[other]).status_code == 404
            assert act(client, world[other], cid, "accept").status_code == 404
            assert client.get("/v1/complaints", headers=world[other]).json()["items"] == []
        assert client.get("/v1/complaints", headers=world["objections_only"]).status_code == 403
        assert client.get("/v1/complaints/cmp_01JD2X3Y4Z5A6B7C8D9E0F1G2H", headers=world["SZAMR"]).status_code == 404

    def test_a_transfer_moves_the_complaint_and_its_events(self, client, world, clock, db) -> None:
        ticket = filed(client, about())
        cid = ticket["ticket"]
        clock.advance(days=3)
        bad = act(client, world["SZAMR"], cid, "transfer", {"department": "NOSUCH", "reason": "属地管辖"})
        assert bad.status_code == 422
        itself = act(client, world["SZAMR"], cid, "transfer", {"department": "SZAMR", "reason": "属地管辖"})
        assert itself.status_code == 422
        moved = act(client, world["SZAMR"], cid, "transfer", {"department": "FTAMR", "reason": "被投诉门店位于福田区"})
        assert moved.status_code == 200, moved.text
        # The new department gets its 7 days from the transfer (2026-06-18).
        assert (moved.json()["department"], moved.json()["accept_by"]) == ("FTAMR", "2026-06-25")
        assert client.get(f"/v1/complaints/{cid}", headers=world["SZAMR"]).status_code == 404
        assert client.get("/v1/complaints", headers=world["SZAMR"]).json()["items"] == []
        view = client.get(f"/v1/complaints/{cid}", headers=world["FTAMR"]).json()
        assert view["contact"] == CONTACT
        assert view["trail"][-1] | {"at": None} == {"action": "transferred", "department": "SZAMR",
                                                    "to_department": "FTAMR", "reason": "被投诉门店位于福田区", "at": None}
        assert status(client, ticket).json()["department"] == "FTAMR"
        # The change feed: the complaint's events are the handling department's alone.
        feed = {name: [e["type"] for e in client.get("/v1/events", headers=world[name])
                       .json()["data"] if e["type"].startswith("complaint.")] for name in ("SZAMR", "FTAMR")}
        assert feed == {"SZAMR": [], "FTAMR": ["complaint.filed", "complaint.transferred"]}
        assert act(client, world["FTAMR"], cid, "accept").status_code == 200

    def test_the_list_filters_and_pages(self, client, world, clock) -> None:
        szamr = world["SZAMR"]
        tickets = [filed(client, about(contact=f"filer {n}"))["ticket"] for n in range(5)]
        assert act(client, szamr, tickets[0], "accept").status_code == 200
        pages, cursor = [], None
        while True:
            page = client.get("/v1/complaints", headers=szamr, params={"limit": 2} | ({"cursor": cursor} if cursor else {}))
            assert page.status_code == 200, page.text
            page = page.json()
            pages.append([c["id"] for c in page["items"]])
            if not (cursor := page["next_cursor"]):
                break
        assert [cid for p in pages for cid in p] == tickets and len(pages) == 3
        accepted = client.get("/v1/complaints", headers=szamr, params={"status": "accepted"}).json()["items"]
        assert [c["id"] for c in accepted] == tickets[:1]
        assert client.get("/v1/complaints", headers=szamr, params={"status": "pending"}).status_code == 422
        assert client.get("/v1/complaints", headers=szamr, params={"overdue": "true"}).json()["items"] == []
        clock.advance(days=8)
        overdue = client.get("/v1/complaints", headers=szamr, params={"overdue": "true"}).json()["items"]
        assert [c["id"] for c in overdue] == tickets[1:] and all(c["overdue"] for c in overdue)


class TestOverdueMetric:
    def test_overdue_complaints_by_department_and_stage(self, client, world, clock) -> None:
        late = filed(client, about())["ticket"]
        accepted = filed(client, about(FUTIAN))["ticket"]
        filed(client, product())  # the administrators' queue
        assert act(client, world["FTAMR"], accepted, "accept").status_code == 200
        assert "registry_complaints_overdue{" not in client.get("/metrics").text
        clock.advance(days=8)
        text = client.get("/metrics").text
        assert 'registry_complaints_overdue{department="SZAMR",stage="acceptance"} 1' in text
        assert 'registry_complaints_overdue{department="administrators",stage="acceptance"} 1' in text
        assert 'department="FTAMR"' not in text  # accepted: due in 60 days
        assert act(client, world["SZAMR"], late, "reject", {"reason": "证据不足"}).status_code == 200
        clock.advance(days=60)
        text = client.get("/metrics").text
        assert 'registry_complaints_overdue{department="FTAMR",stage="resolution"} 1' in text
        assert 'department="SZAMR"' not in text


class TestFloods:
    def test_one_open_complaint_per_contact_and_subject(self, client, world, db) -> None:
        first = filed(client, about())
        for same in ("张先生 13912345678", " 张先生  １３９１２３４５６７８ ", "张先生：139-1234-5678"):
            again = file(client, about(contact=same, category="service"))
            assert again.status_code == 409, same
            assert "existing_id" not in again.json() and first["ticket"] not in again.text
            assert again.json()["title"] == "Complaint already open"
        assert file(client, about(contact="李女士 13700000000")).status_code == 201  # another filer
        assert file(client, about(FUTIAN)).status_code == 201  # another organization
        assert file(client, product()).status_code == 201
        assert file(client, product(brand="美好 牌".replace(" ", ""))).status_code == 409  # the same product
        assert file(client, product(brand="另一品牌")).status_code == 201
        assert count(db) == 5
        assert act(client, world["SZAMR"], first["ticket"], "reject", {"reason": "不予受理"}).status_code == 200
        assert file(client, about()).status_code == 201  # decided: the filer may complain again

    def test_a_filer_racing_their_own_open_complaint_gets_the_409_not_a_500(self, client, world, db,
                                                                             monkeypatch) -> None:
        """Two filings at once both pass the look for an open one; the unique open key stops the
        second, answered as the look would have."""
        first = filed(client, about())
        looks = []
        real = ComplaintRepository.open_with_key

        def missed_once(self, key):  # the first look happens before the other filing committed
            looks.append(key)
            return None if len(looks) == 1 else real(self, key)

        monkeypatch.setattr(ComplaintRepository, "open_with_key", missed_once)
        raced = file(client, about())
        assert raced.status_code == 409 and first["ticket"] not in raced.text, raced.text
        assert len(looks) == 2 and count(db) == 1

    def test_the_public_rate_limit_holds_complaints_back(self, settings, db, clock, world) -> None:
        app = create_app(settings.model_copy(update={"public_rate_per_minute": 1, "public_rate_burst": 3}), clock=clock)
        with TestClient(app) as limited:
            answers = [file(limited, about(contact=f"filer {n}")).status_code for n in range(5)]
            assert answers == [201] * 3 + [429] * 2
            assert limited.get("/complaints/new").status_code == 429
        assert count(db) == 3

    def test_filings_have_a_budget_of_their_own_far_below_the_reads(self, settings, db, clock, world) -> None:
        # The defaults: five at once, then one every ten seconds; reading goes on meanwhile.
        defaults = Settings.model_fields
        app = create_app(settings.model_copy(update={
            "public_filing_per_minute": defaults["public_filing_per_minute"].default,
            "public_filing_burst": defaults["public_filing_burst"].default}), clock=clock)
        with TestClient(app) as limited:
            answers = [file(limited, about(contact=f"filer {n}")).status_code for n in range(7)]
            assert answers == [201] * 5 + [429] * 2
            refused = file(limited, about(contact="filer 8"))
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert int(refused.headers["retry-after"]) >= 1
            form = limited.post("/complaints/new", data={"subject": "organization", "organization": HUAWEI})
            assert form.status_code == 429
            assert limited.get("/v1/public/statistics").status_code == 200  # reads are not held back
            assert limited.get(f"/v1/public/organizations/{HUAWEI}").status_code == 200
        assert count(db) == 5


class TestBadInput:
    @pytest.mark.parametrize(("body", "code"), [
        (about(f.new_uscc("440300")), 404),  # valid, never registered
        (about("91440300MA5FXXXX0X"), 422),  # does not parse
        (product(producer="123"), 422),
        (about(description=""), 422),
        (about(description="太短"), 422),
        (about(description="很" * 4001), 422),
        (about(evidence_urls=["ftp://example.org/x.jpg"]), 422),
        (about(evidence_urls=["javascript:alert(1)"]), 422),
        (about(evidence_urls=["not a url"]), 422),
        (about(evidence_urls=[f"https://example.org/{n}.jpg" for n in range(11)]), 422),
        (about(evidence_urls=["https://example.org/" + "x" * 500]), 422),
        (about(category="bad_mood"), 422),
        (about(contact="x"), 422),
        (about(contact="张" * 201), 422),
        (about(organization=None), 422),
        (about(product_name="电热水壶"), 422),  # an organization complaint names no product
        (product(organization=HUAWEI), 422),
        (product(product_name=None), 422),
        (about(description="有控制字符\x00的描述内容"), 422),
        (about(extra="field"), 422),
    ])
    def test_refused_with_a_problem_and_nothing_written(self, client, world, db, body, code) -> None:
        body = {k: v for k, v in body.items() if v is not None}
        before = count(db, Event)
        answer = file(client, body)
        assert answer.status_code == code, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert count(db) == 0 and count(db, Event) == before

    def test_a_status_read_needs_the_right_secret(self, client, world) -> None:
        ticket = filed(client, about())
        wrong = client.get(f"/v1/public/complaints/{ticket['ticket']}", headers={"Ticket-Secret": "x" * 43})
        unknown = client.get("/v1/public/complaints/cmp_01JD2X3Y4Z5A6B7C8D9E0F1G2H",
                             headers={"Ticket-Secret": ticket["secret"]})
        assert wrong.status_code == unknown.status_code == 404
        assert wrong.json()["title"] == unknown.json()["title"] == "Complaint not found"
        assert client.get(f"/v1/public/complaints/{ticket['ticket']}").status_code == 422  # no secret at all
        assert client.get("/v1/public/complaints/obj_01JD2X3Y4Z5A6B7C8D9E0F1G2H",
                          headers={"Ticket-Secret": ticket["secret"]}).status_code == 422


_MOBILE = st.sampled_from([f.mobile(n) for n in range(4)])
_ID = st.sampled_from([f.resident_id(n) for n in range(4)])


class TestPrivacy:
    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(mobile=_MOBILE, id_number=_ID, anonymous=st.booleans(),
           words=st.text(alphabet="投诉产品质量假冒问题", min_size=3, max_size=20))
    def test_personal_data_never_leaves_through_public_answers_events_or_others(
            self, client, world, db, mobile, id_number, anonymous, words) -> None:
        contact = f"王女士 {mobile} 身份证{id_number}"
        description = f"{words}，联系电话{mobile}，身份证号{id_number}，请尽快处理。"
        ticket = filed(client, about(FUTIAN, contact=f"{contact} {words}", description=description,
                                     anonymous=anonymous, category="false_labelling"))
        cid, ftamr = ticket["ticket"], world["FTAMR"]
        assert act(client, ftamr, cid, "accept", {"note": f"联系{mobile}核实"}).status_code == 200
        assert act(client, ftamr, cid, "close", {"result": f"已联系投诉人{mobile}，身份证{id_number}，已退款"}).status_code \
            == 200
        public = status(client, ticket)
        assert public.status_code == 200
        assert find_personal_data(public.text) == [] and mobile not in public.text, public.text
        assert "投诉人" in public.json()["answer"]  # the answer is shown, masked
        # The handling department reads it all; nobody else reads anything.
        assert mobile in client.get(f"/v1/complaints/{cid}", headers=ftamr).text
        for other in ("SZAMR", "GDAMR"):
            assert client.get(f"/v1/complaints/{cid}", headers=world[other]).status_code == 404
            assert mobile not in client.get("/v1/complaints", headers=world[other]).text
        assert mobile not in client.get("/v1/admin/complaints", headers=world["admin"]).text
        assert mobile not in client.get(f"/v1/public/organizations/{FUTIAN}").text
        for envelope in events(db):
            text = json.dumps(envelope, ensure_ascii=False)
            assert find_personal_data(text) == [] and mobile not in text and "王女士" not in text
        audit = client.get("/v1/admin/audit", headers=world["admin"])
        assert audit.status_code == 200 and mobile not in audit.text


def test_the_overdue_counts_read_only_the_late_complaints(db) -> None:
    """/metrics asks on every scrape; decided complaints are kept for ever and must not be read."""
    from db.repositories import complaints as queries

    if not db.is_sqlite:
        pytest.skip("the plan asserted is SQLite's")
    with db.reader.connect() as conn:
        plans = {stage: " | ".join(row[-1] for row in conn.exec_driver_sql(
                     "EXPLAIN QUERY PLAN " + str(statement.compile(conn, compile_kwargs={"literal_binds": True}))))
                 for stage, statement in queries.overdue_statements(FIXED_NOW.date())}
    assert "USING INDEX ix_complaint_status_accept_by (status=? AND accept_by<?)" in plans["acceptance"], plans
    assert "USING INDEX ix_complaint_status_resolve_by (status=? AND resolve_by<?)" in plans["resolution"], plans
