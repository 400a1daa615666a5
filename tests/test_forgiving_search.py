"""Search that forgives (issue 19 item 5): traditional, full-width and variant forms find the
simplified name; results ranked by code, exact name, name prefix, then any part of the name,
paged across the phases; suggestions for a search that found nothing. Through HTTP, on both
databases."""

import base64
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, insert, pool, select, text

from db import migrations
from db.tables import Organization, OrganizationNameGram
from service import codes
from service.public import name_index
from service.records import publishing
from tests import factories as f
from tests.conftest import FIXED_NOW

SEARCH = "/v1/public/organizations"


def found(client, **params) -> list[tuple[str, str]]:
    response = client.get(SEARCH, params=params)
    assert response.status_code == 200, response.text
    return [(item["name"], item["match"]) for item in response.json()["items"]]


def register(unit_of_work, clock, *names: str, region: str = "440300") -> dict[str, str]:
    with unit_of_work() as session:
        return {f.make_organization(session, now=clock.now(), code=f.new_uscc(region), name=name).uscc: name
                for name in names}


class TestFolding:
    @pytest.mark.parametrize(("q", "name"), [
        ("華為技術", "华为技术有限公司"),  # traditional query, simplified name
        ("ＨＵＡＷＥＩ", "huawei中国有限公司"),  # full-width
        ("华硕电脑", "臺灣華碩電腦股份有限公司"),  # simplified query, traditional name
        ("鉅泰", "深圳市钜泰五金有限公司"),  # 鉅 folds to 巨 in OpenCC: 钜 must too
        ("峯景", "深圳市峰景酒店有限公司"),  # a variant OpenCC folds
        ("衞生", "深圳市卫生用品有限公司"),  # a variant OpenCC leaves: the table's
        ("乾洗", "深圳市干洗服务有限公司"),  # folded character by character
        ("乾隆", "深圳市乾隆酒业有限公司"),  # 乾 to 干 in the name as in the query
    ])
    def test_other_forms_find_the_name(self, client, unit_of_work, clock, q, name) -> None:
        register(unit_of_work, clock, name, "深圳市无关贸易有限公司")
        assert [n for n, _ in found(client, q=q)] == [name]

    def test_the_page_finds_them_too(self, client, unit_of_work, clock) -> None:
        register(unit_of_work, clock, "华为技术有限公司")
        page = client.get("/", params={"q": "華為"})
        assert page.status_code == 200 and "华为技术有限公司" in page.text


# Folding without a database: the properties the index relies on.
CHARACTERS = st.sampled_from("華為技術有限公司华为技术乾淨钜鉅衞峯峰薴苧ＡＢａｂAB12１２ 深圳市騰訊")


@given(st.text(CHARACTERS, max_size=20), st.data())
def test_fold_is_stable_and_a_piece_of_a_name_folds_to_a_piece_of_its_folding(name, data) -> None:
    folded = name_index.fold(name)
    assert name_index.fold(folded) == folded
    start = data.draw(st.integers(0, len(name)))
    end = data.draw(st.integers(start, len(name)))
    assert name_index.fold(name[start:end]) in folded


def test_each_variant_is_one_opencc_leaves_and_folds_to_a_standard_character() -> None:
    import opencc

    converter = opencc.OpenCC("t2s")
    for variant, standard in name_index.VARIANTS.items():
        assert converter.convert(variant) == variant, variant  # else the table repeats OpenCC
        assert name_index.fold(standard) == standard, standard


class TestRanking:
    def test_exact_name_then_prefix_then_part(self, client, unit_of_work, clock) -> None:
        made = register(unit_of_work, clock, "深圳市华兴电子有限公司", "华兴科技有限公司", "華興", "华兴电子有限公司",
                        "东莞华兴五金厂")
        parts = [made[code] for code in sorted(made) if made[code] in ("深圳市华兴电子有限公司", "东莞华兴五金厂")]
        assert found(client, q="华兴") == [("華興", "name"), ("华兴电子有限公司", "name_prefix"),
                                         ("华兴科技有限公司", "name_prefix"), *((n, "name_part") for n in parts)]

    def test_whole_codes_come_first(self, client, unit_of_work, clock) -> None:
        with unit_of_work() as session:
            f.make_organization(session, now=clock.now(), code=f.HUAWEI, name="华为技术有限公司")
        body = client.get(SEARCH, params={"q": "19220382-1"}).json()  # the legacy code
        assert [(i["code"], i["match"]) for i in body["items"]] == [(f.HUAWEI, "code")]
        body = client.get(SEARCH, params={"q": "9144 0300 1922 0382 16"}).json()
        assert [(i["code"], i["match"]) for i in body["items"]] == [(f.HUAWEI, "code")]

    def test_a_name_with_the_digits_of_a_code_follows_the_codes(self, client, unit_of_work, clock) -> None:
        made = register(unit_of_work, clock, "深圳市甲有限公司", "深圳市乙有限公司")  # codes 91440300...
        register(unit_of_work, clock, "9144电子有限公司", "北京市9144科技有限公司", region="110000")
        items = client.get(SEARCH, params={"q": "9144"}).json()["items"]
        assert [i["match"] for i in items] == ["code_prefix"] * 2 + ["name_prefix", "name_part"]
        assert {i["code"] for i in items[:2]} == set(made)


