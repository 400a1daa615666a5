"""Public pages a person can use fully: region filters by 6-digit division code (350000 is Fujian
and everything below it, 350100 Fuzhou) or by name; a disclosure's body and link on the
organization page; an empty list that says why it is empty."""

import pytest

from service.records import publishing
from tests import factories as f


@pytest.fixture
def fujian(unit_of_work, clock) -> dict[str, str]:
    """Black-listed organizations in Fuzhou (Gulou), Xiamen and Shenzhen."""
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        codes = {}
        for city, region in (("福州", "350102"), ("厦门", "350203"), ("深圳", "440305")):
            code = f.make_organization(session, now=clock.now(), code=f.new_uscc(region), name=f"{city}市华兴电子有限公司").uscc
            publishing.publish(session, code, f.list_entry("black"), department_code="SZAMR", now=clock.now())
            codes[city] = code
    return codes


def _listed(client, region: str) -> set[str]:
    response = client.get("/v1/public/lists/black", params={"region": region})
    assert response.status_code == 200, response.text
    return {item["code"] for item in response.json()["items"]}


@pytest.mark.parametrize(("region", "cities"), [
    ("350000", {"福州", "厦门"}), ("35", {"福州", "厦门"}), ("福建", {"福州", "厦门"}), ("福建省", {"福州", "厦门"}),
    ("Fujian", {"福州", "厦门"}), ("350100", {"福州"}), ("福州市", {"福州"}), ("福州", {"福州"}),
    ("福建省福州市鼓楼区", {"福州"}), ("350102", {"福州"}), ("440000", {"深圳"}), ("广东省深圳市", {"深圳"}),
])
def test_a_region_is_a_division_code_or_a_name_and_everything_below_it(client, fujian, region, cities) -> None:
    assert _listed(client, region) == {fujian[c] for c in cities}


def test_the_export_and_the_search_take_the_same_regions(client, fujian) -> None:
    export = client.get("/v1/public/lists/black/export", params={"region": "福州市", "format": "ndjson"})
    assert [line for line in export.text.splitlines() if fujian["福州"] in line] and fujian["厦门"] not in export.text
    found = client.get("/v1/public/organizations", params={"q": "华兴电子", "region": "350000"}).json()["items"]
    assert {hit["code"] for hit in found} == {fujian["福州"], fujian["厦门"]}


@pytest.mark.parametrize(("region", "says"), [("鼓楼区", "350102"), ("亚特兰蒂斯", "no division"), ("1234567", "2 to 6 digits")])
def test_a_region_that_names_no_single_division_is_refused_saying_why(client, fujian, region, says) -> None:
    for path, query in (("/v1/public/lists/black", {}), ("/v1/public/lists/black/export", {}),
                        ("/v1/public/organizations", {"q": "华兴"})):
        response = client.get(path, params=query | {"region": region})
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert says in response.text and response.json()["errors"][0]["loc"] == ["query", "region"]


def test_the_list_page_filters_by_name_and_says_when_nothing_matches(client, fujian) -> None:
    page = client.get("/lists/black", params={"region": "福州市"})
    assert page.status_code == 200 and fujian["福州"] in page.text and fujian["厦门"] not in page.text
    nothing = client.get("/lists/black", params={"region": "北京市"})
    assert nothing.status_code == 200 and "没有符合筛选条件的记录" in nothing.text
    assert "名单中暂无记录" in client.get("/lists/red").text
    refused = client.get("/lists/black", params={"region": "鼓楼区", "lang": "en"})
    assert refused.status_code == 422 and "350102" in refused.text


def test_the_organization_page_shows_a_disclosures_body_and_a_safe_link(client, parties) -> None:
    a = parties["a"].headers
    client.put(f"/v1/organizations/{f.HUAWEI}", headers=a, json={"name": "华为技术有限公司"})
    disclosure = {"kind": "quality_credit_report", "title": "2025年度质量信用报告", "published_on": "2026-04-01",
                  "body": "本公司承诺：\n产品合格率 99.8%", "url": "https://example.org/report.pdf"}
    assert client.post(f"/v1/organizations/{f.HUAWEI}/disclosures", headers=a, json=disclosure).status_code == 201
    page = client.get(f"/organizations/{f.HUAWEI}").text
    assert "产品合格率 99.8%" in page
    assert '<a href="https://example.org/report.pdf" rel="noopener nofollow noreferrer"' in page
    scripted = disclosure | {"url": "javascript:alert(1)", "title": "另一份报告"}
    response = client.post(f"/v1/organizations/{f.HUAWEI}/disclosures", headers=a, json=scripted)
    assert response.status_code == 422 and "javascript" not in client.get(f"/organizations/{f.HUAWEI}").text
