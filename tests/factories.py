"""Plain typed factories with keyword overrides; each writes through the real service functions."""

import itertools
import random
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from db.tables import Department, Organization
from service.codes import make_uscc, uscc_check_character
from service.organizations import master_data
from service.organizations.master_data import OrganizationFields
from service.records.fields import (
    DisclosureFields,
    InspectionFields,
    ListEntryFields,
    RatingFields,
    ViolationFields,
)
from service.rules import reference

_serial = itertools.count(1)

HUAWEI = "914403001922038216"


def make_department(session: Session, *, now: datetime, code: str = "SZAMR", **overrides: Any) -> Department:
    values = {"name": "深圳市市场监督管理局", "kind": "market_regulation", "region_code": "440300"} | overrides
    return reference.add_department(session, code=code, now=now, **values)


def new_uscc(region: str = "440300") -> str:
    return make_uscc("91", region, f"MA{next(_serial):06d}")


def organization(*, hostile: bool = False, **overrides: Any) -> OrganizationFields:
    values = {"name": "深圳市华兴电子科技有限公司", "legal_representative": "王伟", "address": "深圳市南山区科技园1号"} | overrides
    return OrganizationFields(**_planted("organization", values, hostile))


def make_organization(session: Session, *, now: datetime, code: str | None = None, hostile: bool = False,
                      **overrides: Any) -> Organization:
    return master_data.register(session, code or new_uscc(), organization(hostile=hostile, **overrides), now=now)


def rating(*, hostile: bool = False, **overrides: Any) -> RatingFields:
    values = {"grade": "AA", "score": "88.5", "standard": "GB/T 31863-2015", "evaluated_on": date(2026, 3, 1)}
    return RatingFields(**_planted("rating", values | overrides, hostile))


def violation(*, hostile: bool = False, **overrides: Any) -> ViolationFields:
    values = {
        "decision_no": f"深市监罚〔2026〕{next(_serial)}号",
        "decided_on": date(2026, 5, 1),
        "authority": "深圳市市场监督管理局",
        "category": "产品质量抽查不合格",
        "legal_basis": "《中华人民共和国产品质量法》第四十九条",
        "penalty": "警告，罚款人民币5万元",
        "penalty_types": ["warning", "fine"],
        "severity": "general",
        "fine_amount": "50000",
        "internal_notes": "当事人电话 13800000000",
    }
    return ViolationFields(**_planted("violation", values | overrides, hostile))


def disclosure(*, hostile: bool = False, **overrides: Any) -> DisclosureFields:
    values = {"kind": "quality_credit_report", "title": "2025年度质量信用报告", "url": "https://example.org/report.pdf",
              "published_on": date(2026, 4, 1)} | overrides
    if hostile:  # a link can carry numbers too, in the forms a URL can: digits in its path
        values["url"] = f"https://example.org/reports/{resident_id(0)}-{mobile(0)}-{bank_card(0)}.pdf"
        values.setdefault("body", "2025年度质量信用报告全文")
    return DisclosureFields(**_planted("disclosure", values, hostile))


def list_entry(list_name: str = "black", *, hostile: bool = False, **overrides: Any) -> ListEntryFields:
    values = {
        "list": list_name,
        "reason": "严重违法失信" if list_name == "black" else "质量诚信示范企业",
        "legal_basis": "《市场监督管理严重违法失信名单管理办法》第二条",
        "decision_no": f"列〔2026〕{next(_serial)}号",
        "effective_on": date(2026, 5, 10),
    }
    return ListEntryFields(**_planted("list_entry", values | overrides, hostile))


def inspection(result: str = "fail", *, hostile: bool = False, **overrides: Any) -> InspectionFields:
    """A spot-check result (监督抽查); failed unless ``result="pass"``."""
    values: dict[str, Any] = {
        "product_name": "聚氯乙烯绝缘电缆", "brand": "金龙羽", "model": "BV 2.5mm²", "batch": "20260301",
        "produced_on": date(2026, 3, 1), "product_category": "电线电缆", "authority": "广东省市场监督管理局",
        "plan_level": "provincial", "plan_no": "粤市监抽〔2026〕12号", "report_no": f"GDJ2026-{next(_serial):05d}",
        "testing_body": "广东产品质量监督检验研究院", "standards": ["GB/T 5023.3-2008"], "result": result,
        "failed_items": [{"item": "导体电阻", "measured": "4.12", "required": "≤3.08", "unit": "Ω/km"}]
        if result == "fail" else [],
        "sampled_on": date(2026, 4, 10), "published_on": date(2026, 5, 20),
        "internal_notes": "抽样人员电话 13800000000",
    } | overrides
    if hostile:  # the failed items are public too: numbers typed into them must not be shown
        values["failed_items"] = [{k: plant_personal_data(str(v)) for k, v in item.items()}
                                  for item in values["failed_items"]]
    return InspectionFields(**_planted("inspection", values, hostile))


