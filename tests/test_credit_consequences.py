"""Credit that counts (issue 18, items 1-6): grade schemes administered and versioned, supervision
classes, the measures catalogue, the credit check with consequences, the bulk check for bidding
and procurement systems, and measures applied reported back. Through HTTP, on both databases."""

import csv
import io
from datetime import date

import pytest
from sqlmodel import select

from db.tables import AuditEntry
from service.rules import reference
from tests import factories as f
from tests.masking import find_personal_data

HUAWEI = f.HUAWEI
OTHER = f.new_uscc()  # valid, never registered here
CHECK = f"/v1/organizations/{HUAWEI}/credit-check"


def _scheme(code="test-scheme", effective_from="2026-01-01", grades=None):
    return {"code": code, "effective_from": effective_from, "name_zh": "测试等级", "name_en": "Test grades",
            "basis": "测试依据",
            "grades": grades or [
                {"code": "A", "label_zh": "好", "label_en": "Good", "min_score": 80, "max_score": 100,
                 "supervision_class": "A"},
                {"code": "B", "label_zh": "中", "label_en": "Fair", "min_score": 60, "max_score": 79.99,
                 "supervision_class": "B"},
                {"code": "C", "label_zh": "差", "label_en": "Poor", "min_score": 0, "max_score": 59.99,
                 "supervision_class": "D"}],
            "classes": {c: {"inspections_per_year": n} for c, n in (("A", 0.5), ("B", 1), ("C", 2), ("D", 4))}}


@pytest.fixture
def registered(client, parties):
    response = client.put(f"/v1/organizations/{HUAWEI}", headers=parties["a"].headers,
                          json={"name": "华为技术有限公司", "legal_representative": "徐直军", "address": "深圳市龙岗区"})
    assert response.status_code == 201, response.text


def rate(client, party, **overrides):
    body = f.rating(**overrides).model_dump(mode="json", exclude_none=True)
    return client.post(f"/v1/organizations/{HUAWEI}/ratings", headers=party.headers, json=body)


