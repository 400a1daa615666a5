"""Queries on records, their versions, access grants and status trail."""

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, or_, select

from db.tables import Record, RecordAccess, RecordStatusChange, RecordVersion


class RecordRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, record_id: str) -> Record | None:
        return self.session.get(Record, record_id)

    def find_decision(self, department_code: str, kind: str, decision_no: str) -> Record | None:
        statement = select(Record).where(
            Record.department_code == department_code,
            Record.kind == kind,
            Record.decision_no == decision_no,
        )
        return self.session.exec(statement).first()

    def active_list_entries(self, organization_uscc: str, list_name: str, *, on: date) -> Sequence[Record]:
        statement = select(Record).where(
            Record.organization_uscc == organization_uscc,
            Record.kind == "list_entry",
            Record.list_name == list_name,
            Record.status == "active",
            or_(col(Record.ends_on).is_(None), col(Record.ends_on) > on),
        )
        return self.session.exec(statement).all()

    def versions(self, record_id: str) -> Sequence[RecordVersion]:
        statement = (
            select(RecordVersion)
            .where(RecordVersion.record_id == record_id)
            .order_by(col(RecordVersion.version))
        )
        return self.session.exec(statement).all()

    def status_changes(self, record_id: str) -> Sequence[RecordStatusChange]:
        statement = (
            select(RecordStatusChange)
            .where(RecordStatusChange.record_id == record_id)
            .order_by(col(RecordStatusChange.id))
        )
        return self.session.exec(statement).all()

    def granted_departments(self, record_id: str) -> list[str]:
        statement = select(RecordAccess.department_code).where(RecordAccess.record_id == record_id)
        return sorted(self.session.exec(statement))

    def add(self, record: Record, version: RecordVersion, status: RecordStatusChange) -> None:
        self.session.add(record)
        # The record row must exist before rows that reference it (foreign keys are on).
        self.session.flush()
        self.session.add_all([version, status])
        self.session.flush()

    def add_version(self, record: Record, version: RecordVersion) -> None:
        self.session.add_all([record, version])
        self.session.flush()

    def set_status(self, record: Record, change: RecordStatusChange) -> None:
        self.session.add_all([record, change])
        self.session.flush()

    def grant(self, record_id: str, department_codes: Sequence[str]) -> None:
        self.session.add_all(RecordAccess(record_id=record_id, department_code=d) for d in department_codes)
        self.session.flush()
