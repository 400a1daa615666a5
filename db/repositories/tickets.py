"""Objections and repair requests: filed by the public, seen and decided only by the department
that decided the record."""

from typing import Any

from sqlmodel import Session, col, select

from db.tables import Objection, Record, RepairRequest

Ticket = Objection | RepairRequest


class TicketRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def objection(self, ticket: str) -> Objection | None:
        return self.session.get(Objection, ticket)

    def repair_request(self, ticket: str) -> RepairRequest | None:
        return self.session.get(RepairRequest, ticket)

    def pending_objections(self, record_id: str, *, limit: int) -> list[Objection]:
        """Pending objections to one record, oldest first, no more than ``limit`` (for the cap and
        the one-per-filer rule; a locked record row serializes filers)."""
        statement = (select(Objection).where(Objection.record_id == record_id, Objection.status == "pending")
                     .order_by(col(Objection.id)).limit(limit))
        return list(self.session.exec(statement))

    def add(self, row: Ticket) -> None:
        self.session.add(row)
        self.session.flush()

    def of_department(self, model: type[Ticket], department_code: str, *, status: str | None,
                      after_id: str | None, limit: int) -> list[tuple[Any, Record]]:
        """Tickets on the department's own records, in filing order (ids are ULIDs)."""
        statement = (select(model, Record).join(Record, col(Record.id) == model.record_id)
                     .where(Record.department_code == department_code))
        if status is not None:
            statement = statement.where(model.status == status)
        if after_id is not None:
            statement = statement.where(model.id > after_id)
        return [(ticket, record) for ticket, record in self.session.exec(statement.order_by(col(model.id)).limit(limit))]

    def of_department_by_id(self, model: type[Ticket], ticket_id: str,
                            department_code: str) -> tuple[Any, Record] | None:
        statement = (select(model, Record).join(Record, col(Record.id) == model.record_id)
                     .where(model.id == ticket_id, Record.department_code == department_code)
                     .with_for_update())  # ticket and record: a second handler, or the sweep, waits and sees
        row = self.session.exec(statement).first()
        return (row[0], row[1]) if row else None
