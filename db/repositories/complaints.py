"""Complaints (投诉举报): filed by the public, seen only by the department handling them (or, while
no department does, by the administrators' queue)."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, Connection, Select, func, select
from sqlmodel import Session, and_, col, or_
from sqlmodel import select as model_select

from db.tables import Complaint, ComplaintAction, Department, table_of

_complaint = table_of(Complaint)


def overdue(today: date) -> ColumnElement[bool]:
    """Past its acceptance deadline and not yet accepted or rejected, or accepted and past its
    resolution deadline and not yet closed."""
    return or_(and_(col(Complaint.status) == "submitted", col(Complaint.accept_by) < today),
               and_(col(Complaint.status) == "accepted", col(Complaint.resolve_by) < today))


class ComplaintRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, complaint_id: str) -> Complaint | None:
        """Unfiltered: for the filer's status read (checked against the secret) only."""
        return self.session.get(Complaint, complaint_id)

    def handled_by(self, complaint_id: str, department_code: str | None, *, lock: bool = False) -> Complaint | None:
        """The complaint if ``department_code`` handles it (None: the administrators' queue)."""
        handler = col(Complaint.department_code)
        statement = model_select(Complaint).where(
            col(Complaint.id) == complaint_id, handler.is_(None) if department_code is None else handler == department_code)
        return self.session.exec(statement.with_for_update() if lock else statement).first()

    def open_with_key(self, open_key: str) -> Complaint | None:
        return self.session.exec(model_select(Complaint).where(col(Complaint.open_key) == open_key)).first()

    def of_department(self, department_code: str | None, *, status: str | None, overdue_on: date | None,
                      after_id: str | None, limit: int) -> Sequence[Complaint]:
        """A department's complaints (None: the administrators' queue) in filing order (ids are ULIDs)."""
        handler = col(Complaint.department_code)
        statement = model_select(Complaint).where(handler.is_(None) if department_code is None
                                                  else handler == department_code)
        if status is not None:
            statement = statement.where(col(Complaint.status) == status)
        if overdue_on is not None:
            statement = statement.where(overdue(overdue_on))
        if after_id is not None:
            statement = statement.where(col(Complaint.id) > after_id)
        return self.session.exec(statement.order_by(col(Complaint.id)).limit(limit)).all()

    def trail(self, complaint_id: str) -> Sequence[ComplaintAction]:
        return self.session.exec(model_select(ComplaintAction).where(col(ComplaintAction.complaint_id) == complaint_id)
                                 .order_by(col(ComplaintAction.id))).all()

    def market_regulators(self, region_codes: Sequence[str]) -> Sequence[Department]:
        """Market-regulation departments of these divisions (the routing walks up from the first)."""
        return self.session.exec(model_select(Department).where(
            col(Department.kind) == "market_regulation", col(Department.region_code).in_(region_codes))
            .order_by(col(Department.code))).all()

    def add(self, *rows: Complaint | ComplaintAction) -> None:
        self.session.add_all(rows)
        self.session.flush()


def overdue_statements(today: date) -> list[tuple[str, Select[str | None, int]]]:
    """Per stage, the count of late complaints by department: each a range of its own index
    (status, deadline), so the decided complaints kept for ever are never read."""
    return [(stage, select(_complaint.c.department_code, func.count())
                    .where(_complaint.c.status == status, deadline < today)
                    .group_by(_complaint.c.department_code).order_by(_complaint.c.department_code))
            for stage, status, deadline in (("acceptance", "submitted", _complaint.c.accept_by),
                                            ("resolution", "accepted", _complaint.c.resolve_by))]


def overdue_by_department(conn: Connection, today: date) -> list[tuple[str | None, str, int]]:
    """(department or None for the administrators' queue, stage, complaints overdue) for /metrics:
    stage ``acceptance`` (not yet accepted or rejected) or ``resolution`` (accepted, not closed)."""
    return [(department, stage, count) for stage, statement in overdue_statements(today)
            for department, count in conn.execute(statement)]
