"""Statistics (issue 19 item 3): counts kept current by every write that changes what the public
sees, read as tables (JSON and CSV), drawn as SVG on the statistics page, the home page's key
figures. Through HTTP, on both databases; after every scenario the counts the writes kept equal a
recount from the rows (``service.statistics.recount``)."""

import csv
import io
import itertools
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from db.session import transaction
from service.rules import lifecycle, reference
from service.statistics import recount
from tests import factories as f

HUAWEI = f.HUAWEI
_serial = itertools.count(1)


def register(client, party, code=HUAWEI, name="华为技术有限公司", **extra):
    response = client.put(f"/v1/organizations/{code}", headers=party.headers, json={"name": name, **extra})
    assert response.status_code in (200, 201), response.text
    return code


def post(client, party, path, fields, **extra):
    posted = fields.model_dump(mode="json", exclude_none=True)
    response = client.post(path, headers=party.headers, json=posted | extra)
    assert response.status_code == 201, response.text
    return response.json() | {"posted": posted}


def violation(client, party, code=HUAWEI, visibility="public", **overrides):
    return post(client, party, f"/v1/organizations/{code}/violations", f.violation(**overrides), visibility=visibility)


def rating(client, party, code=HUAWEI, **overrides):
    return post(client, party, f"/v1/organizations/{code}/ratings", f.rating(**overrides))


def inspection(client, party, code=HUAWEI, result="fail", **overrides):
    return post(client, party, f"/v1/organizations/{code}/inspections", f.inspection(result, **overrides))


def list_entry(client, party, list_name="black", code=HUAWEI, **overrides):
    return post(client, party, "/v1/list-entries", f.list_entry(list_name, **overrides), code=code)


def correct(client, party, record, **fields):
    body = {"reason": "更正", "fields": record["posted"] | fields}
    response = client.post(f"/v1/records/{record['id']}/corrections", headers=party.headers, json=body)
    assert response.status_code == 200, response.text


def withdraw(client, party, record):
    response = client.post(f"/v1/records/{record['id']}/withdrawal", headers=party.headers, json={"reason": "撤销"})
    assert response.status_code == 200, response.text