def list_entry(client, party, list_name="black", **overrides):
    body = f.list_entry(list_name, **overrides).model_dump(mode="json", exclude_none=True) | {"code": HUAWEI}
    response = client.post("/v1/list-entries", headers=party.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def check(client, party, **params):
    response = client.get(CHECK, headers=party.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


class TestGradeSchemes:
    def test_shipped_schemes_and_a_new_one(self, client, parties) -> None:
        admin = parties["admin"].headers
        shipped = client.get("/v1/admin/grade-schemes", headers=admin).json()
        assert client.get("/v1/public/grade-schemes").json() == shipped  # public, like the lists
        assert {(s["code"], s["version"]) for s in shipped} == {("default", 1), ("hebei-manufacturing", 1)}
        hebei = next(s for s in shipped if s["code"] == "hebei-manufacturing")["definition"]
        assert [g["code"] for g in hebei["grades"]] == ["AAA", "AA", "A", "B", "C", "D"]
        created = client.post("/v1/admin/grade-schemes", headers=admin, json=_scheme())
        assert created.status_code == 201, created.text
        assert (created.json()["version"], created.json()["definition"]["grades"][2]["supervision_class"]) == (1, "D")
        assert client.post("/v1/admin/grade-schemes", headers=parties["a"].headers, json=_scheme("x")).status_code \
            == 403

    @pytest.mark.parametrize(("change", "words"), [
        ({"grades": [{"code": "A", "label_zh": "好", "label_en": "Good", "min_score": 70, "max_score": 100,
                      "supervision_class": "A"},
                     {"code": "B", "label_zh": "中", "label_en": "Fair", "min_score": 60, "max_score": 75,
                      "supervision_class": "B"}]}, "overlap"),
        ({"grades": [{"code": "A", "label_zh": "好", "label_en": "Good", "supervision_class": "A"},
                     {"code": "A", "label_zh": "好", "label_en": "Good", "supervision_class": "B"}]}, "repeat"),
        ({"grades": [{"code": "A", "label_zh": "好", "label_en": "Good", "supervision_class": "E"}]}, "supervision_class"),
        ({"classes": {"A": {"inspections_per_year": 1}}}, "each class"),
        ({"grades": [{"code": "A", "label_zh": "好", "label_en": "Good", "supervision_class": "D"},
                     {"code": "B", "label_zh": "中", "label_en": "Fair", "supervision_class": "A"}]}, "worse grade"),
    ])
    def test_bad_schemes_are_refused_and_nothing_is_written(self, client, parties, change, words) -> None:
        admin = parties["admin"].headers
        before = client.get("/v1/admin/grade-schemes", headers=admin).json()
        response = client.post("/v1/admin/grade-schemes", headers=admin, json=_scheme() | change)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert words in response.text
        assert client.get("/v1/admin/grade-schemes", headers=admin).json() == before

    def test_ratings_are_validated_against_the_version_in_force_on_their_date(
            self, client, parties, registered, clock) -> None:
        admin, a = parties["admin"].headers, parties["a"]
        assert client.post("/v1/admin/grade-schemes", headers=admin, json=_scheme()).status_code == 201
        # Version 2 from 2026-07-01: grade C is gone, B is now watched (class C).
        v2 = _scheme(effective_from="2026-07-01", grades=[
            {"code": "A", "label_zh": "好", "label_en": "Good", "supervision_class": "A"},
            {"code": "B", "label_zh": "中", "label_en": "Fair", "supervision_class": "C"}])
        assert client.post("/v1/admin/grade-schemes", headers=admin, json=v2).status_code == 201
        early = client.post("/v1/admin/grade-schemes", headers=admin, json=v2 | {"effective_from": "2026-06-20"})
        assert early.status_code == 422 and "after it" in early.json()["detail"]

        assert rate(client, a, scheme="test-scheme", grade="B", score="70", evaluated_on="2026-06-15").status_code \
            == 201
        assert check(client, a)["supervision_class"]["code"] == "B"  # v1 maps B to ordinary
        outside = rate(client, a, scheme="test-scheme", grade="A", score="70", evaluated_on="2026-06-15")
        assert outside.status_code == 422 and outside.json()["errors"][0]["loc"][-1] == "score"
        unknown = rate(client, a, scheme="nope", grade="A", evaluated_on="2026-06-15")
        assert unknown.status_code == 422 and "unknown grade scheme" in unknown.json()["detail"]

        clock.advance(days=20)  # 2026-07-05: version 2 in force
        gone = rate(client, a, scheme="test-scheme", grade="C", score=None, evaluated_on="2026-07-02")
        assert gone.status_code == 422 and "version 2" in gone.json()["detail"]
        # The June rating keeps version 1 (class B), even now that version 2 calls B "watched".
        kept = check(client, a)
        assert (kept["grade_detail"]["scheme_version"], kept["supervision_class"]["code"]) == (1, "B")
        assert rate(client, a, scheme="test-scheme", grade="B", score=None, evaluated_on="2026-07-02").status_code \
            == 201
        now = check(client, a)
        assert (now["grade_detail"]["scheme_version"], now["supervision_class"]["code"]) == (2, "C")
        assert check(client, a, as_of="2026-06-30")["supervision_class"]["code"] == "B"


class TestSupervisionClasses:
    def test_classes_follow_grades_and_lists_as_of_any_date(self, client, parties, registered, clock) -> None:
        a = parties["a"]
        unrated = check(client, a)["supervision_class"]
        assert (unrated["code"], unrated["reason"], unrated["record_id"]) == ("B", "unrated", None)
        rating = rate(client, a, grade="C", score=None, evaluated_on="2026-06-01").json()
        graded = check(client, a)["supervision_class"]
        assert (graded["code"], graded["reason"], graded["record_id"]) == ("C", "grade", rating["id"])
        assert graded["inspections_per_year"] == 2.0
        clock.advance(days=5)
        black = list_entry(client, a, effective_on="2026-06-18")
        clock.advance(days=5)  # 2026-06-25
        strict = check(client, a)["supervision_class"]
        assert (strict["code"], strict["reason"], strict["record_id"]) == ("D", "black_list", black["id"])
        view = client.get(f"/v1/organizations/{HUAWEI}", headers=a.headers).json()
        assert view["supervision_class"] == strict  # shown in the department view too
        assert check(client, a, as_of="2026-06-16")["supervision_class"]["code"] == "C"
        assert check(client, a, as_of="2026-05-01")["supervision_class"]["code"] == "B"

        feed = client.get("/v1/events", headers=a.headers, params={"limit": 100}).json()["data"]
        changes = [(e["data"]["previous_class"], e["data"]["supervision_class"], e["data"]["reason"])
                   for e in feed if e["type"] == "organization.supervision_changed"]
        assert changes == [("B", "C", "grade"), ("C", "D", "black_list")]

    def test_a_red_entry_lifts_an_ordinary_grade_but_not_a_poor_one(self, client, parties, registered) -> None:
        a = parties["a"]
        rate(client, a, grade="B", score=None, evaluated_on="2026-06-01")
        list_entry(client, a, "red", effective_on="2026-06-10")
        assert check(client, a)["supervision_class"]["code"] == "A"
        rate(client, a, grade="D", score=None, evaluated_on="2026-06-12")
        assert check(client, a)["supervision_class"]["code"] == "D"

    def test_the_unrated_class_comes_from_the_rule_set(self, client, parties, registered, clock) -> None:
        changed = client.post("/v1/admin/rule-sets", headers=parties["admin"].headers,
                              json={"effective_from": "2026-06-20", "changes": {"unrated_supervision_class": "C"}})
        assert changed.status_code == 201, changed.text
        assert check(client, parties["a"])["supervision_class"]["code"] == "B"
        clock.advance(days=6)
        assert check(client, parties["a"])["supervision_class"]["code"] == "C"


class TestMeasures:
    def test_a_black_listing_brings_its_punishments_with_trigger_basis_and_end(
            self, client, parties, registered) -> None:
        a, b = parties["a"], parties["b"]
        rate(client, a, grade="AA", score=None, evaluated_on="2026-06-01")
        before = {m["code"] for m in check(client, a)["measures"]}
        assert "quality_award_priority" in before and "fewer_inspections" in before
        black = list_entry(client, a, effective_on="2026-05-10")
        measures = check(client, a)["measures"]
        by_code = {m["code"]: m for m in measures}
        procurement = by_code["procurement_restriction"]
        assert procurement["trigger"] == {"kind": "black_list", "record_id": black["id"], "record_version": 1}
        assert procurement["ends_on"] == "2029-05-10" and "政府采购法" in procurement["legal_basis"]
        assert by_code["honours_restriction"]["ends_on"] == black["details"]["expires_on"]
        assert not any(m["direction"] == "incentive" for m in measures)  # no reward while black listed
        # A tax office sees the measures tax offices apply first.
        assert check(client, b)["measures"][0]["code"] == "tax_credit_downgrade"
        assert check(client, a)["measures"][0]["applied_by"].count("market_regulation") == 1

    def test_answers_as_of_follow_the_catalogue_in_force(self, client, parties, registered, clock) -> None:
        a, admin = parties["a"], parties["admin"].headers
        list_entry(client, a, effective_on="2026-05-10")
        catalogue = client.get("/v1/admin/measures", headers=admin).json()
        assert [c["version"] for c in catalogue] == [1]
        kept = [m for m in catalogue[0]["measures"] if m["code"] != "honours_restriction"]
        published = client.post("/v1/admin/measures", headers=admin,
                                json={"effective_from": "2026-06-20", "measures": kept})
        assert published.status_code == 201, published.text
        assert "honours_restriction" in {m["code"] for m in check(client, a)["measures"]}
        clock.advance(days=10)  # 2026-06-25: version 2
        now = check(client, a)["measures"]
        assert "honours_restriction" not in {m["code"] for m in now} and now[0]["catalogue_version"] == 2
        then = check(client, a, as_of="2026-06-16")["measures"]
        assert "honours_restriction" in {m["code"] for m in then} and then[0]["catalogue_version"] == 1
        # Anyone can read the catalogue in force on a day.
        assert client.get("/v1/public/measures").json()["version"] == 2
        assert client.get("/v1/public/measures", params={"as_of": "2026-06-16"}).json()["version"] == 1

    @pytest.mark.parametrize(("measure", "words"), [
        ({"trigger": {"kind": "bankruptcy"}}, "trigger"),
        ({"trigger": {"kind": "grade", "scheme": "default", "grades": ["AAAA"]}}, "AAAA"),
        ({"trigger": {"kind": "grade", "scheme": "nope", "grades": ["A"]}}, "unknown scheme"),
        ({"trigger": {"kind": "serious_violation"}}, "within_years"),
        ({"applied_by": ["police"]}, "applied_by"),
        ({"duration": {"kind": "years_after"}}, "years"),
    ])
    def test_bad_catalogues_are_refused_and_nothing_is_written(self, client, parties, measure, words) -> None:
        admin = parties["admin"].headers
        good = {"code": "x", "name_zh": "措施", "name_en": "Measure", "direction": "punishment",
                "trigger": {"kind": "black_list"}, "applied_by": ["finance"], "legal_basis": "依据",
                "duration": {"kind": "while_triggered"}}
        response = client.post("/v1/admin/measures", headers=admin,
                               json={"effective_from": "2026-06-20", "measures": [good | measure]})
        assert response.status_code == 422, response.text
        assert words in response.text
        assert [c["version"] for c in client.get("/v1/admin/measures", headers=admin).json()] == [1]


class TestBulkCheck:
    @pytest.fixture
    def checker(self, client_for, unit_of_work, clock):
        with unit_of_work() as session:
            reference.add_department(session, code="GDGGZY", name="广东省公共资源交易中心", kind="public_resources",
                                     region_code="440000", now=clock.now())
        return client_for("GDGGZY", "credit:check")

    def test_one_result_per_code_in_order_errors_of_their_own(
            self, client, parties, registered, checker, unit_of_work) -> None:
        list_entry(client, parties["a"], effective_on="2026-05-10")
        codes = [HUAWEI, "91440300MA5ABCDE0X", OTHER, " 9144 0300 1922 0382 16 ", "192203821"]
        response = client.post("/v1/credit-checks", headers=checker,
                               json={"codes": codes, "purpose": "招标 ZB-2026-0815 资格审查"})
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert [r["input"] for r in results] == codes
        assert results[0]["check"]["black_listed"] is True
        assert results[0]["check"]["supervision_class"]["code"] == "D"
        # The procurement platform's own kind of measure comes first.
        assert "public_resources" in results[0]["check"]["measures"][0]["applied_by"]
        assert results[1]["error"]["status"] == 422 and results[1]["check"] is None
        assert results[2]["error"]["status"] == 404
        assert results[3]["check"]["code"] == HUAWEI and results[4]["check"]["code"] == HUAWEI  # any typed form
        assert (response.json()["found"], response.json()["errors"]) == (3, 2)
        with unit_of_work() as session:
            entry = session.exec(select(AuditEntry).where(AuditEntry.action == "bulk_credit_check")).one()
        assert entry.detail == "purpose: 招标 ZB-2026-0815 资格审查; 5 codes"

    def test_a_checking_system_sees_the_check_and_never_records(self, client, parties, registered, checker) -> None:
        rating = rate(client, parties["a"], grade="AA", score=None, evaluated_on="2026-06-01").json()
        assert check(client, type("P", (), {"headers": checker})())["grade"] == "AA"
        assert client.get(f"/v1/organizations/{HUAWEI}", headers=checker).status_code == 403
        assert client.get(f"/v1/records/{rating['id']}", headers=checker).status_code == 403
        assert client.get("/v1/events", headers=checker).status_code == 403

    def test_a_restricted_record_does_not_reach_a_checking_system(self, client, parties, registered,
                                                                   checker) -> None:
        body = f.list_entry("black").model_dump(mode="json", exclude_none=True) | {
            "code": HUAWEI, "visibility": "restricted", "shared_with": ["SZTAX"]}
        assert client.post("/v1/list-entries", headers=parties["a"].headers, json=body).status_code == 201
        assert check(client, parties["b"])["black_listed"] is True
        public = client.post("/v1/credit-checks", headers=checker, json={"codes": [HUAWEI], "purpose": "贷款审批"})
        assert public.json()["results"][0]["check"]["black_listed"] is False

    def test_a_past_date_shows_a_checking_system_nothing_the_public_no_longer_sees(
            self, client, parties, registered, checker, clock) -> None:
        a = parties["a"].headers
        body = f.violation(decided_on=date(2026, 6, 1)).model_dump(mode="json", exclude_none=True)
        violation = client.post(f"/v1/organizations/{HUAWEI}/violations", headers=a, json=body).json()
        clock.advance(days=5)
        client.post(f"/v1/records/{violation['id']}/withdrawal", headers=a, json={"reason": "复议撤销"})
        then = {"as_of": "2026-06-16"}
        assert check(client, parties["a"], **then)["active_violations"] == 1  # the department's history
        seen = client.get(CHECK, headers=checker, params=then).json()
        assert seen["active_violations"] == 0  # annulled: off public display for good, on any date

    def test_csv_in_and_out(self, client, parties, registered, checker) -> None:
        body = "\ufeff统一社会信用代码,名称\n" + f"{HUAWEI},华为\nnot-a-code,x\n"
        response = client.post("/v1/credit-checks", headers=checker | {"Content-Type": "text/csv",
                                                                          "Accept": "text/csv"},
                               params={"purpose": "政府采购", "as_of": "2026-06-10"}, content=body.encode())
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text.removeprefix("\ufeff"))))
        assert [(r["input"], r["code"], r["as_of"], r["supervision_class"]) for r in rows] == \
            [(HUAWEI, HUAWEI, "2026-06-10", "B"), ("not-a-code", "", "", "")]
        assert rows[1]["error_status"] == "422"

    @pytest.mark.parametrize(("body", "words"), [
        ({"codes": [HUAWEI] * 1001, "purpose": "x"}, "1000"),
        ({"codes": [], "purpose": "x"}, "at least 1"),
        ({"codes": [HUAWEI]}, "purpose"),
        ({"codes": [HUAWEI], "purpose": "x", "as_of": "2026-13-01"}, "as_of"),
    ])
    def test_bad_requests_are_refused(self, client, parties, checker, body, words) -> None:
        response = client.post("/v1/credit-checks", headers=checker, json=body)
        assert response.status_code == 422, response.text
        assert words in response.text and response.headers["content-type"].startswith("application/problem+json")

    @pytest.mark.parametrize(("content_type", "raw"), [
        ("application/json", b"\x80\x81"), ("application/json", b"{\"codes\": "), ("text/csv", b"\xff\xfe\x00"),
        ("text/csv; charset=gb18030", b"\x81"), ("application/json", b"[" * 100_000),
        ("text/csv", b"code\n\"" + b"9" * 200_000 + b"\"\n"),
    ])
    def test_bodies_that_are_not_text_are_refused(self, client, checker, content_type, raw) -> None:
        response = client.post("/v1/credit-checks", headers=checker | {"Content-Type": content_type},
                               params={"purpose": "x"}, content=raw)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")

    def test_a_client_without_either_scope_is_refused(self, client, parties) -> None:
        response = client.post("/v1/credit-checks", headers=parties["hooks"].headers,
                               json={"codes": [HUAWEI], "purpose": "x"})
        assert response.status_code == 403 and "credit:check" in response.text


