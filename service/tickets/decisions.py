"""The deciding department answers what the public filed about its records ("谁认定、谁修复").

Objections (异议): ``corrected`` (with the corrected fields: a new version of the record),
``upheld`` (the record stands) or ``withdrawn`` (the record is withdrawn from publication). The
public "under objection" marker is simply "a pending objection exists", so it clears with the
decision; the filer reads the outcome with the ticket.

Credit repair (信用修复): ``approved`` (the record becomes ``repaired``: off public display and no
longer shared with other departments; the owner keeps the whole history) or ``rejected``. The rules
are checked again at approval: a record may have changed since the request was filed.

Only the record's own department sees or decides these; to anyone else they do not exist (404).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session

from db.repositories.tickets import TicketRepository
from db.tables import Objection, Record, RepairRequest
from service.cursors import decode_cursor, encode_cursor
from service.errors import InvalidTransition
from service.records import changes, status
from service.records.fields import Readable
from service.rules.clock import local_date
from service.sync import event_types, events
from service.tickets.intake import TicketNotFound, repair_allowed

ObjectionOutcome = Literal["corrected", "upheld", "withdrawn"]
RepairOutcome = Literal["approved", "rejected"]
DecisionReason = Annotated[str, Field(min_length=2, max_length=2000), Readable]
Ticket = TypeVar("Ticket", Objection, RepairRequest)


class ObjectionDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: ObjectionOutcome
    reason: DecisionReason = Field(
        description="The answer to the filer; also the reason of the correction or withdrawal",
        examples=["经核查，处罚金额录入错误，已更正"])
    fields: dict[str, Any] | None = Field(
        default=None, description="With `corrected`: the record's complete corrected fields (as for a correction)")

    @model_validator(mode="after")
    def _fields_only_with_a_correction(self) -> "ObjectionDecision":
        if (self.outcome == "corrected") != (self.fields is not None):
            raise ValueError("fields are required with outcome 'corrected', and only with it")
        return self


class RepairDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: RepairOutcome
    reason: DecisionReason = Field(examples=["已履行行政处罚决定并作出信用承诺"])


@dataclass(frozen=True)
class TicketPage(Generic[Ticket]):
    items: list[tuple[Ticket, Record]]
    next_cursor: str | None


def _page(session: Session, model: type[Ticket], *, department_code: str,
          status: str | None, cursor: str | None, limit: int) -> TicketPage[Ticket]:
    rows = TicketRepository(session).of_department(model, department_code, status=status,
                                                   after_id=decode_cursor(cursor), limit=limit + 1)
    return TicketPage(list(rows[:limit]), encode_cursor(rows[limit - 1][0].id) if len(rows) > limit else None)


def objections(session: Session, *, department_code: str, status: str | None, cursor: str | None,
               limit: int) -> TicketPage[Objection]:
    return _page(session, Objection, department_code=department_code, status=status, cursor=cursor, limit=limit)


def repair_requests(session: Session, *, department_code: str, status: str | None, cursor: str | None,
                    limit: int) -> TicketPage[RepairRequest]:
    return _page(session, RepairRequest, department_code=department_code, status=status, cursor=cursor, limit=limit)


def _pending_of(session: Session, model: type[Ticket], ticket_id: str,
                department_code: str) -> tuple[Ticket, Record]:
    found = TicketRepository(session).of_department_by_id(model, ticket_id, department_code)
    if found is None:
        raise TicketNotFound(f"no {model.__name__.lower().replace('request', ' request')} {ticket_id} "
                             "on this department's records")
    ticket, record = found
    if ticket.status != "pending":
        raise InvalidTransition(f"{ticket_id} was already decided: {ticket.status}")
    return ticket, record


def _close(session: Session, ticket: Objection | RepairRequest, outcome: str, reason: str, now: datetime) -> None:
    ticket.status, ticket.decided_at, ticket.decision_reason = outcome, now, reason
    TicketRepository(session).add(ticket)


def decide_objection(session: Session, objection_id: str, decision: ObjectionDecision, *, department_code: str,
                     scopes: frozenset[str], now: datetime) -> tuple[Objection, Record]:
    """Deciding ``corrected`` or ``withdrawn`` changes the record, so it needs the scope that change
    needs (records:write, or lists:write for a list entry) besides objections:handle."""
    objection, record = _pending_of(session, Objection, objection_id, department_code)
    because = f"objection {objection_id}: {decision.reason}"
    if decision.outcome == "corrected":
        assert decision.fields is not None
        changes.correct(session, record.id, decision.fields, department_code=department_code, reason=because, now=now,
                        scopes=scopes)
    elif decision.outcome == "withdrawn":
        changes.withdraw(session, record.id, department_code=department_code, reason=because, now=now,
                         scopes=scopes)
    _close(session, objection, decision.outcome, decision.reason, now)
    events.emit(session, event_types.OBJECTION_RESOLVED, {"objection_id": objection.id, "record_id": record.id,
                                                          "outcome": decision.outcome},
                at=now, organization_uscc=record.organization_uscc, record_id=record.id)
    return objection, record


def decide_repair(session: Session, request_id: str, decision: RepairDecision, *, department_code: str,
                  now: datetime) -> tuple[RepairRequest, Record]:
    repair, record = _pending_of(session, RepairRequest, request_id, department_code)
    if decision.outcome == "approved":
        if record.status != "active":
            raise InvalidTransition(f"record {record.id} is {record.status}: there is nothing left to repair; "
                                    "reject the request with that reason")
        repair_allowed(session, record, today=local_date(now))
        status.repair(session, record, reason=f"credit repair {request_id}: {decision.reason}", now=now)
    _close(session, repair, decision.outcome, decision.reason, now)
    events.emit(session, event_types.REPAIR_DECIDED, {"repair_request_id": repair.id, "record_id": record.id,
                                                      "outcome": decision.outcome},
                at=now, organization_uscc=record.organization_uscc, record_id=record.id)
    return repair, record
