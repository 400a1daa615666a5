"""What the public files: a complaint or report (投诉举报) about an organization or a product.

Like an objection, a complaint gets a ticket id and a secret (kept only as a SHA-256 hash: it is
32 random bytes). The contact is personal data: the handling department alone reads it, and an
anonymous filer's identity is never passed on. The description is kept as written for the
department and, personal data masked, for the filer's status page.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Literal, get_args

from pydantic import AnyUrl, BaseModel, ConfigDict, Field, UrlConstraints, model_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.ids import new_id
from db.repositories.complaints import ComplaintRepository
from db.tables import Complaint, ComplaintAction, Organization
from service.complaints import routing
from service.errors import Conflict, NotFound
from service.organizations import master_data
from service.public.name_index import fold
from service.records.fields import Readable
from service.records.personal_data import mask
from service.rules.clock import local_date
from service.rules.reference import rule_set_for
from service.sync import event_types, events
from service.tickets.intake import Contact, new_secret, same_filer

Category = Literal["product_quality", "counterfeit", "false_labelling", "service", "other"]
CATEGORIES: tuple[str, ...] = get_args(Category)
Subject = Literal["organization", "product"]
MAX_EVIDENCE = 10

Description = Annotated[str, Field(min_length=10, max_length=4000), Readable]
EvidenceUrl = Annotated[AnyUrl, UrlConstraints(max_length=500, allowed_schemes=["http", "https"], host_required=True)]
TypedCode = Annotated[str, Field(min_length=1, max_length=64)]


class ComplaintNotFound(NotFound):
    title = "Complaint not found"


class ComplaintPending(Conflict):
    """The same filer's complaint about the same organization or product is still open."""

    title = "Complaint already open"


