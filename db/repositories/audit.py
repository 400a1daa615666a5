"""The audit log: appended to, read newest first, never changed."""

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from db.tables import AuditEntry


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, entry: AuditEntry) -> None:
        self.session.add(entry)
        self.session.flush()

    def page(
        self,
        *,
        limit: int,
        before_id: int | None = None,
        department_code: str | None = None,
        client_id: str | None = None,
        action: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Sequence[AuditEntry]:
        statement = select(AuditEntry)
        for column, value in ((AuditEntry.department_code, department_code), (AuditEntry.client_id, client_id),
                              (AuditEntry.action, action), (AuditEntry.outcome, outcome)):
            if value is not None:
                statement = statement.where(column == value)
        if since is not None:
            statement = statement.where(AuditEntry.at >= since)
        if until is not None:
            statement = statement.where(AuditEntry.at < until)
        if before_id is not None:
            statement = statement.where(col(AuditEntry.id) < before_id)
        return self.session.exec(statement.order_by(col(AuditEntry.id).desc()).limit(limit)).all()
