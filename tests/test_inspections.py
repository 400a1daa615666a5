"""Spot-check results (监督抽查, issue 19 items 1-2): the record kind through every entry path, the
producer's profile, the product search with its filters, paging and export, and the pages.
Through HTTP, on both databases."""

import csv
import io
import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from db.session import read_session
from db.tables import InspectionProduct, InspectionProductGram, Record
from tests import factories as f
from tests.masking import find_personal_data

HUAWEI = f.HUAWEI
SEARCH = "/v1/public/inspections"
NDJSON = {"content-type": "application/x-ndjson"}


def body(fields) -> dict:
    return fields.model_dump(mode="json", exclude_none=True)


def publish(client, party, code=HUAWEI, result="fail", expect=201, **overrides):
    response = client.post(f"/v1/organizations/{code}/inspections", headers=party.headers,
                           json=body(f.inspection(result, **overrides)) | overrides.pop("placement", {}))
    assert response.status_code == expect, response.text
    return response.json()


def search(client, **params) -> dict:
    response = client.get(SEARCH, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def ids(page: dict) -> list[str]:
    return [item["id"] for item in page["items"]]


def index_rows(db) -> tuple[int, int]:
    with read_session(db) as session:
        return (session.exec(select(func.count()).select_from(InspectionProduct)).one(),
                session.exec(select(func.count()).select_from(InspectionProductGram)).one())


def events(client, party) -> list[str]:
    return [e["type"] for e in client.get("/v1/events", headers=party.headers, params={"limit": 200}).json()["data"]]


@pytest.fixture
def producer(client, parties):
    response = client.put(f"/v1/organizations/{HUAWEI}", headers=parties["a"].headers,
                          json={"name": "华为技术有限公司"})
    assert response.status_code == 201, response.text
    return HUAWEI


def test_a_failed_spot_check_is_published_found_and_shown_on_the_producer_profile(client, parties, producer) -> None:
    a = parties["a"]
    failed = publish(client, a)
    passed = publish(client, a, result="pass", product_name="塑料插座", brand="公牛",
                     published_on="2026-05-21")
    assert failed["kind"] == "inspection" and failed["ends_on"] is None  # no end of display
    assert failed["effective_on"] == "2026-05-20"
    assert "inspection.published" in events(client, a)

    page = search(client, q="电缆")
    assert ids(page) == [failed["id"]]
    item = page["items"][0]
    assert (item["result"], item["producer"], item["producer_name"], item["region_code"]) == \
        ("fail", HUAWEI, "华为技术有限公司", "440300")
    assert item["failed_items"] == [{"item": "导体电阻", "measured": "4.12", "required": "≤3.08", "unit": "Ω/km"}]
    assert "internal_notes" not in item
    assert ids(search(client, q="公牛")) == [passed["id"]]  # the brand is searched too
    assert ids(search(client, q="電纜")) == [failed["id"]]  # folded as organization names are (traditional)
    assert ids(search(client)) == [passed["id"], failed["id"]]  # newest published first
    assert ids(search(client, result="fail")) == [failed["id"]]
    assert client.get(f"{SEARCH}/{failed['id']}").json()["report_no"] == failed["details"]["report_no"]

    profile = client.get(f"/v1/public/organizations/{HUAWEI}").json()
    shown = {r["id"]: r for r in profile["records"] if r["kind"] == "inspection"}
    assert shown[failed["id"]]["summary"]["result"] == "fail"
    assert shown[failed["id"]]["summary"]["failed_items"][0]["measured"] == "4.12"
    assert "internal_notes" not in shown[failed["id"]]["summary"]

    page_html = client.get(f"/organizations/{HUAWEI}").text
    assert f'href="/inspections/{failed["id"]}"' in page_html and "导体电阻" in page_html and "不合格" in page_html
    one = client.get(f"/inspections/{failed['id']}?lang=en")
    assert one.status_code == 200 and "Failed items" in one.text and "≤3.08" in one.text
    listing = client.get("/inspections", params={"q": "电缆"})
    assert listing.status_code == 200 and f'/inspections/{failed["id"]}' in listing.text


BAD = [
    ({"product_name": "x", "seller_uscc": "91440300MA5ABCDE9X"}, "seller_uscc"),
    ({"failed_items": [{"item": "导体电阻"}]}, "failed_items"),
    ({"failed_items": [{"item": "导体电阻", "measured": "", "required": "≤3.08"}]}, "failed_items"),
    ({"failed_items": []}, "failed_items"),  # a failure without failed items
    ({"failed_items": None}, "failed_items"),  # left out (None: dropped below)
    ({"result": "pass"}, "failed_items"),  # a pass with failed items (the factory's)
    ({"published_on": "2026-06-16"}, "published_on"),  # tomorrow (the clock is 2026-06-15)
    ({"sampled_on": "2026-05-25"}, "published_on"),  # sampled after it was published
    ({"produced_on": "2026-04-11"}, "sampled_on"),  # produced after it was sampled
    ({"standards": []}, "standards"),
    ({"plan_level": "village"}, "plan_level"),
    ({"result": "unknown"}, "result"),
    ({"product_category": ""}, "product_category"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(client, parties, producer, db, change, field) -> None:
    fields = {k: v for k, v in (body(f.inspection()) | change).items() if v is not None}
    response = client.post(f"/v1/organizations/{HUAWEI}/inspections", headers=parties["a"].headers, json=fields)
    assert response.status_code == 422, response.text
    locs = [issue["loc"] for issue in response.json().get("errors") or []]
    assert any(field in loc for loc in locs), (locs, response.text)
    with read_session(db) as session:
        assert session.exec(select(func.count()).select_from(Record)).one() == 0
    assert index_rows(db) == (0, 0)


def test_a_producer_code_that_does_not_parse_is_refused(client, parties) -> None:
    response = client.post("/v1/organizations/91440300192203821X/inspections", headers=parties["a"].headers,
                           json=body(f.inspection()))
    assert response.status_code == 422, response.text


def test_the_same_report_twice_is_a_409(client, parties, producer) -> None:
    first = publish(client, parties["a"], report_no="GDJ-1")
    again = publish(client, parties["a"], report_no="GDJ-1", expect=409)
    assert again["existing_id"] == first["id"]


def test_a_correction_is_found_by_its_new_name_only_and_a_withdrawal_disappears_at_once(
        client, parties, producer, db) -> None:
    a = parties["a"]
    record = publish(client, a)
    fields = body(f.inspection(product_name="橡皮绝缘软电线", brand="新宝", report_no=record["details"]["report_no"]))
    corrected = client.post(f"/v1/records/{record['id']}/corrections", headers=a.headers,
                            json={"reason": "产品名称录入错误", "fields": fields})
    assert corrected.status_code == 200, corrected.text
    assert search(client, q="聚氯乙烯")["items"] == []
    assert ids(search(client, q="软电线")) == [record["id"]] == ids(search(client, q="新宝"))
    assert client.get(f"{SEARCH}/{record['id']}").json()["version"] == 2

    bad = client.post(f"/v1/records/{record['id']}/corrections", headers=a.headers,
                      json={"reason": "x", "fields": fields | {"failed_items": []}})
    assert bad.status_code == 422 and ids(search(client, q="软电线")) == [record["id"]]

    withdrawn = client.post(f"/v1/records/{record['id']}/withdrawal", headers=a.headers,
                            json={"reason": "检验报告被撤销"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert search(client, q="软电线")["items"] == [] and search(client)["items"] == []
    assert client.get(f"{SEARCH}/{record['id']}").status_code == 404
    assert client.get(f"/inspections/{record['id']}").status_code == 404
    assert all(r["kind"] != "inspection" for r in client.get(f"/v1/public/organizations/{HUAWEI}").json()["records"])
    assert index_rows(db) == (0, 0)
    assert [t for t in events(client, a) if t.startswith("inspection.")] == \
        ["inspection.published", "inspection.corrected", "inspection.withdrawn"]


@pytest.mark.parametrize("placement", [{"visibility": "shared"},
                                       {"visibility": "restricted", "shared_with": ["SZTAX"]}])
def test_restricted_and_shared_results_are_never_public(client, parties, producer, db, placement) -> None:
    record = client.post(f"/v1/organizations/{HUAWEI}/inspections", headers=parties["a"].headers,
                         json=body(f.inspection()) | placement)
    assert record.status_code == 201, record.text
    record_id = record.json()["id"]
    assert search(client, q="电缆")["items"] == [] and search(client)["items"] == []
    assert client.get(f"{SEARCH}/{record_id}").status_code == 404
    assert client.get(f"/inspections/{record_id}").status_code == 404
    assert all(r["id"] != record_id for r in client.get(f"/v1/public/organizations/{HUAWEI}").json()["records"])
    assert record_id not in client.get("/inspections", params={"q": "电缆"}).text
    assert index_rows(db) == (0, 0)
    assert client.get(f"/v1/records/{record_id}", headers=parties["b"].headers).status_code == 200


def _line(code: str, bad: dict | None = None, **overrides) -> str:
    """A batch line; ``bad``: values set after validation, as a sender may get them wrong."""
    values = {"type": "inspection", "code": code, **body(f.inspection(**overrides))} | (bad or {})
    return json.dumps(values, ensure_ascii=False)


def test_batches_in_ndjson_and_csv(client, parties, producer) -> None:
    a = parties["a"].headers
    ndjson = "\n".join([_line(HUAWEI), _line(HUAWEI, result="pass", product_name="电热水壶"),
                        _line(HUAWEI, bad={"failed_items": []}), _line("91440300192203821X")]) + "\n"
    response = client.post("/v1/batches", headers=a | NDJSON, content=ndjson.encode())
    assert response.status_code == 200, response.text
    results = {r["line"]: r for r in response.json()["results"]}
    assert [results[n]["outcome"] for n in (1, 2, 3, 4)] == ["accepted", "accepted", "rejected", "rejected"]
    assert results[3]["field"] == "failed_items" and results[4]["field"] == "code"
    assert ids(search(client, q="水壶")) == [results[2]["record_id"]]

    header = ("type,code,product_name,brand,product_category,authority,plan_level,plan_no,report_no,testing_body,"
              "standards,result,failed_items,sampled_on,published_on\n")
    items = json.dumps([{"item": "耐电压", "measured": "击穿", "required": "不击穿"}], ensure_ascii=False)
    quoted = '"' + items.replace('"', '""') + '"'  # a CSV cell with quotes in it
    row = (f"inspection,{HUAWEI},电动自行车充电器,雅迪,电器附件,深圳市市场监督管理局,city,深市监抽〔2026〕3号,"
           f"SZ-2026-7,深圳市计量质量检测研究院,GB 4706.1-2005;GB 4706.18-2014,fail,{quoted},"
           "2026-04-01,2026-05-02\n")
    broken = row.replace("SZ-2026-7", "SZ-2026-8").replace(quoted, "not json")
    csv_response = client.post("/v1/batches", headers=a | {"content-type": "text/csv"},
                               content=(header + row + broken).encode())
    assert csv_response.status_code == 200, csv_response.text
    outcome = {r["line"]: r for r in csv_response.json()["results"]}
    assert outcome[2]["outcome"] == "accepted" and outcome[3]["field"] == "failed_items", outcome
    found = client.get(f"{SEARCH}/{outcome[2]['record_id']}").json()
    assert found["standards"] == ["GB 4706.1-2005", "GB 4706.18-2014"]
    assert found["failed_items"][0]["measured"] == "击穿" and found["plan_level"] == "city"
    assert events(client, parties["a"]).count("inspection.published") == 3


def test_filters_combine_and_bad_filters_are_422(client, parties, producer) -> None:
    a = parties["a"]
    fujian = f.new_uscc("350100")
    assert client.put(f"/v1/organizations/{fujian}", headers=a.headers, json={"name": "福州电缆厂"}).status_code == 201
    here = publish(client, a, published_on="2026-05-01", sampled_on="2026-04-10")
    there = publish(client, a, code=fujian, published_on="2026-06-01", product_category="电线电缆")
    other = publish(client, a, code=fujian, result="pass", product_category="儿童玩具", product_name="毛绒玩具")
    assert ids(search(client, region="福建省")) == [there["id"], other["id"]]
    assert ids(search(client, region="440000", q="电缆")) == [here["id"]]
    assert ids(search(client, producer=fujian, result="fail")) == [there["id"]]
    assert ids(search(client, producer=fujian[8:17])) == [there["id"], other["id"]]  # a legacy code
    assert ids(search(client, category="电线电缆", **{"from": "2026-05-15"})) == [there["id"]]
    assert ids(search(client, **{"to": "2026-05-15"})) == [here["id"]]
    # Each bound is inclusive, with and without a query (the dates bound the index range read).
    assert ids(search(client, **{"from": "2026-06-01", "to": "2026-06-01"})) == [there["id"]]
    assert ids(search(client, q="电缆", **{"from": "2026-05-01", "to": "2026-05-01"})) == [here["id"]]
    assert ids(search(client, q="电缆", **{"to": "2026-05-31"})) == [here["id"]]
    assert ids(search(client, q="玩具", region="35")) == [other["id"]]
    for params in ({"q": "电"}, {"region": "火星"}, {"result": "maybe"}, {"from": "2026-06-01", "to": "2026-05-01"},
                   {"producer": "123"}, {"cursor": "nonsense"}, {"from": "yesterday"}):
        assert client.get(SEARCH, params=params).status_code == 422, params
        if "cursor" not in params:  # the export reads everything: it takes no cursor
            assert client.get(f"{SEARCH}/export", params=params).status_code == 422, params
    assert client.get("/inspections", params={"q": "电"}).status_code == 422


def test_export_csv_and_ndjson(client, parties, producer) -> None:
    a = parties["a"]
    made = [publish(client, a, published_on=f"2026-05-{day:02d}") for day in (1, 2, 3)]
    made.append(publish(client, a, result="pass", product_name="电饭煲"))
    exported = client.get(f"{SEARCH}/export", params={"format": "csv", "q": "电缆"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [r["id"] for r in rows] == [m["id"] for m in reversed(made[:3])]
    assert rows[0]["result"] == "fail" and "导体电阻 4.12" in rows[0]["failed_items"]
    lines = client.get(f"{SEARCH}/export", params={"format": "ndjson", "result": "pass"}).text.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [made[3]["id"]]


def test_hostile_personal_data_never_shows_unmasked(client, parties, producer) -> None:
    a = parties["a"]
    record = client.post(f"/v1/organizations/{HUAWEI}/inspections", headers=a.headers,
                         json=body(f.inspection(hostile=True, product_name="电缆", brand="品牌")))
    assert record.status_code == 201, record.text
    planted = find_personal_data(json.dumps(record.json()["details"], ensure_ascii=False))
    assert len(planted) >= 10  # the department sees what it typed
    record_id = record.json()["id"]
    outputs = [client.get(SEARCH, params={"q": "电缆"}).text, client.get(f"{SEARCH}/{record_id}").text,
               client.get(f"{SEARCH}/export", params={"format": "csv"}).text,
               client.get(f"{SEARCH}/export", params={"format": "ndjson"}).text,
               client.get(f"/v1/public/organizations/{HUAWEI}").text, client.get(f"/inspections/{record_id}").text,
               client.get("/inspections", params={"q": "电缆"}).text, client.get(f"/organizations/{HUAWEI}").text]
    for output in outputs:
        assert record_id in output
        assert find_personal_data(output) == [], output
    found = client.get(f"{SEARCH}/{record_id}").json()
    assert {"product_name", "brand", "failed_items", "standards"} <= set(found["masked_fields"])
    digits = planted[0].split()[-1][:8]  # the beginning of a planted number, as someone might search it
    assert search(client, q=digits[2:8])["items"] == [] or all(
        digits[2:8] not in json.dumps(i, ensure_ascii=False) for i in search(client, q=digits[2:8])["items"])


@pytest.fixture
def many(client, parties, producer):
    """Forty results over a few days (several on one day), pushed as one batch."""
    start = date(2026, 5, 1)
    lines = [_line(HUAWEI, result="pass" if n % 3 else "fail", product_name=f"电缆{n}号",
                   published_on=(start + timedelta(days=n % 7)).isoformat())
             for n in range(40)]
    response = client.post("/v1/batches", headers=parties["a"].headers | NDJSON, content="\n".join(lines).encode())
    assert response.json()["accepted"] == 40, response.text
    return search(client, q="电缆", limit=200)["items"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.integers(1, 13), q=st.sampled_from([None, "电缆", "缆1"]), result=st.sampled_from([None, "fail"]))
def test_pages_have_no_duplicates_or_gaps(client, many, limit, q, result) -> None:
    params = {k: v for k, v in {"q": q, "result": result, "limit": limit}.items() if v is not None}
    expected = search(client, **(params | {"limit": 200}))["items"]
    keys = [(i["published_on"], i["id"]) for i in expected]
    assert keys == sorted(keys, reverse=True)  # newest published first, then newest written
    seen, cursor = [], None
    while True:
        page = search(client, **(params | ({"cursor": cursor} if cursor else {})))
        assert len(page["items"]) <= limit
        seen += ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [i["id"] for i in expected]
    assert len(set(seen)) == len(seen)


def test_the_home_page_shows_the_newest_failed_spot_checks_and_not_passes_or_withdrawn_ones(
        client, parties, producer) -> None:
    a = parties["a"]
    failed = publish(client, a, product_name="聚氯乙烯绝缘电缆")
    publish(client, a, result="pass", product_name="家用电热水壶")
    home = client.get("/")
    assert home.status_code == 200
    assert f"/inspections/{failed['id']}" in home.text and "家用电热水壶" not in home.text

    client.post(f"/v1/records/{failed['id']}/withdrawal", headers=a.headers, json={"reason": "检验报告被撤销"})
    assert f"/inspections/{failed['id']}" not in client.get("/").text


def test_a_measured_value_sent_as_a_json_number_is_kept_as_the_laboratory_wrote_it(client, parties, producer) -> None:
    fields = body(f.inspection())
    fields["failed_items"] = [{"item": "导体电阻", "measured": 4.12, "required": 3.08, "unit": "Ω/km"}]
    response = client.post(f"/v1/organizations/{HUAWEI}/inspections", headers=parties["a"].headers, json=fields)
    assert response.status_code == 201, response.text
    item = client.get(f"{SEARCH}/{response.json()['id']}").json()["failed_items"][0]
    assert (item["measured"], item["required"]) == ("4.12", "3.08")


def test_a_producer_code_that_does_not_parse_is_said_on_the_search_page(client) -> None:
    page = client.get("/inspections", params={"producer": "abc"})
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")


def test_a_date_or_category_filter_reads_a_range_of_an_index_not_the_whole_index(db) -> None:
    """Filters with nothing to find answer at once at any size: no page reads along the whole
    index checking each row (SQLite's plan; PostgreSQL chooses by its statistics)."""
    from db.repositories import inspections as queries
    from db.repositories.inspections import Filters

    if not db.is_sqlite:
        pytest.skip("the plan asserted is SQLite's")
    with db.reader.connect() as conn:
        def plan(filters: Filters) -> str:
            sql = str(queries.page_statement(filters, gram=None, text=None, after=None, limit=21, dialect="sqlite")
                      .compile(conn, compile_kwargs={"literal_binds": True}))
            return " | ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))

        assert "USING INDEX uq_inspection_product_sort_key (sort_key<?)" in plan(Filters(published_to=date(2000, 1, 1)))
        assert "USING INDEX ix_inspection_product_category (product_category=?)" in plan(Filters(category="不存在"))
