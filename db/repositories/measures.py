"""Measures applied, as departments reported them (反馈)."""

from collections.abc import Sequence

from sqlmodel import Session, col, or_, select

from db.tables import MeasureApplication, Record


class MeasureApplicationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, department_code: str, measure_code: str, decision_no: str) -> MeasureApplication | None:
        statement = select(MeasureApplication).where(MeasureApplication.department_code == department_code,
                                                     MeasureApplication.measure_code == measure_code,
                                                     MeasureApplication.decision_no == decision_no)
        return self.session.exec(statement).first()

    def add(self, application: MeasureApplication) -> None:
        self.session.add(application)
        self.session.flush()

    def of_organization_visible(self, organization_uscc: str, viewer: str) -> Sequence[MeasureApplication]:
        """What ``viewer`` may see: the measures it applied, and those triggered by its own records."""
        own_trigger = col(MeasureApplication.trigger_record_id).in_(
            select(Record.id).where(Record.organization_uscc == organization_uscc, Record.department_code == viewer))
        statement = (select(MeasureApplication)
                     .where(MeasureApplication.organization_uscc == organization_uscc,
                            or_(MeasureApplication.department_code == viewer, own_trigger))
                     .order_by(col(MeasureApplication.decided_on), col(MeasureApplication.id)))
        return self.session.exec(statement).all()
