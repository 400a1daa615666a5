"""Personal data typed by a department into any public field never reaches the public (domain.md §5):
not in the JSON, the pages, the lists or their exports, nor in a ticket's public status. The
department that may see the record keeps the original.

The numbers planted here are generated (hypothesis) or written out by hand, and looked for in every
public answer with separators and full-width forms folded away, so a number shown as
"139 1234 5678" or "１３９…" counts as found."""

import itertools
import re
import unicodedata
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.codes import make_uscc
from service.records.personal_data import luhn_valid, mask, resident_id_check_valid
from tests import factories as f

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_check(body: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def _luhn_check(body: str) -> str:
    return next(d for d in "0123456789" if luhn_valid(body + d))


# --- Generated personal data, in the forms people type it --------------------------------------

regions = st.sampled_from(["110101", "310115", "440305", "350102", "510104", "650102", "820000"])


separators = st.sampled_from(["", " ", "-", ".", "·", "\u00a0", "\t", "  "])


@st.composite
def resident_ids(draw) -> str:
    birth = draw(st.dates(min_value=date(1920, 1, 1), max_value=date(2012, 12, 31)))
    body = draw(regions) + birth.strftime("%Y%m%d") + draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    if draw(st.booleans()):
        number = body + _id_check(body)
    else:  # a typo is still a person's number
        number = body + draw(st.sampled_from([c for c in "0123456789X" if c != _id_check(body)]))
    sep = draw(separators)
    groups = draw(st.sampled_from([(18,), (6, 8, 4), (6, 4, 4, 4), (4, 4, 4, 4, 2)]))
    cuts = [sum(groups[:i]) for i in range(len(groups) + 1)]
    return sep.join(number[a:b] for a, b in itertools.pairwise(cuts))


@st.composite
def old_resident_ids(draw) -> str:
    birth = draw(st.dates(min_value=date(1920, 1, 1), max_value=date(1999, 12, 31)))
    return draw(regions) + birth.strftime("%y%m%d") + draw(st.from_regex(r"[0-9]{3}", fullmatch=True))


@st.composite
def mobiles(draw) -> str:
    number = draw(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
    sep = draw(separators)
    shown = f"{number[:3]}{sep}{number[3:7]}{sep}{number[7:]}"
    return draw(st.sampled_from(["", "+86 ", "+86-", "86", "0086 "])) + shown


@st.composite
def landlines(draw) -> str:
    area = draw(st.sampled_from(["010", "021", "0755", "0591", "0931"]))
    local = draw(st.from_regex(r"[2-8][0-9]{7}" if len(area) == 3 else r"[2-8][0-9]{6,7}", fullmatch=True))
    return draw(st.sampled_from([f"{area}-{local}", f"({area}){local}", f"{area} {local}", f"{area}{local}"]))


@st.composite
def bank_cards(draw) -> str:
    length = draw(st.integers(min_value=13, max_value=19))
    body = draw(st.sampled_from(["62", "4", "5"]))
    body += draw(st.from_regex(rf"[0-9]{{{length - len(body) - 1}}}", fullmatch=True))
    number = body + _luhn_check(body)
    if draw(st.booleans()):
        return " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    return number


@st.composite
def emails(draw) -> str:
    local = draw(st.from_regex(r"[a-z][a-z0-9._]{2,12}[a-z0-9]", fullmatch=True))
    return f"{local}@{draw(st.sampled_from(['qq.com', '163.com', 'gmail.com', 'sina.cn']))}"


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


personal_data = st.one_of(resident_ids(), old_resident_ids(), mobiles(), landlines(), bank_cards(), emails())
typed = personal_data.flatmap(lambda value: st.sampled_from([value, full_width(value)]))
chinese = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), max_size=12)


def _folded(text: str) -> str:
    return re.sub(r"[\s\-()（）+.·]", "", unicodedata.normalize("NFKC", text))


def leaked(planted: str, text: str) -> bool:
    """Whether ``planted`` shows in ``text`` in any spacing or width; an e-mail address by its local part."""
    wanted = _folded(planted)
    if "@" in wanted:
        return wanted.split("@")[0] + "@" in _folded(text)
    digits = re.sub(r"^(0086|86)(?=1[3-9]\d{9}$)", "", wanted)  # +86 may be dropped: the number must not stay
    return digits in _folded(text)


# --- The masking itself -------------------------------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(before=chinese, planted=typed, after=chinese)
def test_generated_personal_data_in_chinese_text_is_masked(before, planted, after) -> None:
    masked = mask(f"{before}{planted}{after}")
    assert masked.kinds, f"{planted!r} was not recognized"
    assert not leaked(planted, masked.text)
    assert masked.text.startswith(before) and masked.text.endswith(after)  # the rest of the text is kept


