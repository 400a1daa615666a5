"""Public search and the red/black lists over HTTP, and the query plans that keep them off table scans."""

import csv
import io
import json
import random
from datetime import date

import pytest
from sqlalchemy import insert, text

from db.tables import Organization, OrganizationNameGram
from service import codes
from service.public import name_index
from service.records import changes, publishing
from tests import factories as f
from tests.conftest import FIXED_NOW

NAMES = {
    f.HUAWEI: "华为技术有限公司",
    "91440300708461136T": "深圳市腾讯计算机系统有限公司",
    "91440300192317458F": "比亚迪股份有限公司",
    "91110000710926094P": "中国石油化工股份有限公司",
}


@pytest.fixture
def known(unit_of_work, clock):
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        for code, name in NAMES.items():
            f.make_organization(session, now=clock.now(), code=code, name=name)
        f.make_organization(session, now=clock.now(), code=f.new_uscc("350100"), name="福州市百分_之百%食品有限公司")


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


class TestSearch:
    def test_two_characters_find_the_company(self, client, known) -> None:
        assert names(client.get("/v1/public/organizations", params={"q": "华为"})) == ["华为技术有限公司"]

    @pytest.mark.parametrize(("q", "expected"), [("腾讯计算", "深圳市腾讯计算机系统有限公司"), ("比亚迪股份", "比亚迪股份有限公司"),
                                                 ("石油化工", "中国石油化工股份有限公司"), ("ｂｙｄ", None)])
    def test_longer_queries(self, client, known, q, expected) -> None:
        assert names(client.get("/v1/public/organizations", params={"q": q})) == ([expected] if expected else [])

    def test_substring_must_be_contiguous(self, client, known) -> None:
        # 为技 and 有限 are both in Huawei's name, but not as "为技有限".
        assert names(client.get("/v1/public/organizations", params={"q": "为技有限"})) == []

    @pytest.mark.parametrize("q", ["%%", "__", "\\\\", "_之", "%食"])
    def test_like_metacharacters_are_literal(self, client, known, q) -> None:
        found = names(client.get("/v1/public/organizations", params={"q": q}))
        assert found == [n for n in ["福州市百分_之百%食品有限公司"] if q in n]

    def test_code_prefix(self, client, known) -> None:
        found = client.get("/v1/public/organizations", params={"q": "91440300"}).json()["items"]
        assert sorted(i["code"] for i in found) == sorted(c for c in NAMES if c.startswith("91440300"))
        assert client.get("/v1/public/organizations", params={"q": "9144 0300 1922"}).json()["items"][0]["code"] == f.HUAWEI

    def test_region_filter(self, client, known) -> None:
        assert names(client.get("/v1/public/organizations", params={"q": "有限公司", "region": "11"})) == \
            ["中国石油化工股份有限公司"]

    def test_list_filter_and_status(self, client, known, unit_of_work, clock) -> None:
        with unit_of_work() as session:
            publishing.publish(session, f.HUAWEI, f.list_entry("black"), department_code="SZAMR", now=clock.now())
        found = client.get("/v1/public/organizations", params={"q": "有限公司", "list": "black"}).json()["items"]
        assert [(i["name"], i["list_status"]) for i in found] == [("华为技术有限公司", "black")]

    @pytest.mark.parametrize(("params", "loc"), [({"q": "华"}, ["query", "q"]), ({"q": "x" * 51}, ["query", "q"]),
                                                 ({"q": "华为", "limit": 201}, ["query", "limit"]),
                                                 ({"q": "华为", "cursor": "garbage"}, ["query", "cursor"]),
                                                 ({"q": "华为", "region": "4x"}, ["query", "region"])])
    def test_bad_queries_are_422(self, client, known, params, loc) -> None:
        response = client.get("/v1/public/organizations", params=params)
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == loc

    def test_pages_follow_the_cursor_without_repeats(self, client, unit_of_work, clock) -> None:
        with unit_of_work() as session:
            made = {f.make_organization(session, now=clock.now(), name=f"深圳市华兴第{i}电子有限公司").uscc for i in range(7)}
        seen, cursor = [], None
        while True:
            params = {"q": "华兴", "limit": 3} | ({"cursor": cursor} if cursor else {})
            body = client.get("/v1/public/organizations", params=params).json()
            seen += [i["code"] for i in body["items"]]
            if not (cursor := body["next_cursor"]):
                break
        assert seen == sorted(made)

    def test_renaming_reindexes(self, client, known, unit_of_work, clock) -> None:
        with unit_of_work() as session:
            f.make_organization(session, now=clock.now(), code=f.HUAWEI, name="华为终端有限公司")
        assert names(client.get("/v1/public/organizations", params={"q": "技术有限"})) == []
        assert names(client.get("/v1/public/organizations", params={"q": "终端"})) == ["华为终端有限公司"]