class TestMeasuresApplied:
    @pytest.fixture
    def finance(self, client_for, unit_of_work, clock):
        with unit_of_work() as session:
            reference.add_department(session, code="SZCZ", name="深圳市财政局", kind="finance", region_code="440300",
                                     now=clock.now())
        return client_for("SZCZ", "records:read", "records:write")

    def test_the_deciding_department_learns_of_the_measure(self, client, parties, registered, finance,
                                                          app) -> None:
        a, b = parties["a"], parties["b"]
        black = list_entry(client, a, effective_on="2026-05-10")
        body = {"measure": "procurement_restriction", "decision_no": "深财采〔2026〕7号", "decided_on": "2026-06-15",
                "trigger_record_id": black["id"]}
        reported = client.post(f"/v1/organizations/{HUAWEI}/measures", headers=finance, json=body)
        assert reported.status_code == 201, reported.text
        assert (reported.json()["department"], reported.json()["catalogue_version"]) == ("SZCZ", 1)
        assert [m["id"] for m in client.get(f"/v1/organizations/{HUAWEI}/measures", headers=a.headers).json()] == \
            [reported.json()["id"]]
        assert client.get(f"/v1/organizations/{HUAWEI}/measures", headers=b.headers).json() == []
        events_a = [e["type"] for e in client.get("/v1/events", headers=a.headers, params={"limit": 100}).json()["data"]]
        events_b = [e["type"] for e in client.get("/v1/events", headers=b.headers, params={"limit": 100}).json()["data"]]
        assert "measure.applied" in events_a and "measure.applied" not in events_b
        again = client.post(f"/v1/organizations/{HUAWEI}/measures", headers=finance, json=body)
        assert again.status_code == 409
        metrics = client.get("/metrics").text
        assert 'registry_measures_applied{measure="procurement_restriction",department="SZCZ"} 1' in metrics
        stats = client.get("/v1/public/statistics/measures-applied").json()
        assert stats == [{"measure": "procurement_restriction", "department": "SZCZ", "count": 1}]

    def test_reports_that_cannot_be_true_are_refused(self, client, parties, registered, finance) -> None:
        a = parties["a"]
        rating = rate(client, a, grade="AA", score=None, evaluated_on="2026-06-01").json()
        body = {"measure": "procurement_restriction", "decision_no": "深财采〔2026〕8号", "decided_on": "2026-06-15",
                "trigger_record_id": rating["id"]}
        not_listed = client.post(f"/v1/organizations/{HUAWEI}/measures", headers=finance, json=body)
        assert not_listed.status_code == 422 and "did not apply" in not_listed.json()["detail"]
        black = list_entry(client, a, effective_on="2026-05-10")
        wrong_kind = client.post(f"/v1/organizations/{HUAWEI}/measures", headers=a.headers,
                                 json=body | {"trigger_record_id": black["id"]})
        assert wrong_kind.status_code == 422 and "finance" in wrong_kind.json()["detail"]
        future = client.post(f"/v1/organizations/{HUAWEI}/measures", headers=finance,
                             json=body | {"trigger_record_id": black["id"], "decided_on": "2026-07-01"})
        assert future.status_code == 422
        unknown = client.post(f"/v1/organizations/{HUAWEI}/measures", headers=finance,
                              json=body | {"measure": "exile", "trigger_record_id": black["id"]})
        assert unknown.status_code == 422
        # The measure applies (the black entry), but the rating named cannot have triggered it: the
        # feedback would reach the wrong department.
        wrong_trigger = client.post(f"/v1/organizations/{HUAWEI}/measures", headers=finance, json=body)
        assert wrong_trigger.status_code == 422 and black["id"] in wrong_trigger.json()["detail"]
        assert client.get(f"/v1/organizations/{HUAWEI}/measures", headers=finance).json() == []