# Paging across the phases: every organization that matches, once, in rank order, whatever the
# page size. The expected order is worked out here, independently of the queries.
WORLD = ["华兴", "華興", "华兴电子有限公司", "華興電子有限公司", "华兴科技有限公司", "深圳市华兴电子有限公司",
         "东莞华兴五金厂", "华兴", "北京华兴食品有限公司", "9144华兴贸易有限公司", "深圳市9144科技有限公司",
         "华兴9144有限公司", "深圳市无关贸易有限公司", "华", "兴华有限公司"]


BLACK_LISTED: set[str] = set()


@pytest.fixture
def world(unit_of_work, clock) -> dict[str, str]:
    made: dict[str, str] = {}
    BLACK_LISTED.clear()
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        for i, name in enumerate(n for n in WORLD if len(n) >= 2):
            region = ("440300", "110000", "440100")[i % 3]
            code = f.make_organization(session, now=clock.now(), code=f.new_uscc(region), name=name).uscc
            made[code] = name
            if i % 2:
                publishing.publish(session, code, f.list_entry("black"), department_code="SZAMR", now=clock.now())
                BLACK_LISTED.add(code)
    return made


def expected_order(world: dict[str, str], q: str, region: str | None, list_name: str | None = None) -> list[str]:
    folded = " ".join(name_index.fold(q).split())
    compact = folded.replace(" ", "").replace("-", "").upper()
    ranked = []
    for code, name in world.items():
        if (region and not code[2:8].startswith(region)) or (list_name and code not in BLACK_LISTED):
            continue
        search_name = name_index.fold(name)
        if compact == code:
            ranked.append((0, "", code))
        elif any(c.isdigit() for c in compact) and code.startswith(compact):
            ranked.append((1, "", code))
        elif search_name.startswith(folded):
            ranked.append((2, search_name, code))
        elif folded in search_name:
            ranked.append((3, "", code))
    return [code for *_, code in sorted(ranked)]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.integers(1, 7), q=st.sampled_from(["华兴", "華興", "9144", "华兴电子", "有限"]),
       region=st.sampled_from([None, "44", "110000"]), list_name=st.sampled_from([None, "black"]))
def test_pages_meet_every_match_once_in_rank_order(client, world, limit, q, region, list_name) -> None:
    walked, cursor, pages = [], None, 0
    while True:
        params = ({"q": q, "limit": limit} | ({"region": region} if region else {})
                  | ({"list": list_name} if list_name else {}) | ({"cursor": cursor} if cursor else {}))
        body = client.get(SEARCH, params=params).json()
        walked += [i["code"] for i in body["items"]]
        pages += 1
        if not (cursor := body["next_cursor"]):
            break
        assert pages < 40
    assert walked == expected_order(world, q, region, list_name)


def test_a_whole_code_is_found_first_then_the_rest_in_order(client, world) -> None:
    code = next(iter(world))
    walked = [i["code"] for i in client.get(SEARCH, params={"q": code, "limit": 200}).json()["items"]]
    assert walked == expected_order(world, code, None) == [code]