def table(client, name, **params):
    response = client.get(f"/v1/public/statistics/{name}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def counts(client, name, **params):
    return {row["key"]: row["count"] for row in table(client, name, **params)["rows"]}


def assert_recounted(db):
    """What the writes kept equals what the rows say now."""
    with transaction(db) as session:
        conn = session.connection()
        assert recount.kept(conn) == recount.recount(conn)


class TestTheList:
    def test_every_statistic_with_caching_headers(self, client) -> None:
        response = client.get("/v1/public/statistics")
        assert response.status_code == 200
        assert [s["name"] for s in response.json()] == ["organizations", "red-and-black", "ratings",
                                                        "supervision-classes", "violations", "inspections",
                                                        "measures"]
        assert response.headers["cache-control"].startswith("public") and response.headers["etag"]
        one = client.get("/v1/public/statistics/organizations")
        assert one.headers["cache-control"].startswith("public") and "Accept" in one.headers["vary"]


class TestCountsFollowTheWrites:
    def test_publish_correct_withdraw(self, client, parties, db) -> None:
        register(client, parties["a"])
        assert counts(client, "organizations") == {"operating": 1}
        record = violation(client, parties["a"], category="虚假标注", severity="general")
        assert counts(client, "violations") == {"虚假标注/general": 1}
        correct(client, parties["a"], record, category="以次充好", severity="serious")
        assert counts(client, "violations") == {"以次充好/serious": 1}
        assert_recounted(db)
        withdraw(client, parties["a"], record)
        assert counts(client, "violations") == {}
        assert_recounted(db)

    def test_a_longest_category_whose_masked_text_grew_is_counted_as_the_public_sees_it(
            self, client, parties, db) -> None:
        # A department may type 200 characters; masking an e-mail address in them makes the public
        # text longer than that, and the count's key holds the public text.
        register(client, parties["a"])
        typed = "质" * 192 + " z@ex.cn"
        assert len(typed) == 200
        violation(client, parties["a"], category=typed, severity="general")
        (key,) = counts(client, "violations")
        assert key.endswith("z***@ex.cn/general") and len(key) > 200 + len("/general")
        assert_recounted(db)

    def test_a_corrected_grade_moves_the_count(self, client, parties, db) -> None:
        register(client, parties["a"])
        record = rating(client, parties["a"], grade="AA")
        assert counts(client, "ratings") == {"default/AA": 1}
        correct(client, parties["a"], record, grade="A")
        assert counts(client, "ratings") == {"default/A": 1}
        assert_recounted(db)

    def test_records_the_public_does_not_see_are_not_counted(self, client, parties, db) -> None:
        register(client, parties["a"])
        violation(client, parties["a"], visibility="restricted")
        violation(client, parties["a"], visibility="shared")
        assert counts(client, "violations") == {}
        violation(client, parties["a"])
        assert sum(counts(client, "violations").values()) == 1
        assert_recounted(db)

    def test_organizations_by_status_and_region(self, client, parties, db) -> None:
        register(client, parties["a"])
        fuzhou = register(client, parties["a"], f.new_uscc("350102"), "福州某某有限公司")
        assert counts(client, "organizations") == {"operating": 2}
        register(client, parties["a"], fuzhou, "福州某某有限公司", status="revoked")
        assert counts(client, "organizations") == {"operating": 1, "revoked": 1}
        assert counts(client, "organizations", region="福建省") == {"revoked": 1}
        assert counts(client, "organizations", by="region") == {"35": 1, "44": 1}
        assert counts(client, "organizations", by="region", region="35") == {"3501": 1}
        assert_recounted(db)

    def test_lists_the_sweep_ends_and_a_black_entry_supersedes(self, client, parties, db, clock) -> None:
        register(client, parties["a"])
        list_entry(client, parties["a"], "red", effective_on="2026-06-01", expires_on="2026-06-20")
        assert counts(client, "red-and-black") == {"red": 1}
        clock.advance(days=10)
        lifecycle.sweep(lambda: transaction(db), now=clock.now())
        assert counts(client, "red-and-black") == {}
        assert_recounted(db)
        list_entry(client, parties["a"], "red", effective_on="2026-06-24")
        black = list_entry(client, parties["b"], "black", effective_on="2026-06-24")
        assert counts(client, "red-and-black") == {"black": 1}  # the red entry was superseded
        withdraw(client, parties["b"], black)
        assert counts(client, "red-and-black") == {"red": 1}  # and is reinstated
        assert_recounted(db)

    def test_a_bulk_push(self, client, parties, db) -> None:
        codes = [f.new_uscc("440300") for _ in range(3)]
        lines = [{"type": "organization", "code": c, "name": f"深圳市测试{i}有限公司"} for i, c in enumerate(codes)]
        for i, code in enumerate(codes):
            lines.append({"type": "violation", "code": code,
                          **f.violation(severity="serious").model_dump(mode="json", exclude_none=True)})
            lines.append({"type": "inspection", "code": code,
                          **f.inspection("pass" if i else "fail").model_dump(mode="json", exclude_none=True)})
        import json
        body = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
        response = client.post("/v1/batches", headers=parties["a"].headers | {"content-type": "application/x-ndjson"},
                               content=body.encode())
        assert response.status_code in (200, 201, 202), response.text
        assert counts(client, "organizations") == {"operating": 3}
        assert sum(counts(client, "violations").values()) == 3
        spot = table(client, "inspections")["rows"]
        assert [(r["key"], r["count"], r["passed"], r["failed"], r["pass_rate"]) for r in spot] == \
            [("电线电缆", 3, 2, 1, 0.6667)]
        assert_recounted(db)

    def test_supervision_classes(self, client, parties, db) -> None:
        register(client, parties["a"])
        register(client, parties["a"], f.new_uscc(), "深圳市另一家有限公司")
        before = counts(client, "supervision-classes")
        assert before == {"unrated": 2}
        list_entry(client, parties["b"], "black")
        after = counts(client, "supervision-classes")
        assert after.pop("unrated") == 1 and sum(after.values()) == 1
        assert_recounted(db)


class TestMeasures:
    def test_a_reported_measure_counts_and_the_old_path_still_answers(self, client, parties, client_for, db,
                                                                      unit_of_work, clock) -> None:
        with unit_of_work() as session:
            reference.add_department(session, code="SZCZ", name="深圳市财政局", kind="finance", region_code="440300",
                                     now=clock.now())
        finance = client_for("SZCZ", "records:read", "records:write")
        register(client, parties["a"])
        black = list_entry(client, parties["a"], "black", effective_on="2026-05-10")
        body = {"measure": "procurement_restriction", "decision_no": "深财采〔2026〕7号", "decided_on": "2026-06-15",
                "trigger_record_id": black["id"]}
        assert client.post(f"/v1/organizations/{HUAWEI}/measures", headers=finance, json=body).status_code == 201
        measures = table(client, "measures", year=2026)["rows"]
        assert [(r["key"], r["label_zh"], r["count"]) for r in measures] == \
            [("procurement_restriction", "限制参加政府采购活动", 1)]
        assert client.get("/v1/public/statistics/measures-applied").json() == \
            [{"measure": "procurement_restriction", "department": "SZCZ", "count": 1}]
        assert_recounted(db)


class TestSpotChecks:
    def test_pass_rates_by_category_region_and_year(self, client, parties, db) -> None:
        register(client, parties["a"])
        fuzhou = register(client, parties["a"], f.new_uscc("350102"), "福州某某有限公司")
        inspection(client, parties["a"], result="fail")
        inspection(client, parties["a"], result="pass")
        inspection(client, parties["a"], fuzhou, result="pass", product_category="儿童玩具")
        inspection(client, parties["a"], fuzhou, result="pass", product_category="儿童玩具",
                   published_on="2025-03-01", sampled_on="2025-01-10", produced_on="2024-12-01")
        rows = {r["key"]: r for r in table(client, "inspections")["rows"]}
        assert (rows["电线电缆"]["pass_rate"], rows["儿童玩具"]["pass_rate"]) == (0.5, 1.0)
        by_region = {r["key"]: (r["label_zh"], r["count"], r["pass_rate"])
                     for r in table(client, "inspections", by="region")["rows"]}
        assert by_region == {"35": ("福建省", 2, 1.0), "44": ("广东省", 2, 0.5)}
        assert counts(client, "inspections", by="year") == {"2025": 1, "2026": 3}
        assert counts(client, "inspections", year=2025) == {"儿童玩具": 1}
        assert counts(client, "inspections", region="440300", year=2026) == {"电线电缆": 2}
        assert_recounted(db)


class TestRecount:
    def test_the_operator_rebuilds_counts_that_went_wrong(self, client, parties, db, cli_env) -> None:
        from typer.testing import CliRunner

        from cli.main import cli
        register(client, parties["a"])
        violation(client, parties["a"])
        inspection(client, parties["a"])
        with transaction(db) as session:  # a count lost, another made up
            session.connection().execute(text("DELETE FROM statistic_count WHERE statistic = 'violations'"))
            session.connection().execute(text("UPDATE statistic_count SET count = count + 5 "
                                              "WHERE statistic = 'organizations'"))
        assert counts(client, "violations") == {}
        result = CliRunner().invoke(cli, ["recount-statistics"])
        assert result.exit_code == 0, result.output
        assert "differed" in result.output
        assert sum(counts(client, "violations").values()) == 1 and counts(client, "organizations") == {"operating": 1}
        assert_recounted(db)


class TestBadFilters:
    @pytest.mark.parametrize(("path", "params", "status"), [
        ("nothing", {}, 404),
        ("inspections", {"region": "990000"}, 422),
        ("inspections", {"region": "没有这个地方"}, 422),
        ("inspections", {"year": 1800}, 422),
        ("inspections", {"year": 2031}, 422),
        ("inspections", {"year": "soon"}, 422),
        ("organizations", {"year": 2026}, 422),
        ("organizations", {"by": "year"}, 422),
        ("organizations", {"by": "colour"}, 422),
    ])
    def test_refused_with_a_problem(self, client, path, params, status) -> None:
        response = client.get(f"/v1/public/statistics/{path}", params=params)
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["detail"]


class TestCsv:
    def test_by_accept_header_and_link_with_formula_cells_guarded(self, client, parties) -> None:
        register(client, parties["a"])
        violation(client, parties["a"], category="=HYPERLINK(\"http://x\")", severity="minor")
        inspection(client, parties["a"])
        by_header = client.get("/v1/public/statistics/violations", headers={"Accept": "text/csv"})
        assert by_header.status_code == 200 and by_header.headers["content-type"].startswith("text/csv")
        text = by_header.content.decode("utf-8")
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        assert rows[0] == ["key", "label_zh", "label_en", "count"]
        assert rows[1][0].startswith("'=") and rows[1][3] == "1"
        link = client.get("/v1/public/statistics/inspections", params={"format": "csv"})
        assert link.headers["content-disposition"].startswith("attachment")
        spot = list(csv.reader(io.StringIO(link.content.decode("utf-8").lstrip("\ufeff"))))
        assert spot == [["key", "label_zh", "label_en", "count", "passed", "failed", "pass_rate"],
                        ["电线电缆", "电线电缆", "电线电缆", "1", "0", "1", "0.0"]]


class TestPages:
    @pytest.mark.parametrize(("lang", "title"), [("zh", "监督抽查与合格率"), ("en", "Spot checks and pass rates")])
    def test_statistics_page_draws_svg_in_each_language(self, client, parties, lang, title) -> None:
        register(client, parties["a"])
        inspection(client, parties["a"])
        page = client.get("/statistics", params={"lang": lang} if lang == "en" else {})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        html = page.text
        assert html.count("<svg") >= 2 and f"<title id=\"chart-inspections-title\">{title}</title>" in html
        assert "<script" not in html
        assert "/v1/public/statistics/inspections?by=facet&amp;format=csv" in html

    def test_a_bad_region_is_a_friendly_422(self, client) -> None:
        page = client.get("/statistics", params={"region": "没有这个地方"})
        assert page.status_code == 422 and "没有这个地方" in page.text

    def test_home_page_key_figures_and_newest_entries(self, client, parties) -> None:
        register(client, parties["a"])
        list_entry(client, parties["a"], "red")
        home = client.get("/")
        assert home.status_code == 200
        assert 'data-testid="figure-organizations">1<' in home.text
        assert 'data-testid="figure-red">1<' in home.text
        assert "华为技术有限公司" in home.text.split('data-testid="newest-red"')[1]
        english = client.get("/", params={"lang": "en"})
        assert "Key figures" in english.text and "Newest on the red list" in english.text


# --- Any sequence of writes leaves the counts equal to a recount ---

_OPERATIONS = st.lists(st.sampled_from([
    "violation", "restricted_violation", "rating", "red", "black", "inspection_pass", "inspection_fail",
    "correct", "withdraw", "sweep", "organization_status", "bulk"]), min_size=1, max_size=12)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=_OPERATIONS)