class TestNoPersonalDataLeaves:
    def test_a_checking_system_never_sees_personal_data_a_department_typed(
            self, client, parties, client_for, unit_of_work, clock) -> None:
        with unit_of_work() as session:
            reference.add_department(session, code="GDGGZY", name="交易中心", kind="public_resources",
                                     region_code="440000", now=clock.now())
        checker = client_for("GDGGZY", "credit:check")
        a = parties["a"].headers
        registered = client.put(f"/v1/organizations/{HUAWEI}", headers=a,
                                json=f.organization(hostile=True).model_dump(mode="json", exclude_none=True))
        assert registered.status_code == 201, registered.text
        assert find_personal_data(registered.text)  # the input really carries personal data
        for body in (f.rating(hostile=True, score=None), f.list_entry("black", hostile=True)):
            path = f"/v1/organizations/{HUAWEI}/ratings" if body.__class__.__name__ == "RatingFields" \
                else "/v1/list-entries"
            extra = {} if "ratings" in path else {"code": HUAWEI}
            assert client.post(path, headers=a, json=body.model_dump(mode="json", exclude_none=True) | extra) \
                .status_code == 201
        answers = [
            client.get(CHECK, headers=checker),
            client.post("/v1/credit-checks", headers=checker, json={"codes": [HUAWEI], "purpose": "投标"}),
            client.post("/v1/credit-checks", headers=checker | {"Content-Type": "text/csv", "Accept": "text/csv"},
                        params={"purpose": "投标"}, content=HUAWEI.encode()),
        ]
        for answer in answers:
            assert answer.status_code == 200, answer.text
            assert HUAWEI in answer.text and find_personal_data(answer.text) == [], answer.text
