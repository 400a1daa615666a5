"""A demo dataset: departments, organizations with valid USCCs across provinces, and records of
every kind (ratings, violations of all severities, disclosures, red and black list entries, product
spot checks that passed and that failed).

Generated from a seed, so two loads with the same seed and date are identical. It goes through
the same service functions as real writes, so versions, rules and events are exactly as in use.
Real, well-known companies get ratings only; every violation and black listing goes to an
invented company, so the demo never says something false about a real one.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from pydantic import HttpUrl
from sqlmodel import Session

from db.repositories.organizations import OrganizationRepository
from service.codes import USCC_ALPHABET, make_uscc
from service.errors import DuplicateRecord
from service.organizations import master_data
from service.organizations.master_data import OrganizationFields
from service.records import publishing, rows
from service.records.fields import (
    DisclosureFields,
    FailedItem,
    InspectionFields,
    ListEntryFields,
    PenaltyType,
    RatingFields,
    RecordFields,
    Severity,
    ViolationFields,
)
from service.rules import reference

DEPARTMENTS = (
    ("SZAMR", "深圳市市场监督管理局", "Shenzhen Administration for Market Regulation", "market_regulation", "440300"),
    ("GDAMR", "广东省市场监督管理局", "Guangdong Administration for Market Regulation", "market_regulation", "440000"),
    ("BJAMR", "北京市市场监督管理局", "Beijing Administration for Market Regulation", "market_regulation", "110000"),
    ("FJAMR", "福建省市场监督管理局", "Fujian Administration for Market Regulation", "market_regulation", "350000"),
    ("SZTAX", "国家税务总局深圳市税务局", "Shenzhen Tax Service, STA", "tax", "440300"),
    ("GZCUSTOMS", "中华人民共和国广州海关", "Guangzhou Customs District", "customs", "440100"),
)
MARKET_REGULATORS = ("SZAMR", "GDAMR", "BJAMR", "FJAMR")

# Real companies with their public codes (domain.md §2.1, mission-anchors §1.3).
KNOWN = (
    ("914403001922038216", "华为技术有限公司", "徐直军", "通信设备制造"),
    ("91440300708461136T", "深圳市腾讯计算机系统有限公司", "马化腾", "软件和信息技术服务"),
    ("91440300192317458F", "比亚迪股份有限公司", "王传福", "汽车制造"),
    ("91110000710926094P", "中国石油化工股份有限公司", "马永生", "石油加工"),
)

CITIES = (
    ("440300", "深圳"), ("440100", "广州"), ("441900", "东莞"), ("110105", "北京"), ("310115", "上海"),
    ("330100", "杭州"), ("320500", "苏州"), ("350100", "福州"), ("350200", "厦门"), ("370200", "青岛"),
    ("420100", "武汉"), ("510100", "成都"), ("500000", "重庆"), ("610100", "西安"), ("210100", "沈阳"),
    ("130100", "石家庄"), ("120000", "天津"), ("430100", "长沙"), ("410100", "郑州"), ("340100", "合肥"),
)
BRAND_CHARS = "华兴盛达恒通泰安宏信鑫源佳美丰瑞康宁晨光远博创力新永嘉昌隆和锦天海明德正"
INDUSTRIES = (
    ("电子科技", "电子元器件制造"), ("食品", "食品制造"), ("机械制造", "通用设备制造"), ("建材", "建筑材料"),
    ("家电", "家用电器制造"), ("纺织", "纺织业"), ("化工", "化学原料制造"), ("医疗器械", "医疗器械制造"),
    ("五金制品", "金属制品业"), ("包装材料", "包装制造"), ("照明电器", "照明器具制造"), ("玩具", "玩具制造"),
)
SUFFIXES = ("有限公司", "有限公司", "有限公司", "股份有限公司")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许邓冯韩曹"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红"

VIOLATION_CATEGORIES = (
    ("产品质量抽查不合格", "《中华人民共和国产品质量法》第四十九条"),
    ("生产销售不符合保障人体健康标准的产品", "《中华人民共和国产品质量法》第四十九条"),
    ("在产品中掺杂、掺假", "《中华人民共和国产品质量法》第五十条"),
    ("伪造产品产地、冒用认证标志", "《中华人民共和国产品质量法》第五十三条"),
    ("未按规定标注产品标识", "《中华人民共和国产品质量法》第五十四条"),
    ("生产不符合食品安全标准的食品", "《中华人民共和国食品安全法》第一百二十四条"),
)


@dataclass
class OrganizationPlan:
    code: str
    fields: OrganizationFields
    region_code: str
    records: list[tuple[str, RecordFields]] = field(default_factory=list)  # (department, fields)


def _name(rng: random.Random) -> tuple[str, str, str]:
    region, city = rng.choice(CITIES)
    brand = "".join(rng.sample(BRAND_CHARS, rng.choice((2, 2, 3))))
    industry, industry_label = rng.choice(INDUSTRIES)
    return region, f"{city}市{brand}{industry}{rng.choice(SUFFIXES)}", industry_label


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _day(rng: random.Random, today: date, *, back_days: int) -> date:
    return today - timedelta(days=rng.randrange(1, back_days))


def _regulator(rng: random.Random, region: str) -> str:
    if region.startswith("4403"):
        return "SZAMR"
    if region.startswith("44"):
        return "GDAMR"
    if region.startswith("11"):
        return "BJAMR"
    if region.startswith("35"):
        return "FJAMR"
    return rng.choice(MARKET_REGULATORS)


def _rating(rng: random.Random, today: date, grades: str) -> RatingFields:
    evaluated = _day(rng, today, back_days=700)
    return RatingFields(grade=rng.choice(grades.split()), score=Decimal(str(round(rng.uniform(55, 99), 1))),
                        standard="GB/T 31863-2015", evaluated_on=evaluated,
                        valid_until=evaluated + timedelta(days=3 * 365))


def _violation(rng: random.Random, today: date, serial: int, *, severity: Severity) -> ViolationFields:
    category, basis = rng.choice(VIOLATION_CATEGORIES)
    decided = _day(rng, today, back_days={"minor": 200, "general": 500, "serious": 1300}[severity])
    fine = rng.choice((5000, 20000, 50000, 100000, 300000)) * (3 if severity == "serious" else 1)
    penalty_types: list[PenaltyType] = (["warning"] if severity == "minor" and rng.random() < 0.3
                                        else ["warning", "fine"])
    if severity == "serious":
        penalty_types = ["fine", "confiscation"]
        if rng.random() < 0.5:
            penalty_types.append("suspension")
    has_fine = "fine" in penalty_types
    return ViolationFields(
        decision_no=f"市监罚〔{decided.year}〕{serial}号", decided_on=decided,
        authority="市场监督管理局", category=category, legal_basis=basis,
        penalty=("警告" if not has_fine else f"罚款人民币{fine:,}元") + ("，没收违法所得" if "confiscation" in
                                                                    penalty_types else ""),
        penalty_types=penalty_types, severity=severity, fine_amount=Decimal(fine) if has_fine else None,
        internal_notes="案件来源：监督抽查；当事人联系电话已存档",
    )


PRODUCTS = (
    ("电线电缆", "聚氯乙烯绝缘电缆", "BV 2.5mm²", "GB/T 5023.3-2008", "导体电阻", "4.12", "≤3.08", "Ω/km"),
    ("电器附件", "移动式插座", "10A 250V", "GB/T 2099.7-2015", "插头插套拔出力", "1.2", "≥1.5", "N"),
    ("儿童用品", "塑胶玩具", "3岁以上", "GB 6675.1-2014", "可迁移元素（铅）", "120", "≤90", "mg/kg"),
    ("家用电器", "电热水壶", "1.7L 1800W", "GB 4706.19-2008", "发热", "89", "≤75", "K"),
    ("食品相关产品", "不锈钢餐具", "304", "GB 4806.9-2016", "重金属（铬）", "2.6", "≤2.0", "mg/kg"),
)


def _inspection(seed: int, serial: int, today: date, brand: str) -> InspectionFields:
    """A spot check of one of the company's products: about four in ten fail. Its own random stream,
    so the rest of the dataset stays what it was before spot checks were added."""
    rng = random.Random(seed * 100_003 + serial)
    category, product, model, standard, item, measured, required, unit = rng.choice(PRODUCTS)
    published = _day(rng, today, back_days=400)
    sampled = published - timedelta(days=rng.randrange(20, 90))
    failed = rng.random() < 0.4
    return InspectionFields(
        product_name=product, brand=brand, model=model, batch=f"{sampled:%Y%m%d}",
        produced_on=sampled - timedelta(days=rng.randrange(10, 120)), product_category=category,
        authority="市场监督管理局", plan_level=rng.choice(("national", "provincial", "city")),
        plan_no=f"市监抽〔{published.year}〕{rng.randrange(1, 60)}号", report_no=f"JC{published.year}-{serial:06d}",
        testing_body="产品质量监督检验研究院", standards=[standard], result="fail" if failed else "pass",
        failed_items=[FailedItem(item=item, measured=measured, required=required, unit=unit)] if failed else [],
        sampled_on=sampled, published_on=published)


def plan(count: int, *, today: date, seed: int = 2026) -> Iterator[OrganizationPlan]:
    """The organizations to load: the known companies first, then ``count`` invented ones."""
    rng = random.Random(seed)
    for code, name, representative, industry in KNOWN:
        yield OrganizationPlan(code, OrganizationFields(name=name, legal_representative=representative,
                                                        industry=industry), code[2:8],
                               [(_regulator(rng, code[2:8]), _rating(rng, today, "AAA AA"))])
    for serial in range(1, count + 1):
        region, name, industry = _name(rng)
        body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
        organization = OrganizationPlan(
            make_uscc("91", region, body),
            OrganizationFields(name=name, legal_representative=_person(rng), industry=industry,
                               address=f"{name[:2]}市某区某路{rng.randrange(1, 999)}号"),
            region,
        )
        regulator = _regulator(rng, region)
        roll = rng.random()
        if roll < 0.45:
            organization.records.append((regulator, _rating(rng, today, "AAA AA A B C D")))
        if roll > 0.75:
            severity: Severity = rng.choice(("minor", "general", "serious"))
            organization.records.append((regulator, _violation(rng, today, serial, severity=severity)))
        if roll > 0.95:
            decided = _day(rng, today, back_days=900)
            organization.records.append((regulator, ListEntryFields(
                list="black", reason="因严重违法行为受到较重行政处罚，列入严重违法失信名单",
                legal_basis="《市场监督管理严重违法失信名单管理办法》第二条", decision_no=f"市监列严〔{decided.year}〕{serial}号",
                effective_on=decided)))
        elif 0.30 < roll < 0.38:
            decided = _day(rng, today, back_days=700)
            organization.records.append((regulator, ListEntryFields(
                list="red", reason="质量信用评价优秀，获评质量诚信示范企业", legal_basis="省质量强省工作方案",
                decision_no=f"质红〔{decided.year}〕{serial}号", effective_on=decided)))
        if 0.20 < roll < 0.30:
            organization.records.append((regulator, _inspection(seed, serial, today, name.split("市", 1)[-1][:2])))
        if 0.10 < roll < 0.20:
            organization.records.append(("SZAMR" if region.startswith("4403") else regulator, DisclosureFields(
                kind="quality_credit_report", title=f"{name}{today.year - 1}年度质量信用报告",
                url=HttpUrl(f"https://example.org/reports/{serial}.pdf"),
                published_on=_day(rng, today, back_days=300))))
        yield organization


def ensure_departments(session: Session, *, now: datetime) -> None:
    reference.ensure_defaults(session, now=now)
    for code, name, name_en, kind, region in DEPARTMENTS:
        if reference.find_department(session, code) is None:
            reference.add_department(session, code=code, name=name, name_en=name_en, kind=kind,
                                     region_code=region, now=now)


def is_loaded(session: Session) -> bool:
    return not OrganizationRepository(session).is_empty()


def load(session: Session, organization: OrganizationPlan, *, now: datetime) -> None:
    master_data.register(session, organization.code, organization.fields, now=now)
    for department, fields in sorted(organization.records, key=lambda r: rows.decision_date(r[1])):
        try:
            publishing.publish(session, organization.code, fields, department_code=department, now=now)
        except DuplicateRecord:
            continue  # a re-run of the same seed: the decision is already in
