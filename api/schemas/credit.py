"""Credit check, bulk check, schemes, measures catalogue and measures applied: the HTTP models."""

from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field

from db.tables import MeasureApplication
from service.credit import checks
from service.credit.checks import CodeProblem
from service.credit.measures import Catalogue, Measure
from service.credit.standing import AppliedMeasure, GradeOnDate, Standing, Supervision
from service.records.fields import DecisionNumber, Readable
from service.rules.clock import Day
from service.rules.grade_schemes import SchemeDefinition, SchemeVersion


class GradeView(BaseModel):
    scheme: str
    scheme_version: int | None = Field(description="The scheme version the rating was given under")
    grade: str
    label_zh: str | None
    label_en: str | None
    record_id: str


class SupervisionView(BaseModel):
    code: Literal["A", "B", "C", "D"] = Field(description="A trusted, B ordinary, C watched, D strictly supervised")
    name_zh: str
    name_en: str
    inspections_per_year: float
    reason: Literal["black_list", "red_list", "grade", "unrated"]
    record_id: str | None = Field(description="The record that decided the class (none when unrated)")

    @classmethod
    def of(cls, supervision: Supervision) -> Self:
        return cls.model_validate(supervision, from_attributes=True)


class TriggerView(BaseModel):
    kind: Literal["black_list", "red_list", "supervision_class", "serious_violation", "grade"]
    record_id: str | None
    record_version: int | None


class MeasureView(BaseModel):
    code: str
    name_zh: str
    name_en: str
    direction: Literal["incentive", "punishment"]
    legal_basis: str
    applied_by: list[str] = Field(description="Kinds of department that apply it")
    trigger: TriggerView
    ends_on: date | None = Field(description="First day it no longer applies; null: while the trigger holds")
    catalogue_version: int

    @classmethod
    def of(cls, measure: AppliedMeasure) -> Self:
        return cls(code=measure.code, name_zh=measure.name_zh, name_en=measure.name_en, direction=measure.direction,
                   legal_basis=measure.basis, applied_by=list(measure.applied_by),
                   trigger=TriggerView.model_validate(measure.trigger, from_attributes=True), ends_on=measure.ends_on,
                   catalogue_version=measure.catalogue_version)


class CreditCheck(BaseModel):
    """What follows from an organization's credit on a date: lists, grade, supervision class and
    the measures that apply (the caller's department kind's first)."""

    code: str
    name: str
    as_of: date
    black_listed: bool
    red_listed: bool
    grade: str | None = Field(description="The grade in force (see grade_detail)")
    grade_scheme: str | None
    grade_detail: GradeView | None
    supervision_class: SupervisionView
    measures: list[MeasureView]
    active_violations: int

    @classmethod
    def of(cls, standing: Standing) -> Self:
        grade: GradeOnDate | None = standing.grade
        return cls(code=standing.code, name=standing.name, as_of=standing.as_of, black_listed=standing.black_listed,
                   red_listed=standing.red_listed, grade=grade.grade if grade else None,
                   grade_scheme=grade.scheme if grade else None,
                   grade_detail=GradeView.model_validate(grade, from_attributes=True) if grade else None,
                   supervision_class=SupervisionView.of(standing.supervision),
                   measures=[MeasureView.of(m) for m in standing.measures],
                   active_violations=standing.active_violations)


Purpose = Annotated[str, Field(min_length=1, max_length=200, examples=["招标项目 ZB-2026-0815 投标人资格审查"]),
                    Readable]


class BulkCheckRequest(BaseModel):
    codes: list[Annotated[str, Field(max_length=64)]] = Field(
        min_length=1, max_length=checks.MAX_CODES,
        description=f"Up to {checks.MAX_CODES} USCCs or legacy codes in any typed form; answered in this order")
    as_of: Day | None = Field(default=None, description="Answer as the registry stood at the end of this day")
    purpose: Purpose = Field(description="Why the check is made (a tender, a licence, a loan); kept in the audit")


class CodeError(BaseModel):
    status: int
    title: str
    detail: str


class BulkCheckResult(BaseModel):
    input: str = Field(description="The code as sent")
    check: CreditCheck | None = None
    error: CodeError | None = None

    @classmethod
    def of(cls, typed: str, result: Standing | CodeProblem) -> Self:
        if isinstance(result, CodeProblem):
            return cls(input=typed, error=CodeError(status=result.status, title=result.title, detail=result.detail))
        return cls(input=typed, check=CreditCheck.of(result))


class BulkCheckAnswer(BaseModel):
    as_of: date
    purpose: str
    checked_at: datetime
    results: list[BulkCheckResult]
    found: int
    errors: int


class MeasureApplicationCreate(BaseModel):
    measure: str = Field(max_length=64, description="The measure's code in the catalogue in force on decided_on",
                         examples=["procurement_restriction"])
    decision_no: DecisionNumber = Field(description="The applying department's own decision number")
    decided_on: Day
    trigger_record_id: str = Field(max_length=40, description="The record that triggered the measure; its "
                                   "department is told (event measure.applied)")
    note: Annotated[str, Field(max_length=1000), Readable] | None = None


class MeasureApplicationView(BaseModel):
    id: str
    organization: str
    measure: str
    catalogue_version: int
    department: str
    decision_no: str
    decided_on: date
    trigger_record_id: str
    note: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: MeasureApplication) -> Self:
        return cls(id=row.id, organization=row.organization_uscc, measure=row.measure_code,
                   catalogue_version=row.catalogue_version, department=row.department_code,
                   decision_no=row.decision_no, decided_on=row.decided_on,
                   trigger_record_id=row.trigger_record_id, note=row.note, created_at=row.created_at)


class GradeSchemeVersionView(BaseModel):
    code: str
    version: int
    effective_from: date
    definition: SchemeDefinition

    @classmethod
    def of(cls, version: SchemeVersion) -> Self:
        return cls(code=version.code, version=version.version, effective_from=version.effective_from,
                   definition=version.definition)


class CatalogueView(BaseModel):
    version: int
    effective_from: date
    measures: list[Measure]

    @classmethod
    def of(cls, catalogue: Catalogue) -> Self:
        return cls(version=catalogue.version, effective_from=catalogue.effective_from, measures=catalogue.measures)


class MeasureCount(BaseModel):
    measure: str
    department: str
    count: int