class TestSuggestions:
    def test_a_typo_suggests_the_close_name(self, client, unit_of_work, clock) -> None:
        register(unit_of_work, clock, "深圳市腾讯计算机系统有限公司", "深圳市计算机培训中心", "华为技术有限公司")
        body = client.get(SEARCH, params={"q": "腾迅计算机"}).json()
        assert body["items"] == []
        assert body["suggestions"][0] == "深圳市腾讯计算机系统有限公司"
        assert "华为技术有限公司" not in body["suggestions"]

    def test_a_search_that_finds_something_suggests_nothing(self, client, unit_of_work, clock) -> None:
        register(unit_of_work, clock, "深圳市腾讯计算机系统有限公司")
        assert client.get(SEARCH, params={"q": "腾讯计算机"}).json()["suggestions"] == []

    def test_nothing_close_suggests_nothing(self, client, unit_of_work, clock) -> None:
        register(unit_of_work, clock, "深圳市腾讯计算机系统有限公司")
        assert client.get(SEARCH, params={"q": "黄河啤酒"}).json()["suggestions"] == []

    def test_the_page_offers_them_as_links(self, client, unit_of_work, clock) -> None:
        register(unit_of_work, clock, "深圳市腾讯计算机系统有限公司")
        page = client.get("/", params={"q": "腾迅计算机", "lang": "en"})
        assert page.status_code == 200
        assert 'data-testid="suggestion"' in page.text and "深圳市腾讯计算机系统有限公司" in page.text

    def test_a_masked_part_of_a_name_is_never_suggested(self, client, unit_of_work, clock) -> None:
        # A sole trader's name with the owner's mobile number in it: the public name is masked,
        # and only the public name is indexed, so no search or suggestion can bring it back.
        register(unit_of_work, clock, "深圳市13800138000贸易商行")
        for q in ("13800138001贸易", "138001380", "0138000贸易"):
            body = client.get(SEARCH, params={"q": q}).json()
            shown = json.dumps(body, ensure_ascii=False)
            assert "13800138000" not in shown and "0138000" not in shown, shown
        suggestions = client.get(SEARCH, params={"q": "深圳市贸易商"}).json()["suggestions"]
        assert suggestions and all("13800138000" not in s for s in suggestions)


def _cursor(*parts) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [_cursor("name_part"), _cursor("somewhere", "914403001922038216"),
                                    _cursor("name_prefix", 12), _cursor("code", "x", "y"), "garbage",
                                    _cursor("914403001922038216")])
def test_a_crafted_cursor_is_422(client, unit_of_work, clock, cursor) -> None:
    register(unit_of_work, clock, "华为技术有限公司")
    response = client.get(SEARCH, params={"q": "华为", "cursor": cursor})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "cursor"]


@pytest.mark.parametrize("q", ["華", "Ａ", " 華 ", "\u3000華"])
def test_a_query_that_folds_to_one_character_is_422(client, q) -> None:
    response = client.get(SEARCH, params={"q": q})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "q"]


def _bulk(db, count: int) -> None:
    rng = random.Random(3)
    chars = "华兴盛达恒通泰安宏信鑫源佳美丰瑞康宁晨光远博创力新永嘉昌隆和锦天海明德正科技电子食品机械"
    orgs, grams = [], []
    for i in range(count):
        uscc = codes.make_uscc("91", "440300", f"{i:08d}")
        name = rng.choice(("深圳市", "", "")) + "".join(rng.sample(chars, 3)) + "有限公司"
        orgs.append({"uscc": uscc, "org_code": uscc[8:17], "name": name, "public_name": name,
                     "search_name": name_index.fold(name), "region_code": "440300", "status": "operating",
                     "check_digit_valid": True, "created_at": FIXED_NOW, "updated_at": FIXED_NOW})
        grams += [{"gram": g, "uscc": uscc} for g in name_index.grams(name)]
    with db.writer.begin() as conn:
        conn.execute(insert(Organization), orgs)
        conn.execute(insert(OrganizationNameGram), grams)
        if not db.is_sqlite:
            conn.execute(text("ANALYZE organization"))
            conn.execute(text("ANALYZE organization_name_gram"))