class ComplaintFiling(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    subject: Subject = Field(description="`organization`: about an organization (give `organization`); `product`: "
                                         "about a product (give `product_name`, and `brand`, `producer` if known)")
    organization: TypedCode | None = Field(default=None, description="The organization's code (USCC or legacy)",
                                           examples=["914403001922038216"])
    product_name: Annotated[str, Field(min_length=1, max_length=200), Readable] | None = Field(
        default=None, examples=["电热水壶"])
    brand: Annotated[str, Field(min_length=1, max_length=100), Readable] | None = None
    producer: TypedCode | None = Field(default=None, description="The producer's code, if known: routes the "
                                       "complaint to its region (else the administrators route it)")
    category: Category = Field(description="product_quality (产品质量), counterfeit (假冒伪劣), false_labelling "
                                           "(虚假标注), service (服务), other (其他)")
    description: Description = Field(description="What happened")
    evidence_urls: list[EvidenceUrl] = Field(default_factory=list, max_length=MAX_EVIDENCE,
                                             description="Links to photos, receipts, reports (http or https)")
    contact: Contact | None = Field(default=None, description="How the handling department can reach you; never "
                                    "shown to anyone else")
    anonymous: bool = Field(default=False, description="Never pass my identity on (to the organization or anyone)")

    @model_validator(mode="after")
    def _one_subject(self) -> "ComplaintFiling":
        product = (self.product_name, self.brand, self.producer)
        if self.subject == "organization" and (self.organization is None or any(p is not None for p in product)):
            raise ValueError("a complaint about an organization names `organization`, and no product fields")
        if self.subject == "product" and (self.product_name is None or self.organization is not None):
            raise ValueError("a complaint about a product names `product_name` (and `brand`, `producer` if known), "
                             "not `organization`")
        return self


@dataclass(frozen=True)
class Filed:
    ticket: str
    secret: str  # shown once
    status: str
    filed_at: datetime
    accept_by: date
    department: str | None  # None: the administrators route it


@dataclass(frozen=True)
class ComplaintStatus:
    """What the filer reads back: no contact, personal data masked in everything written."""

    ticket: str
    subject: str
    organization: str | None
    product_name: str | None
    brand: str | None
    category: str
    description: str
    evidence_count: int
    status: str
    filed_at: datetime
    department: str | None
    accept_by: date
    resolve_by: date | None
    overdue: bool
    accepted_at: datetime | None
    decided_at: datetime | None
    answer: str | None


def _subject_key(filing: ComplaintFiling, organization: Organization | None) -> str:
    if filing.subject == "organization":
        assert organization is not None
        return f"organization:{organization.uscc}"
    producer = organization.uscc if organization is not None else ""
    return f"product:{fold(filing.product_name or '')}|{fold(filing.brand or '')}|{producer}"


def open_key(contact: str, subject_key: str) -> str:
    return hashlib.sha256(f"{same_filer(contact)}\n{subject_key}".encode()).hexdigest()


def _refuse_a_second_open(repository: ComplaintRepository, key: str) -> None:
    # The answer names no ticket: whoever types someone else's contact must not learn which
    # complaint that person filed (a ticket id is half of what opens its status page).
    if repository.open_with_key(key) is not None:
        raise ComplaintPending("a complaint from this contact about this is still open; follow it with the ticket "
                               "and secret you were given")


def file_complaint(session: Session, filing: ComplaintFiling, *, now: datetime) -> Filed:
    """File a complaint: routed at once, deadline from the rule set in force. One open complaint
    per contact and subject (a repeat is a 409 that names no ticket)."""
    today = local_date(now)
    typed = filing.organization if filing.subject == "organization" else filing.producer
    organization = master_data.get(session, typed) if typed else None  # 422 unparsable, 404 unknown
    repository = ComplaintRepository(session)
    key = open_key(filing.contact, _subject_key(filing, organization)) if filing.contact else None
    if key is not None:
        _refuse_a_second_open(repository, key)
    rule_set_id, rules = rule_set_for(session, today)
    department = routing.handling_department(session, organization.region_code if organization else None)
    secret, secret_hash = new_secret()
    complaint = Complaint(
        id=new_id("cmp"), subject=filing.subject, organization_uscc=organization.uscc if organization else None,
        product_name=filing.product_name, brand=filing.brand, category=filing.category,
        description=filing.description, public_description=mask(filing.description).text,
        evidence_urls=[str(url) for url in filing.evidence_urls], contact=filing.contact, anonymous=filing.anonymous,
        open_key=key, status="submitted", department_code=department.code if department else None,
        rule_set_id=rule_set_id, accept_by=today + timedelta(days=rules.complaint_acceptance_days),
        secret_hash=secret_hash, filed_at=now)
    try:
        # A savepoint: a concurrent filing by the same filer winning the open key leaves this
        # transaction usable, and answers as the check above does.
        with session.begin_nested():
            repository.add(complaint)
    except IntegrityError:
        if key is not None:
            _refuse_a_second_open(repository, key)
        raise
    repository.add(ComplaintAction(complaint_id=complaint.id, action="filed", to_department=complaint.department_code,
                                   at=now))
    events.emit(session, event_types.COMPLAINT_FILED, {
        "complaint_id": complaint.id, "department": complaint.department_code, "subject": complaint.subject,
        "category": complaint.category, "organization": complaint.organization_uscc,
        "accept_by": str(complaint.accept_by)}, at=now, organization_uscc=complaint.organization_uscc,
        record_id=complaint.id)
    return Filed(complaint.id, secret, complaint.status, now, complaint.accept_by, complaint.department_code)


def overdue(complaint: Complaint, today: date) -> bool:
    deadline = {"submitted": complaint.accept_by, "accepted": complaint.resolve_by}.get(complaint.status)
    return deadline is not None and today > deadline


def _masked(text: str | None) -> str | None:
    return mask(text).text if text else None


def complaint_status(session: Session, ticket: str, secret: str, *, today: date) -> ComplaintStatus:
    """The state of a complaint, for whoever holds its ticket and secret. A wrong secret and an
    unknown ticket answer alike."""
    complaint = ComplaintRepository(session).get(ticket) if ticket.startswith("cmp_") else None
    given = hashlib.sha256(secret.encode()).hexdigest()
    if complaint is None or not hmac.compare_digest(given, complaint.secret_hash):
        raise ComplaintNotFound(f"no complaint {ticket} with this secret")
    return ComplaintStatus(
        ticket=complaint.id, subject=complaint.subject, organization=complaint.organization_uscc,
        product_name=_masked(complaint.product_name), brand=_masked(complaint.brand), category=complaint.category,
        description=complaint.public_description, evidence_count=len(complaint.evidence_urls),
        status=complaint.status, filed_at=complaint.filed_at, department=complaint.department_code,
        accept_by=complaint.accept_by, resolve_by=complaint.resolve_by, overdue=overdue(complaint, today),
        accepted_at=complaint.accepted_at, decided_at=complaint.decided_at, answer=complaint.public_answer)
