"""Signed credit reports as the API answers them. The report's claims are sent exactly as they
were signed (these models document them); the JWS is the report itself."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class ReportOrganization(BaseModel):
    code: str = Field(examples=["914403001922038216"])
    name: str = Field(description="The public name (personal data masked)", examples=["华为技术有限公司"])


class ReportLists(BaseModel):
    red: bool
    black: bool


class ReportGrade(BaseModel):
    scheme: str = Field(examples=["default"])
    scheme_version: int | None = Field(description="The scheme version the rating was given under")
    grade: str = Field(examples=["AA"])
    label_zh: str | None = Field(examples=["良好"])
    label_en: str | None = Field(examples=["Good"])
    record_id: str


class ReportSupervision(BaseModel):
    code: Literal["A", "B", "C", "D"]
    name_zh: str = Field(examples=["一般"])
    name_en: str = Field(examples=["ordinary"])
    inspections_per_year: float
    reason: str = Field(description="black_list, red_list, grade or unrated")
    record_id: str | None


class ReportTrigger(BaseModel):
    kind: str = Field(examples=["black_list"])
    record_id: str | None
    record_version: int | None


class ReportMeasure(BaseModel):
    code: str = Field(examples=["procurement_restriction"])
    name_zh: str
    name_en: str
    direction: Literal["incentive", "punishment"]
    basis: str = Field(description="Legal basis")
    applied_by: list[str] = Field(description="Kinds of department that apply it")
    trigger: ReportTrigger
    ends_on: date | None = Field(description="First day it no longer applies; null: while the trigger holds")
    catalogue_version: int


class ReportRecord(BaseModel):
    id: str = Field(examples=["rec_01JD2X3Y4Z5A6B7C8D9E0F1G2H"])
    kind: str = Field(examples=["violation"])
    version: int
    status: str = Field(examples=["active"])
    effective_on: date
    ends_on: date | None
    summary: dict[str, Any] = Field(description="The public summary (personal data masked)")


class CreditReportClaims(BaseModel):
    """What the report says, as signed."""

    report_id: str = Field(examples=["rpt_01JD2X3Y4Z5A6B7C8D9E0F1G2H"])
    issued_at: datetime = Field(description="UTC", examples=["2026-06-15T02:00:00Z"])
    as_of: date = Field(description="The day (China Standard Time) the report describes")
    organization: ReportOrganization
    lists: ReportLists
    grade: ReportGrade | None
    supervision_class: ReportSupervision
    measures: list[ReportMeasure]
    active_violations: int
    records: list[ReportRecord] = Field(description="The public records in force on as_of, newest first")


class CreditReportIssued(BaseModel):
    report_id: str = Field(examples=["rpt_01JD2X3Y4Z5A6B7C8D9E0F1G2H"])
    issued_at: datetime
    jws: str = Field(description="The report: a compact JWS (ES256, typ credit-report+jws) whose key is in "
                                 "/.well-known/credit-report-jwks.json. Save it as a .jws file to verify it later.")
    report: CreditReportClaims = Field(description="The JWS's claims, decoded")
    verify_url: str = Field(description="Where anyone can verify it (also printed as a QR code on the page and PDF)")
    pdf_url: str


class ReportKey(BaseModel):
    kty: Literal["EC"]
    crv: Literal["P-256"]
    x: str
    y: str
    kid: str = Field(examples=["report-es256-20260615T020000Z-1a2b3c"])
    alg: Literal["ES256"]
    use: Literal["sig"]


class ReportKeySet(BaseModel):
    keys: list[ReportKey] = Field(description="Every key that ever signed a report, oldest first")
