"""Objections and repair requests."""

from sqlmodel import Session

from db.tables import Objection, RepairRequest


class IntakeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def objection(self, ticket: str) -> Objection | None:
        return self.session.get(Objection, ticket)

    def repair_request(self, ticket: str) -> RepairRequest | None:
        return self.session.get(RepairRequest, ticket)

    def add(self, row: Objection | RepairRequest) -> None:
        self.session.add(row)
        self.session.flush()
