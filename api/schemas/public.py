"""What the public API returns. Separate from internal views: only summary fields appear here."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from service.records.fields import Kind


class GradePublic(BaseModel):
    scheme: str = Field(examples=["default"])
    code: str = Field(examples=["AA"])
    label_zh: str | None = Field(examples=["良好"])
    label_en: str | None = Field(examples=["Good"])
    evaluated_on: date
    valid_until: date | None
    department: str = Field(description="Department that gave the grade", examples=["SZAMR"])
    record_id: str


class RecordSummary(BaseModel):
    id: str = Field(examples=["rec_01JD2X3Y4Z5A6B7C8D9E0F1G2H"])
    kind: Kind
    department: str = Field(description="Department that decided the record")
    version: int
    effective_on: date = Field(description="Decision, evaluation, publication or listing date")
    ends_on: date | None = Field(description="Public display ends on this date (exclusive); null = open-ended")
    summary: dict[str, Any] = Field(
        description="The kind's public summary fields (decision no., violation type, penalty, authority, date...)",
        examples=[{"decision_no": "深市监罚〔2025〕123号", "category": "产品质量不合格", "severity": "general"}],
    )
    under_objection: bool = Field(description="An objection (异议中) is pending with the deciding department")
    masked_fields: list[str] = Field(
        default_factory=list, examples=[["penalty"]],
        description="Summary fields in which personal data (ID, phone, bank card numbers, e-mail addresses) "
                    "was masked before publication")


class OrganizationProfile(BaseModel):
    """An organization's public profile."""

    code: str = Field(description="Unified social credit code (canonical)", examples=["914403001922038216"])
    org_code: str = Field(description="Legacy organization code (GB 11714)", examples=["19220382-1"])
    name: str = Field(examples=["华为技术有限公司"])
    region_code: str = Field(description="GB/T 2260 division code of the registering authority",
                             examples=["440300"])
    province_zh: str | None = Field(examples=["广东省"])
    province_en: str | None = Field(examples=["Guangdong"])
    status: str = Field(examples=["operating"])
    status_zh: str = Field(examples=["存续"])
    status_en: str = Field(examples=["Operating"])
    legal_representative: str | None
    check_digit_valid: bool = Field(
        description="False for legally issued pilot codes whose check character does not conform"
    )
    grade: GradePublic | None = Field(description="Current public quality credit grade")
    list_status: Literal["red", "black", "none"]
    records: list[RecordSummary] = Field(description="Active public records, newest first")
    as_of: date = Field(description="The date (China Standard Time) the profile describes")
    masked_fields: list[str] = Field(
        default_factory=list, examples=[["legal_representative"]],
        description="Fields of the organization in which personal data was masked before publication")


class Filed(BaseModel):
    ticket: str = Field(examples=["obj_01JD2X3Y4Z5A6B7C8D9E0F1G2H"])
    secret: str = Field(description="Needed with the ticket to follow it; shown only in this response")
    record_id: str
    status: str = Field(examples=["pending"])
    filed_at: datetime
    deadline: date | None = Field(description="When the department must have answered (objections)")


class TicketStatus(BaseModel):
    ticket: str
    record_id: str
    status: str = Field(examples=["pending", "corrected", "upheld", "withdrawn", "approved", "rejected"])
    filed_at: datetime
    deadline: date | None
    overdue: bool
    decided_at: datetime | None
    decision_reason: str | None
