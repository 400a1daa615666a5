"""The measures catalogue (守信联合激励、失信联合惩戒措施清单), versioned: each measure's trigger, the
kinds of department that apply it, its legal basis and how long it lasts. A credit check on a
date reads the version in force on that date, so an answer given once is given again.

The shipped catalogue follows the published national lists (国发〔2016〕33号 on joint rewards
and punishments; 国办发〔2020〕49号 on the boundaries of punishment; SAMR Order 44 on the serious
violation list; the Government Procurement Law Art. 22) and provincial practice; each measure
names its basis.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session

from db.repositories.reference import ReferenceRepository
from db.tables import MeasureCatalogue
from service.credit.standing import Direction, TriggerKind
from service.errors import InvalidRecord
from service.records.fields import Readable, SchemeCode, ShortText, StorableFields
from service.rules.department_kinds import DepartmentKind
from service.rules.grade_schemes import GradeCode, SupervisionClassCode
from service.rules.parsed import parsed

MeasureCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$"), Readable]
TRIGGER_KINDS: tuple[str, ...] = get_args(TriggerKind)


class MeasureTrigger(BaseModel):
    """What makes a measure apply. ``black_list``/``red_list``: an entry on the list in force;
    ``supervision_class``: the organization is in one of ``classes``; ``serious_violation``: a
    serious violation decided within ``within_years``; ``grade``: a rating of one of ``grades``
    in ``scheme`` in force."""

    model_config = ConfigDict(extra="forbid")

    kind: TriggerKind
    classes: list[SupervisionClassCode] | None = None
    scheme: SchemeCode | None = None
    grades: list[GradeCode] | None = None
    within_years: int | None = Field(default=None, ge=1, le=10)

    @model_validator(mode="after")
    def _complete(self) -> "MeasureTrigger":
        needs = {"supervision_class": {"classes"}, "serious_violation": {"within_years"},
                 "grade": {"scheme", "grades"}}.get(self.kind, set())
        given = {name for name in ("classes", "scheme", "grades", "within_years") if getattr(self, name)}
        if missing := needs - given:
            raise ValueError(f"a {self.kind} trigger needs {', '.join(sorted(missing))}")
        if extra := given - needs:
            raise ValueError(f"a {self.kind} trigger takes no {', '.join(sorted(extra))}")
        return self


class Duration(BaseModel):
    """``while_triggered``: as long as the trigger holds; ``years_after``: until ``years`` after the
    trigger took effect, even if the trigger ended earlier (never after a withdrawal or repair)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["while_triggered", "years_after"]
    years: int | None = Field(default=None, ge=1, le=10)

    @model_validator(mode="after")
    def _years(self) -> "Duration":
        if (self.kind == "years_after") != (self.years is not None):
            raise ValueError("years goes with years_after, and only with it")
        return self


class Measure(StorableFields):
    model_config = ConfigDict(extra="forbid")

    code: MeasureCode = Field(examples=["procurement_restriction"])
    name_zh: ShortText
    name_en: ShortText
    direction: Direction
    trigger: MeasureTrigger
    applied_by: list[DepartmentKind] = Field(min_length=1, description="Kinds of department that apply it")
    legal_basis: ShortText
    duration: Duration


class CataloguePublish(StorableFields):
    model_config = ConfigDict(extra="forbid")

    effective_from: date
    measures: list[Measure] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _unique(self) -> "CataloguePublish":
        codes = [m.code for m in self.measures]
        if repeated := sorted({c for c in codes if codes.count(c) > 1}):
            raise ValueError(f"measure codes repeat: {', '.join(repeated)}")
        return self


def _measure(code: str, zh: str, en: str, direction: Direction, trigger: dict[str, object],
             applied_by: list[str], basis: str, duration: dict[str, object] | None = None) -> Measure:
    return Measure.model_validate({"code": code, "name_zh": zh, "name_en": en, "direction": direction,
                                   "trigger": trigger, "applied_by": applied_by, "legal_basis": basis,
                                   "duration": duration or {"kind": "while_triggered"}})


