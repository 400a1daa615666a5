"""Queries on credit reports and the keys that sign them."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from db.tables import CreditReport, Record, ReportSigningKey


class ReportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def every_key(self) -> Sequence[ReportSigningKey]:
        """Every key there ever was, oldest first: none is ever deleted."""
        statement = select(ReportSigningKey).order_by(col(ReportSigningKey.created_at), col(ReportSigningKey.kid))
        return self.session.exec(statement).all()

    def newest_signing_key(self) -> ReportSigningKey | None:
        statement = (select(ReportSigningKey).where(col(ReportSigningKey.retired_at).is_(None))
                     .order_by(col(ReportSigningKey.created_at).desc(), col(ReportSigningKey.kid).desc()).limit(1))
        return self.session.exec(statement).first()

    def add_key(self, key: ReportSigningKey) -> None:
        self.session.add(key)
        self.session.flush()

    def retire_all_but(self, kid: str, *, at: datetime) -> None:
        """Every key still signing but ``kid`` stops signing (it stays, to verify what it signed)."""
        self.session.execute(update(ReportSigningKey)
                          .where(col(ReportSigningKey.retired_at).is_(None), col(ReportSigningKey.kid) != kid)
                          .values(retired_at=at))
        self.session.flush()

    def add(self, report: CreditReport) -> None:
        self.session.add(report)
        self.session.flush()

    def get(self, report_id: str) -> CreditReport | None:
        return self.session.get(CreditReport, report_id)

    def public_records(self, record_ids: Sequence[str]) -> Sequence[Record]:
        """The records a report listed, as they are now, if they are still public: a report shows
        only public records, and what became restricted since is no one's business here."""
        if not record_ids:
            return []
        statement = select(Record).where(col(Record.id).in_(record_ids), Record.visibility == "public")
        return self.session.exec(statement).all()