@pytest.mark.parametrize("position", [None, 50, 6_000])
def test_the_name_prefix_phase_reads_a_range_of_the_name_index(db, position) -> None:
    """On 20,000 organizations, a third of their names starting with the query: the first page and
    deep pages start in the index where they should, in its order (nothing sorted, no table scan)."""
    from db.repositories import public as public_queries

    _bulk(db, 20_000)
    terms = public_queries.SearchTerms("深圳市")
    with db.reader.connect() as conn:
        after = after_name = None
        if position is not None:
            after, after_name = conn.execute(text(
                "SELECT uscc, search_name FROM organization WHERE search_name LIKE '深圳市%' "
                "ORDER BY search_name, uscc LIMIT 1 OFFSET :n"), {"n": position}).one()
        statement = public_queries.search_phase_statement("name_prefix", terms, after=after, after_name=after_name,
                                                          limit=51, dialect=conn.dialect.name)
        sql = str(statement.compile(conn, compile_kwargs={"literal_binds": True}))
        if db.is_sqlite:
            plan = " | ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            bound = "(search_name>? AND search_name<?)" if after is None else "((search_name,uscc)>(?,?) AND search_name<?)"
            assert plan == f"SEARCH organization USING INDEX ix_organization_search_name {bound}", plan
        else:
            plan = json.dumps(conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}").scalar()[0]["Plan"])
            assert "Seq Scan" not in plan and '"Sort"' not in plan and "Bitmap" not in plan, plan
            assert "ix_organization_search_name" in plan, plan


def test_the_migration_folds_names_already_registered(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'refold.db'}"
    migrations.upgrade(url, "20261128_0015")
    engine = create_engine(url, poolclass=pool.NullPool)
    old = "臺灣華碩電腦股份有限公司"
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO organization (uscc, org_code, name, public_name, search_name, region_code, status, "
            "check_digit_valid, created_at, updated_at) VALUES (?, ?, ?, ?, ?, '440300', 'operating', 1, ?, ?)",
            (f.HUAWEI, f.HUAWEI[8:17], old, old, old.lower(), FIXED_NOW.isoformat(), FIXED_NOW.isoformat()))
        conn.exec_driver_sql("INSERT INTO organization_name_gram (gram, uscc) VALUES (?, ?)", ("華碩", f.HUAWEI))
    migrations.upgrade(url)
    with engine.connect() as conn:
        assert conn.execute(select(Organization.search_name)).scalar_one() == "台湾华硕电脑股份有限公司"
        stored = set(conn.execute(select(OrganizationNameGram.gram)).scalars())
    assert stored == name_index.grams(old) and "华硕" in stored and "華碩" not in stored


def test_names_starting_with_the_query_on_a_database_created_with_a_pinyin_collation(database_url) -> None:
    """A PostgreSQL database created with a linguistic locale (here ICU's Chinese, pinyin order)
    still ranks only names that start with the query as name prefixes: in pinyin order 华丰 (feng)
    lies between 华东 (dong) and the range's end 华丝 (si), and 华为's end 华丼 (jing) sorts before it."""
    from sqlalchemy.engine import make_url

    if database_url.startswith("sqlite"):
        pytest.skip("SQLite compares code points whatever the locale")
    shared = make_url(database_url)
    name = f"{shared.database}_pinyin"
    admin = create_engine(shared, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'zh' "
                          "LOCALE 'C.UTF-8'"))
    url = shared.set(database=name).render_as_string(hide_password=False)
    try:
        migrations.upgrade(url)
        engine = create_engine(url, poolclass=pool.NullPool)
        names = ["华东医药股份有限公司", "华丰电器有限公司", "华为技术有限公司", "华润万家有限公司"]
        with engine.begin() as conn:
            for i, org_name in enumerate(names):
                uscc = codes.make_uscc("91", "440300", f"{i:08d}")
                conn.execute(insert(Organization).values(
                    uscc=uscc, org_code=uscc[8:17], name=org_name, public_name=org_name,
                    search_name=name_index.fold(org_name), region_code="440300", status="operating",
                    check_digit_valid=True, created_at=FIXED_NOW, updated_at=FIXED_NOW))
                conn.execute(insert(OrganizationNameGram), [{"gram": g, "uscc": uscc} for g in name_index.grams(org_name)])
        from service.public import organizations

        with engine.connect() as conn:
            for query, expected in (("华东", "华东医药股份有限公司"), ("华为", "华为技术有限公司")):
                page = organizations.search(conn, query, today=FIXED_NOW.date())
                assert [(hit.name, hit.match) for hit in page.items] == [(expected, "name_prefix")], query
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_folding_remembers_a_bounded_number_of_characters_and_still_folds_past_the_bound() -> None:
    """Anyone may send every character there is, a query at a time; a process must not keep them all."""
    folding = name_index._Folding()
    folding.MAX_ENTRIES = 1_000
    met = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 5_000))
    assert met.translate(folding) == met.translate(name_index._FOLDING)
    assert len(folding) == 1_000
    assert "華為".translate(folding) == "华为"