class TestLists:
    @pytest.fixture
    def listed(self, unit_of_work, clock, known):
        entries = []
        with unit_of_work() as session:
            f.make_department(session, now=clock.now(), code="GDAMR", name="广东省市场监督管理局", region_code="440000")
            for i, (code, day) in enumerate([(f.HUAWEI, date(2026, 1, 5)), ("91440300708461136T", date(2026, 3, 1)),
                                             ("91110000710926094P", date(2026, 3, 1))]):
                entries.append(publishing.publish(
                    session, code, f.list_entry("black", effective_on=day, reason=f'原因 "{i}", 含逗号'),
                    department_code="SZAMR" if i < 2 else "GDAMR", now=clock.now()).record)
            publishing.publish(session, "91440300192317458F", f.list_entry("red"), department_code="SZAMR", now=clock.now())
        return entries

    def test_newest_first_with_filters(self, client, listed) -> None:
        items = client.get("/v1/public/lists/black").json()["items"]
        assert [i["effective_on"] for i in items] == ["2026-03-01", "2026-03-01", "2026-01-05"]
        assert names(client.get("/v1/public/lists/black", params={"department": "GDAMR"})) == ["中国石油化工股份有限公司"]
        assert names(client.get("/v1/public/lists/black", params={"region": "4403", "since": "2026-02-01"})) == \
            ["深圳市腾讯计算机系统有限公司"]
        assert names(client.get("/v1/public/lists/red")) == ["比亚迪股份有限公司"]

    def test_pages_stay_stable_while_entries_are_added(self, client, listed, unit_of_work, clock) -> None:
        first = client.get("/v1/public/lists/black", params={"limit": 2}).json()
        with unit_of_work() as session:  # a newer entry arrives between the pages
            publishing.publish(session, "91440300192317458F", f.list_entry("black", effective_on=date(2026, 6, 1)),
                            department_code="SZAMR", now=clock.now())
        second = client.get("/v1/public/lists/black", params={"limit": 2, "cursor": first["next_cursor"]}).json()
        walked = [i["record_id"] for i in first["items"] + second["items"]]
        assert walked == [e.id for e in sorted(listed, key=lambda e: (e.effective_on, e.id), reverse=True)]

    def test_csv_export_opens_in_a_spreadsheet(self, client, listed) -> None:
        response = client.get("/v1/public/lists/black/export")
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert "attachment" in response.headers["content-disposition"]
        raw = response.content
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        assert len(rows) == 3
        assert {r["reason"] for r in rows} == {'原因 "0", 含逗号', '原因 "1", 含逗号', '原因 "2", 含逗号'}

    def test_ndjson_export(self, client, listed) -> None:
        lines = client.get("/v1/public/lists/black/export", params={"format": "ndjson"}).text.splitlines()
        assert [json.loads(line)["list"] for line in lines] == ["black"] * 3

    def test_one_entry_a_page_meets_each_once_newest_first(self, client, unit_of_work, clock) -> None:
        # Entered out of date order, two on one day: the cursor walks (effective_on, id) downwards,
        # and a newer entry entered first must neither come last nor come back.
        with unit_of_work() as session:
            f.make_department(session, now=clock.now())
            made = [publishing.publish(session, f.make_organization(session, now=clock.now()).uscc,
                                    f.list_entry("black", effective_on=day), department_code="SZAMR", now=clock.now()).record
                    for day in (date(2026, 6, 1), date(2026, 3, 1), date(2026, 3, 1), date(2026, 1, 5))]
        walked, cursor = [], None
        while True:
            body = client.get("/v1/public/lists/black", params={"limit": 1} | ({"cursor": cursor} if cursor else {}))
            walked += [i["record_id"] for i in body.json()["items"]]
            if not (cursor := body.json()["next_cursor"]):
                break
        assert walked == [e.id for e in sorted(made, key=lambda e: (e.effective_on, e.id), reverse=True)]

    def test_only_public_active_entries_in_force_count(self, client, unit_of_work, clock, db) -> None:
        """The lists, the search's list filter and its list_status, for one organization of each case."""
        today = date(2026, 6, 15)  # the test clock's day in China Standard Time
        with unit_of_work() as session:
            f.make_department(session, now=clock.now())
            orgs = {case: f.make_organization(session, now=clock.now(), name=f"深圳市{case}有限公司").uscc
                    for case in ("今日列黑", "黑已撤销", "非公开黑", "下月列黑", "列红", "仅有处罚", "红黑并存", "黑红并存")}

            def publish(case: str, fields, **options):
                return publishing.publish(session, orgs[case], fields, department_code="SZAMR", now=clock.now(), **options).record

            publish("今日列黑", f.list_entry("black", effective_on=today))
            withdrawn = publish("黑已撤销", f.list_entry("black"))
            changes.withdraw(session, withdrawn.id, department_code="SZAMR", reason="决定已撤销", now=clock.now())
            publish("黑已撤销", f.list_entry("red"))  # the withdrawn black entry excludes nothing
            publish("非公开黑", f.list_entry("black"), visibility="restricted")
            publish("下月列黑", f.list_entry("black", effective_on=date(2026, 7, 1)))
            publish("列红", f.list_entry("red"))
            publish("仅有处罚", f.violation())
            publish("红黑并存", f.list_entry("black"))
            # A red term before the black one, entered after it, then stretched under it as data from
            # before the rule could be: black must still win whatever order the rows come in.
            both = publish("红黑并存", f.list_entry("red", effective_on=date(2026, 1, 1), expires_on=date(2026, 3, 1)))
            publish("黑红并存", f.list_entry("black", effective_on=date(2026, 1, 1), expires_on=date(2026, 9, 1)))
            later = publish("黑红并存", f.list_entry("red", effective_on=date(2026, 9, 1)))
        with db.writer.begin() as conn:
            conn.execute(text("UPDATE record SET ends_on = '2027-01-01' WHERE id = :id"), {"id": both.id})
            conn.execute(text("UPDATE record SET effective_on = '2026-02-01' WHERE id = :id"), {"id": later.id})

        def codes_of(path: str, **params) -> set[str]:
            return {i["code"] for i in client.get(path, params=params).json()["items"]}

        assert codes_of("/v1/public/lists/black") == {orgs["今日列黑"], orgs["红黑并存"], orgs["黑红并存"]}
        assert codes_of("/v1/public/lists/black", since="2026-06-15") == {orgs["今日列黑"]}
        assert codes_of("/v1/public/lists/red") == {orgs["黑已撤销"], orgs["列红"]}
        search = "/v1/public/organizations"
        assert codes_of(search, q="有限公司", list="black") == {orgs["今日列黑"], orgs["红黑并存"], orgs["黑红并存"]}
        assert codes_of(search, q="有限公司", list="red") == {orgs["黑已撤销"], orgs["列红"]}
        statuses = {i["code"]: i["list_status"] for i in client.get(search, params={"q": "有限公司"}).json()["items"]}
        assert statuses == {orgs["今日列黑"]: "black", orgs["黑已撤销"]: "red", orgs["非公开黑"]: "none",
                            orgs["下月列黑"]: "none", orgs["列红"]: "red", orgs["仅有处罚"]: "none",
                            orgs["红黑并存"]: "black", orgs["黑红并存"]: "black"}


