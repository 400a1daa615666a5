"""Department API request and response models for organizations and records.

Request models forbid unknown fields (``extra="forbid"``, inherited from the record fields): a
client that sends ``department_code``, ``version``, ``status`` or timestamps gets a 422, so
server-owned fields can never be mass-assigned.
"""

from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PlainValidator

from api.schemas.credit import SupervisionView
from db.tables import Organization
from service.records.fields import (
    DisclosureFields,
    InspectionFields,
    Kind,
    ListEntryFields,
    Placement,
    RatingFields,
    ViolationFields,
    Visibility,
)
from service.records.history import RecordHistory

Reason = Annotated[str, Field(min_length=1, max_length=500)]


class RecordCreate(Placement):
    """A new record as a department sends it: its fields and where it is shown."""

    fields_model: ClassVar[type[BaseModel]]

    def record_fields(self) -> Any:
        """The record's own fields, without where it is shown."""
        return self.fields_model.model_validate(self.model_dump(exclude={"visibility", "shared_with", "code"}))


class RatingCreate(RatingFields, RecordCreate):
    fields_model = RatingFields


class ViolationCreate(ViolationFields, RecordCreate):
    fields_model = ViolationFields


class DisclosureCreate(DisclosureFields, RecordCreate):
    fields_model = DisclosureFields


class InspectionCreate(InspectionFields, RecordCreate):
    fields_model = InspectionFields


class ListEntryCreate(ListEntryFields, RecordCreate):
    fields_model = ListEntryFields
    code: str = Field(min_length=1, max_length=64, description="USCC or legacy code of the organization",
                      examples=["914403001922038216"])


def _json_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("fields must be an object")
    return value


# Validated by service.records.publishing.correct as the corrected record's own kind, which only it knows, so
# the error names that kind's fields. The document still offers the four kinds: declaring them as
# the input type makes pydantic emit, and FastAPI register, their component schemas (a hand-written
# $ref pointed at schemas nothing registered, and the document did not validate).
CorrectedFields = Annotated[dict[str, Any], PlainValidator(
    _json_object, json_schema_input_type=RatingFields | ViolationFields | DisclosureFields | ListEntryFields | InspectionFields)]


class CorrectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(examples=["处罚金额录入错误"])
    fields: CorrectedFields = Field(
        description="The record's complete corrected fields, as when it was created (same kind)")


class WithdrawalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(examples=["行政处罚决定已被复议机关撤销"])


class OrganizationMaster(BaseModel):
    code: str = Field(examples=["914403001922038216"])
    org_code: str = Field(examples=["19220382-1"])
    name: str
    region_code: str
    status: str
    legal_representative: str | None
    address: str | None
    industry: str | None
    check_digit_valid: bool
    registered_by: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, organization: Organization) -> "OrganizationMaster":
        return cls(
            code=organization.uscc, org_code=f"{organization.org_code[:8]}-{organization.org_code[8]}",
            name=organization.name, region_code=organization.region_code, status=organization.status,
            legal_representative=organization.legal_representative, address=organization.address,
            industry=organization.industry, check_digit_valid=organization.check_digit_valid,
            registered_by=organization.registered_by, created_at=organization.created_at,
            updated_at=organization.updated_at,
        )


class VersionView(BaseModel):
    version: int
    department: str
    reason: str | None
    created_at: datetime
    effective_on: date | None
    ends_on: date | None
    content: dict[str, Any]


class StatusChangeView(BaseModel):
    status: str
    reason: str
    changed_at: datetime


class RecordView(BaseModel):
    """A record as a department sees it, with its whole history."""

    id: str
    kind: Kind
    organization: str
    department: str = Field(description="The deciding department (owner)")
    visibility: Visibility
    shared_with: list[str]
    status: str
    status_reason: str | None
    version: int
    effective_on: date
    ends_on: date | None
    rule_set_id: int | None
    details: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    versions: list[VersionView]
    status_changes: list[StatusChangeView]

    @classmethod
    def of(cls, history: RecordHistory) -> "RecordView":
        r = history.record
        return cls(
            id=r.id, kind=r.kind, organization=r.organization_uscc, department=r.department_code,  # type: ignore[arg-type]  # kind: a str column that holds only Kind
            visibility=r.visibility, shared_with=history.shared_with, status=r.status,  # type: ignore[arg-type]  # visibility: likewise
            status_reason=r.status_reason, version=r.version, effective_on=r.effective_on, ends_on=r.ends_on,
            rule_set_id=r.rule_set_id, details=r.details, created_at=r.created_at, updated_at=r.updated_at,
            versions=[VersionView(version=v.version, department=v.department_code, reason=v.reason,
                                  created_at=v.created_at, effective_on=v.effective_on, ends_on=v.ends_on,
                                  content=v.content) for v in history.versions],
            status_changes=[StatusChangeView(status=c.status, reason=c.reason, changed_at=c.changed_at)
                            for c in history.status_changes],
        )


class RecordPage(BaseModel):
    items: list[RecordView]
    next_cursor: str | None
    sync_cursor: str = Field(description="Where the change feed stood when this page was read. After reading "
                             "every page, follow GET /v1/events?after=<sync_cursor of the first page>.")


class OrganizationDepartmentView(BaseModel):
    organization: OrganizationMaster
    records: list[RecordView] = Field(description="Records the calling department may see, with history")
    supervision_class: SupervisionView = Field(description="The supervision class today, as the records the "
                                                           "department may see decide it (the credit check "
                                                           "answers for any date)")