@pytest.mark.parametrize(("text", "shown"), [
    ("当事人身份证号11010519491231002X，", "当事人身份证号110105********002X，"),
    ("身份证 110105194912310021 有误", "身份证 110105********0021 有误"),  # wrong check character
    ("旧证 110105491231002", "旧证 110105*****1002"),
    ("联系电话：+86 139-1234-5678", "联系电话：139****5678"),
    ("电话１３９１２３４５６７８", "电话139****5678"),
    ("手机139\u00a01234\u00a05678", "手机139****5678"),  # a no-break space, as pasted from a word processor
    ("Tel13912345678", "Tel139****5678"),
    ("身份证号ID110101199003074578", "身份证号ID110101********4578"),
    ("身份证 110101 1990 0307 457X", "身份证 110101********457X"),
    ("1101 0119 9003 0745 78", "110101********4578"),
    ("电话 139·1234·5678", "电话 139****5678"),
    ("座机(0755)2345 6789转801", "座机0755-****6789"),
    ("卡号 6222 0212 3456 7890 128 户名张三", "卡号 6222***********0128 户名张三"),
    ("邮箱 zhang.san@qq.com 联系", "邮箱 z***@qq.com 联系"),
])
def test_each_kind_is_masked_as_common_practice_shows_it(text, shown) -> None:
    assert mask(text).text == shown


@pytest.mark.parametrize("text", [
    "统一社会信用代码914403001922038216", "91440300708461136T", "91350100M000100Y43",
    "深市监罚〔2025〕123号", "京市监处罚〔2026〕0001234号", "2026-06-15 至 2029-06-14", "20260615",
    "罚款人民币50000.00元", "罚款 1,250,000 元", "GB/T 31863-2015", "rec_01M8A3TEHHSQV9NH1M728F178D",
    "客服邮箱 service@huawei.com", "服务热线 400-830-8300", "2024-09-05 2022-09-05", "91440300MA0000031P",
    "121145936862749539",  # an all-digit USCC whose ID check character also fits, with no birth date in it
])
def test_codes_decisions_dates_amounts_and_role_mailboxes_are_kept(text) -> None:
    assert mask(text).text == text


def test_an_all_digit_code_is_a_code_unless_it_is_an_id_number_in_every_way() -> None:
    # All-digit USCCs of Beijing institutions look like ID numbers. Without a birth date in the
    # place of one they stay; with one (Yanqing, 110119, puts 1990-03-07 there), only those whose
    # ID check character also fits are masked: a person's number wins that tie.
    undated = [c for c in (make_uscc("12", "110101", f"{n:08d}") for n in range(19900101, 19900300)) if c.isdigit()]
    assert undated and all(mask(c).text == c for c in undated)
    dated = [c for c in (make_uscc("12", "110119", f"900307{n:02d}") for n in range(100)) if c.isdigit()]
    tied = [c for c in dated if resident_id_check_valid(c)]
    assert tied and all(mask(c).kinds == {"resident_id"} for c in tied)
    assert all(mask(c).text == c for c in dated if c not in tied)


def test_a_national_authoritys_code_and_a_number_of_no_province_are_kept() -> None:
    # A USCC of a national authority (positions 3-4 "10"), all digits and passing Luhn like a card;
    # and an ID number's shape with a birth date in it, but starting with no province's code.
    for text in ("统一社会信用代码121000000000000277", "编号200101199003070000"):
        assert mask(text).text == text
    # The ID check character, against GB 11643's own example, not this module's arithmetic.
    assert resident_id_check_valid("11010519491231002X") and not resident_id_check_valid("110105194912310021")


# --- Every public route, with every kind planted in every public field --------------------------

ID = "11010519491231002X"
MOBILE = "139 1234 5678"
CARD = "6222021234567890128"
EMAIL = "li.si1990@163.com"
LANDLINE = "0755-23456789"
PLANTED = (ID, MOBILE, CARD, EMAIL, LANDLINE)
HOSTILE = f"身份证{ID} 电话{MOBILE} 卡号{CARD} 邮箱{EMAIL} 座机{LANDLINE}"


@pytest.fixture
def hostile(client, client_for, unit_of_work, clock):
    """An organization whose every public field a department filled with personal data."""
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
    writer = client_for("SZAMR", "records:write", "records:read", "lists:write", "objections:handle")
    code = f.new_uscc()
    organization = {"name": f"深圳市张三{MOBILE}电子商行", "legal_representative": f"张三 {ID}",
                    "address": "深圳市南山区"}
    assert client.put(f"/v1/organizations/{code}", json=organization, headers=writer).status_code in (200, 201)
    created = {
        "violation": client.post(f"/v1/organizations/{code}/violations", headers=writer, json={
            "decision_no": "深市监罚〔2026〕77号", "decided_on": "2026-05-01", "authority": f"市监局 {LANDLINE}",
            "category": f"产品质量 {EMAIL}", "legal_basis": "《产品质量法》第四十九条", "penalty": HOSTILE,
            "penalty_types": ["fine"], "severity": "general", "fine_amount": "50000"}),
        "black": client.post("/v1/list-entries", headers=writer, json={
            "code": code, "list": "black", "reason": HOSTILE, "legal_basis": f"办法第二条 {CARD}",
            "decision_no": "列〔2026〕77号", "effective_on": "2026-05-10"}),
        "disclosure": client.post(f"/v1/organizations/{code}/disclosures", headers=writer, json={
            "kind": "commitment", "title": f"信用承诺 {MOBILE}", "body": HOSTILE, "published_on": "2026-05-02"}),
    }
    for kind, response in created.items():
        assert response.status_code == 201, (kind, response.text)
    return code, writer, {kind: response.json()["id"] for kind, response in created.items()}


