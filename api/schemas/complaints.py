"""Complaints (投诉举报) as the filer, the handling department and webhook subscribers see them."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from db.tables import Complaint, ComplaintAction
from service.complaints import filing
from service.complaints.filing import Category, Subject
from service.complaints.handling import ComplaintState
from service.records.personal_data import mask

ComplaintId = Annotated[str, Field(pattern=r"^cmp_[0-9A-Z]{26}$", examples=["cmp_01JD2X3Y4Z5A6B7C8D9E0F1G2H"])]


class ComplaintFiled(BaseModel):
    ticket: ComplaintId
    secret: str = Field(description="Needed with the ticket to follow it; shown only in this response")
    status: ComplaintState
    filed_at: datetime
    accept_by: date = Field(description="When the handling department must have accepted or rejected it")
    department: str | None = Field(description="The department handling it; null: the administrators route it")


class ComplaintStatus(BaseModel):
    """What the filer reads back: never a contact; personal data masked in everything written."""

    ticket: ComplaintId
    subject: Subject
    organization: str | None
    product_name: str | None
    brand: str | None
    category: Category
    description: str = Field(description="As filed, personal data masked")
    evidence_count: int
    status: ComplaintState
    filed_at: datetime
    department: str | None = Field(description="Handling it now; null: the administrators' queue")
    accept_by: date
    resolve_by: date | None = Field(description="Once accepted: when the result is due")
    overdue: bool
    accepted_at: datetime | None
    decided_at: datetime | None = Field(description="When it was rejected or closed")
    answer: str | None = Field(description="The reason of a rejection, or the result (personal data masked)")


class ComplaintActionView(BaseModel):
    action: Literal["filed", "accepted", "rejected", "transferred", "closed"]
    department: str | None = Field(description="Who acted; null: the filer (or the administrators routing it)")
    to_department: str | None
    reason: str | None
    at: datetime

    @classmethod
    def of(cls, action: ComplaintAction) -> "ComplaintActionView":
        return cls(action=action.action, department=action.department_code,  # type: ignore[arg-type]
                   to_department=action.to_department, reason=action.reason, at=action.at)


class ComplaintView(BaseModel):
    """A complaint as its handling department sees it."""

    id: ComplaintId
    subject: Subject
    organization: str | None
    product_name: str | None
    brand: str | None
    category: Category
    description: str
    evidence_urls: list[str]
    contact: str | None = Field(description="Personal data, for the handling department only: never passed on")
    anonymous: bool = Field(description="The filer's identity must not be passed on (to the organization or anyone)")
    status: ComplaintState
    department: str | None
    filed_at: datetime
    accept_by: date
    resolve_by: date | None
    overdue: bool
    accepted_at: datetime | None
    decided_at: datetime | None
    answer: str | None
    trail: list[ComplaintActionView] | None = Field(default=None, description="Only when one complaint is read")

    @classmethod
    def of(cls, complaint: Complaint, today: date, *, contact: bool = True,
           trail: list[ComplaintAction] | None = None) -> "ComplaintView":
        # The administrators' queue (``contact=False``) reads what the public status page shows:
        # the filer may have named themselves in the text, and only the handling department may know.
        def shown(text: str | None) -> str | None:
            return text if contact or text is None else mask(text).text

        return cls(
            id=complaint.id, subject=complaint.subject, organization=complaint.organization_uscc,  # type: ignore[arg-type]
            product_name=shown(complaint.product_name), brand=shown(complaint.brand),
            category=complaint.category,  # type: ignore[arg-type]
            description=complaint.description if contact else complaint.public_description,
            evidence_urls=complaint.evidence_urls,
            contact=complaint.contact if contact else None, anonymous=complaint.anonymous,
            status=complaint.status, department=complaint.department_code, filed_at=complaint.filed_at,  # type: ignore[arg-type]
            accept_by=complaint.accept_by, resolve_by=complaint.resolve_by,
            overdue=filing.overdue(complaint, today), accepted_at=complaint.accepted_at,
            decided_at=complaint.decided_at, answer=complaint.answer,
            trail=[ComplaintActionView.of(a) for a in trail] if trail is not None else None)


class ComplaintPage(BaseModel):
    items: list[ComplaintView]
    next_cursor: str | None


# Webhook payloads: ids and departments only, never a contact nor a reason.
class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")

    complaint_id: ComplaintId
    department: str | None = Field(description="The department handling it (the receiver)")


class ComplaintFiledData(_Data):
    subject: Subject
    category: Category
    organization: str | None = Field(description="The organization complained about, or the product's producer")
    accept_by: date


class ComplaintAcceptedData(_Data):
    resolve_by: date


class ComplaintDecidedData(_Data):
    """Rejected or closed: read the reason or result with GET /v1/complaints/{id}."""


class ComplaintTransferredData(_Data):
    from_department: str | None = Field(description="Who handled it before; null: the administrators' queue")
    accept_by: date = Field(description="The new department's acceptance deadline")