def _bulk_organizations(db, count: int) -> None:
    """Many organizations straight into the tables (setup at volume), indexed as the service does."""
    rng = random.Random(7)
    chars = "华兴盛达恒通泰安宏信鑫源佳美丰瑞康宁晨光远博创力新永嘉昌隆和锦天海明德正科技电子食品机械"
    orgs, grams = [], []
    for i in range(count):
        uscc = codes.make_uscc("91", "440300", f"{i:08d}")
        name = "深圳市" + "".join(rng.sample(chars, 3)) + "有限公司"
        orgs.append({"uscc": uscc, "org_code": uscc[8:17], "name": name, "public_name": name,
                     "search_name": name_index.fold(name),
                     "region_code": "440300", "status": "operating", "check_digit_valid": True,
                     "created_at": FIXED_NOW, "updated_at": FIXED_NOW})
        grams += [{"gram": g, "uscc": uscc} for g in name_index.grams(name)]
    with db.writer.begin() as conn:
        conn.execute(insert(Organization), orgs)
        conn.execute(insert(OrganizationNameGram), grams)
        if not db.is_sqlite:
            conn.execute(text("ANALYZE organization"))
            conn.execute(text("ANALYZE organization_name_gram"))


def _plan_nodes(node: dict) -> list[tuple[str, str | None, str | None]]:
    found = [(node["Node Type"], node.get("Relation Name"), node.get("Index Name"))]
    for child in node.get("Plans", []):
        found += _plan_nodes(child)
    return found


