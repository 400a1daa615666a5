"""The personal-data scanner that checks every public response of the suite (conftest), and a
flow that puts personal data into the registry and checks none of it comes out publicly."""

import pytest

from service import records
from tests import factories as f
from tests.masking import find_personal_data


@pytest.mark.parametrize(("text", "expected"), [
    ("身份证 11010519491231002X 张三", ["resident ID 11010519491231002X"]),
    ("电话13912345678", ["mobile phone 13912345678"]),
    ("卡号 6222021234567890128", ["bank card 6222021234567890128"]),
])
def test_the_scanner_finds_planted_data(text, expected) -> None:
    assert find_personal_data(text) == expected


@pytest.mark.parametrize("text", ["914403001922038216", "91440300708461136T", "2026-06-15 20260615",
                                  "罚款人民币50000.00元", "rec_01M8A3TEHHSQV9NH1M728F178D", "110105194912310021"])
def test_codes_dates_and_ids_are_not_personal_data(text) -> None:
    assert find_personal_data(text) == []


def test_personal_data_entered_by_departments_and_filers_never_shows(client, unit_of_work, clock) -> None:
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        f.make_organization(session, now=clock.now(), code=f.HUAWEI, name="华为技术有限公司",
                            address="深圳市龙岗区坂田华为基地 联系电话13712345678")
        record = records.publish(session, f.HUAWEI, f.violation(internal_notes="当事人身份证11010519491231002X，"
                                                                               "卡号6222021234567890128"),
                                 department_code="SZAMR", now=clock.now())
    client.post("/v1/public/objections", json={"record_id": record.id, "reason": "请核实处罚信息",
                                               "contact": "电话 13512345678"})
    bodies = [client.get(path).text for path in (
        f"/v1/public/organizations/{f.HUAWEI}", f"/organizations/{f.HUAWEI}", "/?q=华为",
        "/v1/public/organizations?q=华为", "/lists/black", "/v1/public/lists/black/export")]
    assert all(find_personal_data(body) == [] for body in bodies)
