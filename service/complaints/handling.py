"""The handling department's side of a complaint: accept, reject with a reason, transfer to
another department with a reason, close with a result; and the administrators' queue of
complaints no department was found for, which they route.

Transitions: submitted -> accepted | rejected | (transferred: submitted, at the new department);
accepted -> closed. Anything else is a 409. Another department's complaint does not exist (404).
Each action is kept in the trail and emits an event to the handling department alone; events
carry ids and departments, never the filer's contact nor the reasons (which the department reads
through the API).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from db.repositories.complaints import ComplaintRepository
from db.tables import Complaint, ComplaintAction
from service.complaints.filing import ComplaintNotFound
from service.cursors import decode_cursor, encode_cursor
from service.errors import InvalidRecord, InvalidTransition
from service.records.fields import DepartmentCode, Readable
from service.records.personal_data import mask
from service.rules.clock import local_date
from service.rules.reference import find_department, rules_of
from service.sync import event_types, events

ComplaintState = Literal["submitted", "accepted", "rejected", "closed"]
Reason = Annotated[str, Field(min_length=2, max_length=2000), Readable]


class Acceptance(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: Reason | None = Field(default=None, description="For the trail; not shown to the filer")


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Reason = Field(description="Why it is not accepted; shown to the filer (personal data masked)",
                           examples=["不属于本部门管辖范围，请向消费者协会反映"])


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    department: DepartmentCode = Field(description="The department that handles it from now on")
    reason: Reason = Field(description="For the trail and the new department", examples=["被投诉企业位于福田区"])


class Closing(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    result: Reason = Field(description="The result; shown to the filer (personal data masked)",
                           examples=["经调解，商家同意退货并赔偿"])


@dataclass(frozen=True)
class ComplaintPage:
    items: list[Complaint]
    next_cursor: str | None


@dataclass(frozen=True)
class Handler:
    """Who acts: a department's client (``department_code`` None: the administrators)."""

    department_code: str | None
    client_id: str


class Action(Protocol):
    def __call__(self, session: Session, complaint_id: str, body: Any, handler: Handler, *,
                 now: datetime) -> Complaint: ...


def complaints(session: Session, handler: Handler, *, status: str | None, overdue_on: date | None,
               cursor: str | None, limit: int) -> ComplaintPage:
    rows = ComplaintRepository(session).of_department(handler.department_code, status=status, overdue_on=overdue_on,
                                                      after_id=decode_cursor(cursor), limit=limit + 1)
    return ComplaintPage(list(rows[:limit]), encode_cursor(rows[limit - 1].id) if len(rows) > limit else None)


def _handled(session: Session, complaint_id: str, handler: Handler, *, lock: bool = False) -> Complaint:
    complaint = ComplaintRepository(session).handled_by(complaint_id, handler.department_code, lock=lock)
    if complaint is None:  # another department's complaint is as unknown as a missing one
        raise ComplaintNotFound(f"no complaint {complaint_id} handled by "
                                f"{handler.department_code or 'the administrators'}")
    return complaint


def complaint(session: Session, complaint_id: str, handler: Handler) -> tuple[Complaint, list[ComplaintAction]]:
    found = _handled(session, complaint_id, handler)
    return found, list(ComplaintRepository(session).trail(found.id))


def _in(complaint: Complaint, *states: str, action: str) -> None:
    if complaint.status not in states:
        raise InvalidTransition(f"{complaint.id} is {complaint.status}: it cannot be {action} "
                                f"(only a complaint that is {' or '.join(states)})")


def _record(session: Session, complaint: Complaint, handler: Handler, action: str, event_type: str, *, now: datetime,
            reason: str | None = None, to_department: str | None = None, **data: object) -> None:
    repository = ComplaintRepository(session)
    repository.add(complaint, ComplaintAction(complaint_id=complaint.id, action=action,
                                              department_code=handler.department_code, client_id=handler.client_id,
                                              to_department=to_department, reason=reason, at=now))
    events.emit(session, event_type, {"complaint_id": complaint.id, "department": complaint.department_code, **data},
                at=now, organization_uscc=complaint.organization_uscc, record_id=complaint.id)


def accept(session: Session, complaint_id: str, body: Acceptance, handler: Handler, *, now: datetime) -> Complaint:
    found = _handled(session, complaint_id, handler, lock=True)
    _in(found, "submitted", action="accepted")
    rules = rules_of(session, found.rule_set_id)
    found.status, found.accepted_at = "accepted", now
    found.resolve_by = local_date(now) + timedelta(days=rules.complaint_resolution_days)
    _record(session, found, handler, "accepted", event_types.COMPLAINT_ACCEPTED, now=now, reason=body.note,
            resolve_by=str(found.resolve_by))
    return found


def _decide(found: Complaint, status: str, answer: str, now: datetime) -> None:
    found.status, found.decided_at, found.open_key = status, now, None  # decided: the filer may complain again
    found.answer, found.public_answer = answer, mask(answer).text


def reject(session: Session, complaint_id: str, body: Rejection, handler: Handler, *, now: datetime) -> Complaint:
    found = _handled(session, complaint_id, handler, lock=True)
    _in(found, "submitted", action="rejected")
    _decide(found, "rejected", body.reason, now)
    _record(session, found, handler, "rejected", event_types.COMPLAINT_REJECTED, now=now, reason=body.reason)
    return found


def close(session: Session, complaint_id: str, body: Closing, handler: Handler, *, now: datetime) -> Complaint:
    found = _handled(session, complaint_id, handler, lock=True)
    _in(found, "accepted", action="closed")
    _decide(found, "closed", body.result, now)
    _record(session, found, handler, "closed", event_types.COMPLAINT_CLOSED, now=now, reason=body.result)
    return found


def transfer(session: Session, complaint_id: str, body: Transfer, handler: Handler, *, now: datetime) -> Complaint:
    """To another department (the administrators route their queue the same way). The new
    department gets the acceptance window afresh from today, as a department receiving it would;
    the old one no longer sees the complaint nor its events."""
    found = _handled(session, complaint_id, handler, lock=True)
    _in(found, "submitted", action="transferred")
    if find_department(session, body.department) is None:
        raise InvalidRecord(f"department {body.department!r} is not registered", field="department")
    if body.department == found.department_code:
        raise InvalidRecord(f"{complaint_id} is already with {body.department}", field="department")
    rules = rules_of(session, found.rule_set_id)
    previous = found.department_code
    found.department_code = body.department
    found.accept_by = local_date(now) + timedelta(days=rules.complaint_acceptance_days)
    _record(session, found, handler, "transferred", event_types.COMPLAINT_TRANSFERRED, now=now, reason=body.reason,
            to_department=body.department, from_department=previous, accept_by=str(found.accept_by))
    return found
