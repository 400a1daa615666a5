"""What the public files about published records: objections (异议) and credit repair requests
(信用修复). Stored and validated here; the deciding department answers them later.

Each filing gets a ticket id and a secret; the filer needs both to follow it. The secret is 32
random bytes, so a fast hash (SHA-256) is as safe as a slow one, and is kept instead of it.
The contact given is personal data and never leaves through a public answer.
"""

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from sqlmodel import Session

from db.ids import new_id
from db.repositories.records import RecordRepository
from db.repositories.tickets import TicketRepository
from db.tables import Objection, Record, RepairRequest
from service.errors import InvalidRecord, NotFound, ObjectionLimit, TicketPending
from service.records.fields import Readable
from service.records.personal_data import mask
from service.rules.clock import local_date
from service.rules.reference import rule_set_for, rules_of
from service.rules.rule_sets import add_months
from service.sync import event_types, events


class TicketNotFound(NotFound):
    title = "Ticket not found"


ObjectionReason = Annotated[str, Field(min_length=5, max_length=2000), Readable]
RepairText = Annotated[str, Field(min_length=10, max_length=4000), Readable]  # the statement, the commitment
Contact = Annotated[str, Field(min_length=3, max_length=200), Readable]


class ObjectionFiling(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    record_id: str = Field(max_length=40, pattern=r"^rec_[0-9A-Z]{26}$")
    reason: ObjectionReason = Field(description="What is wrong with the record")
    contact: Contact = Field(description="How the department can reach you; never published")
    evidence_url: HttpUrl | None = Field(default=None, description="A link to supporting documents")


class RepairFiling(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    record_id: str = Field(max_length=40, pattern=r"^rec_[0-9A-Z]{26}$")
    statement: RepairText = Field(
        description="How the obligations of the decision were performed (fine paid, defects corrected...)")
    commitment: RepairText = Field(description="The public credit commitment (信用承诺) of the organization")
    contact: Contact = Field(description="Never published")


@dataclass(frozen=True)
class Filed:
    ticket: str
    secret: str  # shown once
    record_id: str
    status: str
    filed_at: datetime
    deadline: date | None


@dataclass(frozen=True)
class TicketStatus:
    ticket: str
    record_id: str
    status: str
    filed_at: datetime
    deadline: date | None
    overdue: bool
    decided_at: datetime | None
    decision_reason: str | None


def new_secret() -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    return secret, hashlib.sha256(secret.encode()).hexdigest()


def _published_record(session: Session, record_id: str, *, today: date, lock: bool = False) -> Record:
    record = RecordRepository(session).get(record_id, lock=lock)
    if record is None or not (record.visibility == "public" and record.status == "active"
                              and record.effective_on <= today and (record.ends_on is None or today < record.ends_on)):
        # Only published records can be objected to; saying more would reveal unpublished ones.
        raise InvalidRecord(f"{record_id} is not a record on public display", field="record_id")
    return record


def same_filer(contact: str) -> str:
    """A contact as the same person writes it twice: width, case, spaces and punctuation aside
    (张先生 139-1234-5678 is 张先生13912345678)."""
    return "".join(c for c in unicodedata.normalize("NFKC", contact).lower() if c.isalnum() or c == "@")


def file_objection(session: Session, filing: ObjectionFiling, *, now: datetime,
                   organization_uscc: str | None = None) -> Filed:
    """File an objection. One pending objection per record and filer (a repeat names the pending
    ticket), and no more pending ones per record than the rule set's cap. ``organization_uscc``:
    the organization whose page the objection comes from, which the record must be about."""
    today = local_date(now)
    record = _published_record(session, filing.record_id, today=today, lock=True)
    if organization_uscc is not None and record.organization_uscc != organization_uscc:
        raise InvalidRecord(f"{record.id} is not a record of {organization_uscc}", field="record_id")
    rules = rules_of(session, record.rule_set_id)
    cap = rule_set_for(session, today)[1].objection_pending_cap
    pending = TicketRepository(session).pending_objections(record.id, limit=cap)
    filer = same_filer(filing.contact)
    for existing in pending:
        if same_filer(existing.contact) == filer:
            raise TicketPending(f"your objection {existing.id} to {record.id} is pending (answer due by "
                                f"{existing.deadline}); follow it with its ticket and secret", existing_id=existing.id)
    if len(pending) >= cap:
        raise ObjectionLimit(f"{record.id} has {cap} objections pending with {record.department_code}, which is "
                             "reviewing it; try again once they are answered")
    secret, secret_hash = new_secret()
    objection = Objection(
        id=new_id("obj"), record_id=record.id, status="pending", reason=filing.reason,
        evidence_url=str(filing.evidence_url) if filing.evidence_url else None, contact=filing.contact,
        secret_hash=secret_hash, rule_set_id=record.rule_set_id, filed_at=now,
        deadline=local_date(now) + timedelta(days=rules.objection_deadline_days),
    )
    TicketRepository(session).add(objection)
    events.emit(session, event_types.OBJECTION_FILED, {"objection_id": objection.id, "record_id": record.id,
                                                       "department": record.department_code,
                                                       "deadline": str(objection.deadline)},
                at=now, organization_uscc=record.organization_uscc, record_id=record.id)
    return Filed(objection.id, secret, record.id, objection.status, now, objection.deadline)


def repair_allowed(session: Session, record: Record, *, today: date) -> None:
    """Refuse repair the rules do not allow: penalties that exclude it, records of other kinds,
    or before the minimum publicity (violations) or minimum listing (black list) was served."""
    rules = rules_of(session, record.rule_set_id)
    if record.kind == "violation":
        blocking = sorted(set(record.details.get("penalty_types", [])) & set(rules.non_repairable_penalties))
        if blocking:
            raise InvalidRecord(f"penalties of this kind cannot be repaired early: {', '.join(blocking)}",
                                field="record_id")
        earliest = add_months(record.effective_on, rules.violation_publicity[record.severity or "general"].min_months)
    elif record.kind == "list_entry" and record.list_name == "black":
        earliest = add_months(record.effective_on, rules.black_list_min_months)
    else:
        raise InvalidRecord("only violations and black list entries can be repaired", field="record_id")
    if today < earliest:
        raise InvalidRecord(f"repair can be requested from {earliest.isoformat()} (minimum publicity served)",
                            field="record_id")


def request_repair(session: Session, filing: RepairFiling, *, now: datetime) -> Filed:
    today = local_date(now)
    record = _published_record(session, filing.record_id, today=today)
    repair_allowed(session, record, today=today)
    secret, secret_hash = new_secret()
    repair = RepairRequest(id=new_id("rep"), record_id=record.id, status="pending", statement=filing.statement,
                           commitment=filing.commitment, contact=filing.contact, secret_hash=secret_hash,
                           filed_at=now)
    TicketRepository(session).add(repair)
    events.emit(session, event_types.REPAIR_REQUESTED, {"repair_request_id": repair.id, "record_id": record.id,
                                                        "department": record.department_code},
                at=now, organization_uscc=record.organization_uscc, record_id=record.id)
    return Filed(repair.id, secret, record.id, repair.status, now, None)


def overdue(ticket: Objection | RepairRequest, today: date) -> bool:
    """Still pending past its answer deadline (objections have one; repair requests do not)."""
    deadline = getattr(ticket, "deadline", None)
    return ticket.status == "pending" and deadline is not None and today > deadline


def ticket_status(session: Session, ticket: str, secret: str, *, today: date) -> TicketStatus:
    """The state of an objection or repair request, for whoever holds its ticket and secret.
    A wrong secret and an unknown ticket answer alike."""
    repository = TicketRepository(session)
    row = repository.objection(ticket) if ticket.startswith("obj_") else \
        repository.repair_request(ticket) if ticket.startswith("rep_") else None
    given = hashlib.sha256(secret.encode()).hexdigest()
    if row is None or not hmac.compare_digest(given, row.secret_hash):
        raise TicketNotFound(f"no ticket {ticket} with this secret")
    deadline = getattr(row, "deadline", None)
    # Whoever holds the ticket is the public: the department's answer is shown with personal data
    # masked, like everything published (read here, not stored: this is no hot path).
    reason = mask(row.decision_reason).text if row.decision_reason else None
    return TicketStatus(row.id, row.record_id, row.status, row.filed_at, deadline, overdue=overdue(row, today),
                        decided_at=row.decided_at, decision_reason=reason)