# --- Hostile fixtures: personal data typed into every free-text field --------------------------
# The masking once passed every check because no fixture put personal data where the public could
# see it. ``hostile=True`` plants a resident ID, a mobile and a bank card number in each field
# below, public or not (a field published later is then caught too); tests/test_hostile_fixtures.py
# checks that every free-text field of each kind is listed here.

HOSTILE_FIELDS: dict[str, tuple[str, ...]] = {
    "organization": ("name", "legal_representative", "address", "industry"),
    "rating": ("standard", "internal_notes"),
    "violation": ("decision_no", "authority", "category", "legal_basis", "penalty", "internal_notes"),
    "disclosure": ("title", "body", "internal_notes"),
    "list_entry": ("reason", "legal_basis", "decision_no", "internal_notes"),
    "inspection": ("product_name", "brand", "model", "batch", "product_category", "authority", "plan_no",
                   "report_no", "testing_body", "standards", "internal_notes"),
}

# Seeded: the same tests plant the same numbers on every run, so a failure can be looked into.
_numbers = random.Random(16)
_forms = itertools.count()
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() or c == "X" else "\u3000" if c == " " else c for c in text)


def grouped(number: str, sizes: tuple[int, ...], separator: str) -> str:
    cuts = list(itertools.accumulate(sizes, initial=0))
    return separator.join(number[a:b] for a, b in itertools.pairwise(cuts) if number[a:b])


def resident_id(form: int) -> str:
    """A resident ID number with a right check character (form 5: the old 15-digit one), in one of
    the forms people type it."""
    while True:
        region = _numbers.choice(["110101", "310115", "440305", "350102", "510104", "650102"])
        born = date.fromordinal(_numbers.randint(date(1950, 1, 1).toordinal(), date(1999, 12, 31).toordinal()))
        body = f"{region}{born:%Y%m%d}{_numbers.randrange(1000):03d}"
        number = body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
        if uscc_check_character(number[:17]) != number[17]:  # one that is also a valid code reads as a code
            break
    return (number, grouped(number, (6, 8, 4), " "), grouped(number, (6, 4, 4, 4), "-"), full_width(number),
            full_width(grouped(number, (6, 8, 4), " ")), f"{region}{born:%y%m%d}{body[-3:]}")[form % 6]


def mobile(form: int) -> str:
    """A mobile number, in one of the forms people type it; form 2 with the dash text from Windows'
    GBK code page has (U+2015, where GB18030 has U+2014)."""
    number = f"1{_numbers.choice('3456789')}{_numbers.randrange(10**9):09d}"
    return (number, f"+86 {grouped(number, (3, 4, 4), ' ')}", grouped(number, (3, 4, 4), "\u2015"),
            grouped(number, (3, 4, 4), "."), full_width(number), f"0086{number}")[form % 6]


def bank_card(form: int) -> str:
    """A card number passing Luhn, 13 to 19 digits, as printed (groups of four) or in one run."""
    length = (16, 19, 13, 16, 18, 17)[form % 6]
    body = _numbers.choice(["62", "4", "5"])
    body += "".join(str(_numbers.randrange(10)) for _ in range(length - 1 - len(body)))
    doubled = [int(c) * (2 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body))]
    number = body + str(-sum(d - 9 if d > 9 else d for d in doubled) % 10)
    return (number, grouped(number, (4,) * 5, " "), number, grouped(number, (4,) * 5, "-"),
            full_width(grouped(number, (4,) * 5, " ")), number)[form % 6]


def plant_personal_data(text: str) -> str:
    """``text`` with a resident ID, a mobile and a bank card number typed into it, new numbers and
    other forms on each call."""
    form = next(_forms)
    return f"{text} 身份证{resident_id(form)} 手机{mobile(form + 1)} 卡号{bank_card(form + 2)}".lstrip()


def _planted(kind: str, values: dict[str, Any], hostile: bool) -> dict[str, Any]:
    if not hostile:
        return values
    return values | {name: [plant_personal_data(str(item)) for item in values[name]]
                     if isinstance(values.get(name), list) else plant_personal_data(str(values.get(name) or ""))
                     for name in HOSTILE_FIELDS[kind]}
