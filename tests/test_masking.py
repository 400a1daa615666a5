"""The personal-data scanner that checks every public response of the suite (conftest), and a
flow that puts personal data into the registry and checks none of it comes out publicly."""

import itertools

import pytest

from service.codes import make_uscc
from service.records import publishing
from service.records.personal_data import mask
from tests import factories as f
from tests.masking import find_personal_data


@pytest.mark.parametrize(("text", "expected"), [
    ("身份证 11010519491231002X 张三", ["resident ID 11010519491231002X"]),
    ("电话13912345678", ["mobile phone 13912345678"]),
    ("卡号 6222021234567890128", ["bank card 6222021234567890128"]),
    # Resident IDs as people type them: groups, hyphens, full-width, the old 15-digit form.
    ("身份证 110105 19491231 002X", ["resident ID 11010519491231002X"]),
    ("身份证110105-1949-1231-002x", ["resident ID 11010519491231002X"]),
    ("身份证１１０１０５１９４９１２３１００２Ｘ", ["resident ID 11010519491231002X"]),
    ("身份证１１０１０５\u3000１９４９１２３１\u3000００２Ｘ", ["resident ID 11010519491231002X"]),
    ("旧证 110105491231002。", ["resident ID 110105491231002"]),
    ("旧证 110105 491231 002", ["resident ID 110105491231002"]),
    # Mobiles: +86 / 0086, spaces, hyphens, dots, full-width, letters right before.
    ("联系电话：+86 139-1234-5678", ["mobile phone 13912345678"]),
    ("手机 0086 13912345678", ["mobile phone 13912345678"]),
    ("手机139.1234.5678", ["mobile phone 13912345678"]),
    ("手机１３９ １２３４ ５６７８", ["mobile phone 13912345678"]),
    ("手机\uff0b\uff18\uff16\uff11\uff13\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
     ["mobile phone 13912345678"]),
    ("Tel13912345678", ["mobile phone 13912345678"]),
    ('{"penalty": "\\uff11\\uff13\\uff19\\uff11\\uff12\\uff13\\uff14\\uff15\\uff16\\uff17\\uff18"}',
     ["mobile phone 13912345678"]),  # a JSON body that escapes what is not ASCII
    # Cards: 13 to 19 digits passing Luhn, in one run or in groups of four.
    ("卡号 6222 0212 3456 7890 128 户名张三", ["bank card 6222021234567890128"]),
    ("卡号4111-1111-1111-1111", ["bank card 4111111111111111"]),
    ("卡号4222222222222", ["bank card 4222222222222"]),
    ("卡号６２２２\u3000０２１２\u3000３４５６\u3000７８９０\u3000１２８", ["bank card 6222021234567890128"]),
    ("身份证11010519491231002X，手机+86 139 1234 5678，卡号6222 0212 3456 7890 128",
     ["resident ID 11010519491231002X", "mobile phone 13912345678", "bank card 6222021234567890128"]),
])
def test_the_scanner_finds_planted_data(text, expected) -> None:
    assert find_personal_data(text) == expected


@pytest.mark.parametrize("text", [
    "914403001922038216", "91440300708461136T", "2026-06-15 20260615", "罚款人民币50000.00元",
    "rec_01M8A3TEHHSQV9NH1M728F178D", "110105194912310021",  # an ID number whose check character is wrong
    "统一社会信用代码 91350100M000100Y43", "代码９１４４０３００１９２２０３８２１６", "19220382-1",
    "深市监罚〔2025〕123号", "京市监处罚〔2026〕0001234号", "列〔2026〕77号",
    "2026-06-15 至 2029-06-14", "2024-09-05 2022-09-05", "2026-05-01 2026-05-10 2029-05-10",
    "2026-06-15T02:00:00+00:00", "20260615 20290614", "GB/T 31863-2015", "罚款 1,250,000.00 元",
    '{"fine_amount": "1234567890128", "score": "88.50"}', "服务热线 400-830-8300", "0755-23456789",
    "rec_01234567890123456789012345", "obj_01JD2X3Y4Z5A6B7C8D9E0F1G2H", "W/\"4f1c0e9a3b2d7c6e5f8a9b0c\"",
])
def test_codes_dates_and_ids_are_not_personal_data(text) -> None:
    assert find_personal_data(text) == []


def test_all_digit_codes_are_codes() -> None:
    # Institutions' codes (12...) can be all digits and read like an ID number or a card.
    codes = [c for c in (make_uscc("12", "110101", f"{n:08d}") for n in range(19900101, 19900400)) if c.isdigit()]
    assert codes and find_personal_data(" ".join(codes)) == []


def test_planted_forms_are_all_found() -> None:
    """What the hostile factories plant is what this scanner finds: every form of each kind."""
    for _ in range(60):
        found = find_personal_data(f.plant_personal_data("文本"))
        assert [hit.rsplit(" ", 1)[0] for hit in found] == ["resident ID", "mobile phone", "bank card"], found


# Every way of writing each kind the scanner reads, around every kind of neighbour.
GROUPINGS = {"resident ID": [(18,), (6, 8, 4), (6, 4, 4, 4), (4, 4, 4, 4, 2), (3, 3, 4, 4, 4)],
             "old resident ID": [(15,), (6, 6, 3)], "mobile": [(11,), (3, 4, 4)], "card": [(19,), (4,) * 5]}
SEPARATORS = ["", " ", "  ", "-", " -", ".", "·", "\u00a0", "\u3000", "\u2010", "\u2013", "\u2014", "\u2015",
              "\u2212", "－", "．"]
AROUND = [("", ""), ("身份证", "。"), ("Tel", "x"), ("NO", "ab"), ("Mobile", "X"), ("+86 ", "号")]


def test_the_masking_leaves_nothing_the_scanner_finds() -> None:
    """The service's masking against this independent scanner, on every form above: what the
    scanner reads as personal data, the masking must have hidden (and must not fail on)."""
    numbers = {"resident ID": [f.resident_id(0) for _ in range(2)], "old resident ID": [f.resident_id(5) for _ in range(2)],
               "mobile": [f.mobile(0) for _ in range(2)], "card": [f.bank_card(2), f.bank_card(1).replace(" ", "")]}
    left = []
    for kind, groupings in GROUPINGS.items():
        for number, sizes, separator, (before, after) in itertools.product(numbers[kind], groupings, SEPARATORS, AROUND):
            for written in (f.grouped(number, sizes, separator), f.full_width(f.grouped(number, sizes, separator))):
                text = before + written + after
                if find_personal_data(text) and find_personal_data(mask(text).text):
                    left.append(text)
    assert left == []


def test_personal_data_entered_by_departments_and_filers_never_shows(client, unit_of_work, clock) -> None:
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        f.make_organization(session, now=clock.now(), code=f.HUAWEI, name="华为技术有限公司",
                            address="深圳市龙岗区坂田华为基地 联系电话13712345678")
        record = publishing.publish(session, f.HUAWEI, f.violation(internal_notes="当事人身份证11010519491231002X，"
                                                                               "卡号6222021234567890128"),
                                 department_code="SZAMR", now=clock.now()).record
    client.post("/v1/public/objections", json={"record_id": record.id, "reason": "请核实处罚信息",
                                               "contact": "电话 13512345678"})
    bodies = [client.get(path).text for path in (
        f"/v1/public/organizations/{f.HUAWEI}", f"/organizations/{f.HUAWEI}", "/?q=华为",
        "/v1/public/organizations?q=华为", "/lists/black", "/v1/public/lists/black/export")]
    assert all(find_personal_data(body) == [] for body in bodies)
