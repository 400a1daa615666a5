"""Batches and the results of their lines."""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.inserts import insert_rows
from db.tables import Batch, BatchLine


class BatchRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, batch_id: str) -> Batch | None:
        return self.session.get(Batch, batch_id)

    def get_for_update(self, batch_id: str) -> Batch | None:
        """The batch, its row locked until commit (a request taking it over waits, and is seen)."""
        return self.session.get(Batch, batch_id, with_for_update=True)

    def by_key(self, client_id: str, key: str) -> Batch | None:
        statement = select(Batch).where(Batch.client_id == client_id, Batch.idempotency_key == key)
        return self.session.exec(statement.with_for_update()).first()

    def add(self, batch: Batch) -> None:
        self.session.add(batch)
        self.session.flush()

    def add_lines(self, batch_id: str, results: Iterable[Any]) -> None:
        """Line results in one statement (executemany): a chunk's worth at a time."""
        rows = [{"batch_id": batch_id, "line": r.line, "outcome": r.outcome, "kind": r.kind, "record_id": r.record_id,
                 "organization": r.organization, "existing_id": r.existing_id, "field": r.field,
                 "message": r.message} for r in results]
        insert_rows(self.session, BatchLine, rows)

    def last_line(self, batch_id: str) -> int:
        statement = select(func.coalesce(func.max(BatchLine.line), 0)).where(BatchLine.batch_id == batch_id)
        return self.session.exec(statement).one()

    def lines(self, batch_id: str, *, outcome: str | None, after_line: int, limit: int) -> Sequence[BatchLine]:
        statement = select(BatchLine).where(BatchLine.batch_id == batch_id, BatchLine.line > after_line)
        if outcome is not None:
            statement = statement.where(BatchLine.outcome == outcome)
        return self.session.exec(statement.order_by(col(BatchLine.line)).limit(limit)).all()