@pytest.mark.parametrize("q", ["华兴", "有限公司"])
def test_name_search_reads_the_index_not_the_table(db, q) -> None:
    """The plan of the search statement on 20,000 organizations: an index lookup on the gram,
    and no full scan of either table (bench/search.py shows the same at 1,000,000)."""
    from db.repositories import public as public_queries

    _bulk_organizations(db, 20_000)
    query = name_index.parse_query(q)
    with db.reader.connect() as conn:
        gram = name_index.GramFrequencies().rarest(
            query.grams, lambda g, cap: public_queries.gram_count(conn, g, cap=cap))
        statement = public_queries.search_phase_statement("name_part", public_queries.SearchTerms(query.text),
                                                          gram=gram, after=None, limit=51, dialect=conn.dialect.name)
        sql = str(statement.compile(conn, compile_kwargs={"literal_binds": True}))
        if db.is_sqlite:
            plan = " | ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert "SEARCH organization_name_gram USING PRIMARY KEY (gram=?" in plan, plan
            assert "SCAN" not in plan, plan
        else:
            nodes = _plan_nodes(conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}").scalar()[0]["Plan"])
            assert not [n for n in nodes if n[0] == "Seq Scan"], nodes
            assert any(n[2] == "pk_organization_name_gram" for n in nodes), nodes


def test_gram_frequencies_pick_the_rarest_and_count_each_piece_once() -> None:
    counted: list[str] = []

    def count(gram: str, cap: int) -> int:
        counted.append(gram)
        return {"有限": cap, "限公": cap, "华为": 3}.get(gram, 0)

    frequencies = name_index.GramFrequencies(cap=1000)
    assert frequencies.rarest(("有限", "华为", "限公"), count) == "华为"
    assert frequencies.rarest(("有限", "华为"), count) == "华为"
    assert sorted(counted) == ["华为", "有限", "限公"]