_JOINT = "国发〔2016〕33号《关于建立完善守信联合激励和失信联合惩戒制度加快推进社会诚信建设的指导意见》"
SHIPPED_FROM = date(1949, 10, 1)
SHIPPED: list[Measure] = [
    _measure("procurement_restriction", "限制参加政府采购活动", "Restricted from government procurement",
             "punishment", {"kind": "black_list"}, ["finance", "public_resources"],
             "《中华人民共和国政府采购法》第二十二条; " + _JOINT, {"kind": "years_after", "years": 3}),
    _measure("bidding_restriction", "限制参与工程招标投标", "Restricted from public works bidding",
             "punishment", {"kind": "black_list"}, ["public_resources", "development_reform"],
             "《招标投标法实施条例》第六十七条; " + _JOINT),
    _measure("honours_restriction", "不得参加评先评优、授予荣誉称号", "Excluded from honours and awards",
             "punishment", {"kind": "black_list"}, ["market_regulation", "development_reform", "other"],
             "《市场监督管理严重违法失信名单管理办法》（市场监管总局令第44号）第十二条"),
    _measure("subsidy_restriction", "限制申请财政补助补贴和政策支持", "Restricted from fiscal subsidies and support",
             "punishment", {"kind": "black_list"}, ["finance", "development_reform"],
             "国办发〔2020〕49号; " + _JOINT),
    _measure("serious_violation_subsidy_review", "申请财政资金时从严审核", "Strict review of fiscal funding applications",
             "punishment", {"kind": "serious_violation", "within_years": 3}, ["finance", "development_reform"],
             "国办发〔2020〕49号第三条", {"kind": "years_after", "years": 3}),
    _measure("inspection_increase", "提高抽查比例和频次，列为重点监管对象", "More frequent spot checks; priority supervision",
             "punishment", {"kind": "supervision_class", "classes": ["C", "D"]}, ["market_regulation", "customs"],
             "国发〔2019〕5号《关于在市场监管领域全面推行部门联合“双随机、一公开”监管的意见》"),
    _measure("licence_strict_review", "行政许可从严审查，不适用告知承诺", "Licences reviewed strictly; no approval on pledge",
             "punishment", {"kind": "black_list"}, ["market_regulation", "customs", "other"],
             "市场监管总局令第44号第十二条; " + _JOINT),
    _measure("credit_prudence", "审慎授信，提高贷款利率或保险费率", "Prudent lending; higher rates or premiums",
             "punishment", {"kind": "black_list"}, ["bank", "insurer"], _JOINT),
    _measure("tax_credit_downgrade", "纳税信用直接判为D级", "Tax credit graded D",
             "punishment", {"kind": "black_list"}, ["tax"],
             "《纳税信用管理办法（试行）》第二十条; " + _JOINT),
    _measure("green_channel", "行政审批“绿色通道”和容缺受理", "Green channel and incomplete-file acceptance for approvals",
             "incentive", {"kind": "red_list"}, ["market_regulation", "development_reform", "customs", "other"],
             _JOINT + " 第二条"),
    _measure("fewer_inspections", "减少日常检查频次，“无事不扰”", "Fewer routine inspections",
             "incentive", {"kind": "supervision_class", "classes": ["A"]}, ["market_regulation", "customs"],
             "国发〔2019〕5号; 国办发〔2019〕35号《关于加快推进社会信用体系建设构建以信用为基础的新型监管机制的指导意见》"),
    _measure("support_priority", "优先安排财政资金和政策扶持项目", "Priority in support programmes and funds",
             "incentive", {"kind": "red_list"}, ["finance", "development_reform"], _JOINT + " 第二条"),
    _measure("quality_award_priority", "质量奖评审和品牌培育中优先考虑", "Priority in quality awards and brand programmes",
             "incentive", {"kind": "grade", "scheme": "default", "grades": ["AAA", "AA"]}, ["market_regulation"],
             "《质量发展纲要（2011—2020年）》; 国发〔2014〕质量工作考核办法"),
    _measure("credit_favour", "信贷审批优先、利率优惠", "Priority and better rates in lending",
             "incentive", {"kind": "red_list"}, ["bank"], _JOINT + " 第二条"),
]


@dataclass(frozen=True)
class Catalogue:
    version: int
    effective_from: date
    measures: list[Measure]


def _catalogue(row: MeasureCatalogue) -> Catalogue:
    return Catalogue(row.version, row.effective_from, [parsed(Measure, m) for m in row.measures])


def ensure_shipped(session: Session, *, now: datetime) -> None:
    reference = ReferenceRepository(session)
    if not reference.measure_catalogues():
        reference.add(MeasureCatalogue(version=1, effective_from=SHIPPED_FROM, created_at=now,
                                       measures=[m.model_dump(mode="json") for m in SHIPPED]))


def versions(session: Session) -> list[Catalogue]:
    return [_catalogue(row) for row in ReferenceRepository(session).measure_catalogues()]


_BOOK = "measure_catalogue_book"


def in_force(session: Session, on: date) -> Catalogue | None:
    """The version in force on ``on`` (read once per transaction: a bulk check asks per code)."""
    book: list[Catalogue] | None = session.info.get(_BOOK)
    if book is None:
        book = session.info[_BOOK] = versions(session)
    candidates = [c for c in book if c.effective_from <= on]
    return candidates[-1] if candidates else None


def publish(session: Session, body: CataloguePublish, *, today: date, now: datetime) -> Catalogue:
    """A new version of the whole catalogue, from today on, after the newest version."""
    reference = ReferenceRepository(session)
    latest = reference.latest_measure_catalogue()  # locked: one publisher at a time
    if body.effective_from < today:
        raise InvalidRecord(f"effective_from {body.effective_from} is in the past; a new catalogue applies from "
                            "today on", field="effective_from")
    if latest is not None and body.effective_from <= latest.effective_from:
        raise InvalidRecord(f"version {latest.version} takes effect on {latest.effective_from}; a new version must "
                            "take effect after it", field="effective_from")
    for measure in body.measures:
        trigger = measure.trigger
        if trigger.kind == "grade" and trigger.scheme is not None and trigger.grades:
            _require_grades(session, trigger.scheme, trigger.grades, measure.code)
    row = MeasureCatalogue(version=(latest.version if latest else 0) + 1, effective_from=body.effective_from,
                           measures=[m.model_dump(mode="json") for m in body.measures], created_at=now)
    reference.add(row)
    session.info.pop(_BOOK, None)
    return _catalogue(row)


def _require_grades(session: Session, scheme: str, grades: list[str], code: str) -> None:
    known = {g.code for g in ReferenceRepository(session).grades(scheme)}
    if not known:
        raise InvalidRecord(f"measure {code!r} is triggered by grades of an unknown scheme {scheme!r}",
                            field="measures")
    if unknown := sorted(set(grades) - known):
        raise InvalidRecord(f"measure {code!r} is triggered by grades {', '.join(unknown)} that scheme {scheme!r} "
                            "does not have", field="measures")


def find(session: Session, code: str, on: date) -> tuple[Catalogue, Measure]:
    catalogue = in_force(session, on)
    measure = next((m for m in catalogue.measures if m.code == code), None) if catalogue else None
    if catalogue is None or measure is None:
        raise InvalidRecord(f"no measure {code!r} is in the catalogue in force on {on}", field="measure")
    return catalogue, measure