def test_any_sequence_of_writes_equals_a_recount(client, parties, db, clock, operations) -> None:
    import json
    a, b = parties["a"], parties["b"]
    code = register(client, a, f.new_uscc(["440300", "350102", "110105"][next(_serial) % 3]), "深圳市序列测试有限公司")
    published: list[tuple[object, dict]] = []
    for operation in operations:
        serial = next(_serial)
        if operation == "violation":
            published.append((a, violation(client, a, code, severity=["minor", "general", "serious"][serial % 3])))
        elif operation == "restricted_violation":
            violation(client, a, code, visibility="restricted")
        elif operation == "rating":
            published.append((a, rating(client, a, code, grade=["AAA", "AA", "A"][serial % 3])))
        elif operation in ("red", "black"):
            day = date.fromordinal(clock.now().date().toordinal() - serial % 5)
            posted = f.list_entry(operation, effective_on=day, expires_on=day + timedelta(days=150)).model_dump(
                mode="json", exclude_none=True)
            response = client.post("/v1/list-entries", headers=(a if operation == "red" else b).headers,
                                   json=posted | {"code": code})
            if response.status_code == 201:  # a red entry beside a black one is refused
                published.append((a if operation == "red" else b, response.json() | {"posted": posted}))
        elif operation.startswith("inspection"):
            published.append((a, inspection(client, a, code, result=operation.split("_")[1])))
        elif operation == "correct" and published:
            party, record = published[serial % len(published)]
            if record["kind"] == "violation":
                body = {"category": f"类别{serial % 2}"}
            elif record["kind"] == "rating":
                body = {"grade": "B"}
            elif record["kind"] == "inspection":
                body = {"product_category": "儿童玩具"}
            else:
                body = {"reason": "更正理由"}
            fields = record["posted"] | body
            client.post(f"/v1/records/{record['id']}/corrections", headers=party.headers,
                        json={"reason": "更正", "fields": fields})  # refused when no longer active: fine
        elif operation == "withdraw" and published:
            party, record = published.pop(serial % len(published))
            client.post(f"/v1/records/{record['id']}/withdrawal", headers=party.headers, json={"reason": "撤销"})
        elif operation == "sweep":
            clock.advance(days=200)
            lifecycle.sweep(lambda: transaction(db), now=clock.now())
        elif operation == "organization_status":
            register(client, a, code, "深圳市序列测试有限公司", status=["operating", "suspended"][serial % 2])
        elif operation == "bulk":
            other = f.new_uscc("350102")
            lines = [{"type": "organization", "code": other, "name": "福州批量测试有限公司"},
                     {"type": "violation", "code": other, **f.violation().model_dump(mode="json", exclude_none=True)},
                     {"type": "inspection", "code": code, **f.inspection("pass").model_dump(mode="json",
                                                                                           exclude_none=True)}]
            response = client.post("/v1/batches", headers=a.headers | {"content-type": "application/x-ndjson"},
                                   content="\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode())
            assert response.status_code in (200, 201, 202), response.text
        assert_recounted(db)
