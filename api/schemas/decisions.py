"""Objections and credit repair requests as the deciding department sees them."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from db.tables import Objection, Record, RepairRequest
from service.tickets import intake


class _TicketView(BaseModel):
    id: str
    record_id: str
    record_kind: str
    organization: str
    status: str
    contact: str = Field(description="How to reach the filer: personal data, for the deciding department only")
    filed_at: datetime
    decided_at: datetime | None
    decision_reason: str | None


class ObjectionView(_TicketView):
    reason: str
    evidence_url: str | None
    deadline: date
    overdue: bool = Field(description="Pending past its deadline")

    @classmethod
    def of(cls, objection: Objection, record: Record, today: date) -> "ObjectionView":
        return cls(**_common(objection, record), reason=objection.reason, evidence_url=objection.evidence_url,
                   deadline=objection.deadline, overdue=intake.overdue(objection, today))


class RepairRequestView(_TicketView):
    statement: str
    commitment: str

    @classmethod
    def of(cls, repair: RepairRequest, record: Record) -> "RepairRequestView":
        return cls(**_common(repair, record), statement=repair.statement, commitment=repair.commitment)


def _common(ticket: Objection | RepairRequest, record: Record) -> dict[str, Any]:
    return {"id": ticket.id, "record_id": record.id, "record_kind": record.kind,
            "organization": record.organization_uscc, "status": ticket.status, "contact": ticket.contact,
            "filed_at": ticket.filed_at, "decided_at": ticket.decided_at, "decision_reason": ticket.decision_reason}


class ObjectionPage(BaseModel):
    items: list[ObjectionView]
    next_cursor: str | None


class RepairRequestPage(BaseModel):
    items: list[RepairRequestView]
    next_cursor: str | None