def _public_answers(client, code: str) -> dict[str, str]:
    return {path: client.get(path).text for path in (
        f"/v1/public/organizations/{code}", f"/organizations/{code}", f"/organizations/{code}?lang=en",
        "/v1/public/organizations?q=张三", "/?q=张三", "/v1/public/organizations?q=电子商行",
        "/v1/public/lists/black", "/lists/black", "/v1/public/lists/black?region=440300",
        "/v1/public/lists/black/export?format=csv", "/v1/public/lists/black/export?format=ndjson")}


def test_every_public_route_masks_every_kind_in_every_field(client, hostile) -> None:
    code, _, _ = hostile
    answers = _public_answers(client, code)
    assert "张三" in answers[f"/v1/public/organizations/{code}"]  # the organization is really shown
    for path, body in answers.items():
        for planted in PLANTED:
            assert not leaked(planted, body), f"{planted} published at {path}"


def test_a_public_answer_says_which_fields_were_masked(client, hostile) -> None:
    code, _, ids = hostile
    profile = client.get(f"/v1/public/organizations/{code}").json()
    assert sorted(profile["masked_fields"]) == ["legal_representative", "name"]
    masked = {r["id"]: r["masked_fields"] for r in profile["records"]}
    assert masked[ids["violation"]] == ["authority", "category", "penalty"]
    assert masked[ids["black"]] == ["reason", "legal_basis"]
    assert masked[ids["disclosure"]] == ["title", "body"]
    assert profile["legal_representative"] == "张三 110105********002X"
    entry = client.get("/v1/public/lists/black").json()["items"][0]
    assert entry["masked_fields"] == ["name", "reason", "legal_basis"]
    hit = client.get("/v1/public/organizations", params={"q": "张三"}).json()["items"][0]
    assert hit["masked_fields"] == ["name"] and hit["name"] == "深圳市张三139****5678电子商行"
    assert "masked_fields" in client.get("/v1/public/lists/black/export?format=csv").text.splitlines()[0]


def test_the_department_keeps_the_original(client, hostile) -> None:
    code, writer, ids = hostile
    record = client.get(f"/v1/records/{ids['violation']}", headers=writer).json()
    assert record["details"]["penalty"] == HOSTILE
    master = client.get(f"/v1/organizations/{code}", headers=writer).json()["organization"]
    assert master["legal_representative"] == f"张三 {ID}" and MOBILE in master["name"]


def test_a_correction_is_masked_again(client, hostile) -> None:
    code, writer, ids = hostile
    fields = client.get(f"/v1/records/{ids['violation']}", headers=writer).json()["details"]
    fields |= {"penalty": "罚款五万元", "authority": "市监局", "category": f"质量 {ID}"}
    response = client.post(f"/v1/records/{ids['violation']}/corrections", headers=writer,
                           json={"fields": fields, "reason": "更正"})
    assert response.status_code == 200, response.text
    record = next(r for r in client.get(f"/v1/public/organizations/{code}").json()["records"]
                  if r["id"] == ids["violation"])
    assert record["summary"]["penalty"] == "罚款五万元" and record["masked_fields"] == ["category"]
    assert not leaked(ID, str(record))


def test_a_ticket_status_masks_the_departments_answer(client, hostile) -> None:
    _, writer, ids = hostile
    filed = client.post("/v1/public/objections", json={"record_id": ids["violation"], "reason": "处罚信息有误请核实",
                                                       "contact": "王五 13512345678"}).json()
    decided = client.post(f"/v1/objections/{filed['ticket']}/decision", headers=writer,
                          json={"outcome": "upheld", "reason": f"经核实无误，如有疑问请致电 {MOBILE}"})
    assert decided.status_code == 200, decided.text
    status = client.get(f"/v1/public/objections/{filed['ticket']}", headers={"Ticket-Secret": filed["secret"]})
    assert status.status_code == 200 and "139****5678" in status.json()["decision_reason"]
    assert not leaked(MOBILE, status.text) and not leaked("13512345678", status.text)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=chinese, planted=typed, after=chinese)
def test_generated_personal_data_pushed_through_the_api_is_never_published(client, hostile, before, planted,
                                                                            after) -> None:
    code, writer, _ = hostile
    number = len(client.get(f"/v1/public/organizations/{code}").json()["records"])
    response = client.post(f"/v1/organizations/{code}/violations", headers=writer, json={
        "decision_no": f"深市监罚〔2026〕{number + 1000}号", "decided_on": "2026-05-01", "authority": "市监局",
        "category": "产品质量", "legal_basis": "《产品质量法》", "penalty": f"{before}{planted}{after}",
        "penalty_types": ["fine"], "severity": "general", "fine_amount": "100"})
    assert response.status_code == 201, response.text
    for path in (f"/v1/public/organizations/{code}", f"/organizations/{code}"):
        assert not leaked(planted, client.get(path).text), f"{planted!r} published at {path}"
