"""Plain typed factories with keyword overrides; each writes through the real service functions."""

import itertools
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from db.tables import Department, Organization
from service import organizations, reference
from service.codes import make_uscc
from service.organizations import OrganizationFields
from service.record_fields import DisclosureFields, ListEntryFields, RatingFields, ViolationFields

_serial = itertools.count(1)

HUAWEI = "914403001922038216"


def make_department(session: Session, *, now: datetime, code: str = "SZAMR", **overrides: Any) -> Department:
    values = {"name": "深圳市市场监督管理局", "kind": "market_regulation", "region_code": "440300"} | overrides
    return reference.add_department(session, code=code, now=now, **values)


def new_uscc(region: str = "440300") -> str:
    return make_uscc("91", region, f"MA{next(_serial):06d}")


def make_organization(session: Session, *, now: datetime, code: str | None = None, **overrides: Any) -> Organization:
    fields = OrganizationFields(**({"name": "深圳市华兴电子科技有限公司", "legal_representative": "王伟",
                                    "address": "深圳市南山区科技园1号"} | overrides))
    return organizations.register(session, code or new_uscc(), fields, now=now)


def rating(**overrides: Any) -> RatingFields:
    return RatingFields(**({"grade": "AA", "score": "88.5", "standard": "GB/T 31863-2015",
                            "evaluated_on": date(2026, 3, 1)} | overrides))


def violation(**overrides: Any) -> ViolationFields:
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
    return ViolationFields(**(values | overrides))


def disclosure(**overrides: Any) -> DisclosureFields:
    return DisclosureFields(**({"kind": "quality_credit_report", "title": "2025年度质量信用报告",
                                "url": "https://example.org/report.pdf", "published_on": date(2026, 4, 1)}
                               | overrides))


def list_entry(list_name: str = "black", **overrides: Any) -> ListEntryFields:
    values = {
        "list": list_name,
        "reason": "严重违法失信" if list_name == "black" else "质量诚信示范企业",
        "legal_basis": "《市场监督管理严重违法失信名单管理办法》第二条",
        "decision_no": f"列〔2026〕{next(_serial)}号",
        "effective_on": date(2026, 5, 10),
    }
    return ListEntryFields(**(values | overrides))
