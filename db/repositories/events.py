"""The event log: sequence numbers from a counter row inside the writer's transaction, and the
retention that deletes its oldest prefix."""

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlmodel import Session, col

from db.inserts import insert_rows
from db.tables import Event, EventCounter, WebhookAttempt, WebhookDelivery, WebhookEndpoint

EVENT_SEQUENCE = "event"
PURGED_THROUGH = "purged_through"  # highest seq retention deleted; cursors below it are expired


class EventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def next_seqs(self, count: int) -> range:
        """Take the next ``count`` numbers (one counter update). The row lock is held until commit,
        so numbers are handed out in commit order and a rolled-back transaction gives them back."""
        last = self.session.execute(
            update(EventCounter).where(col(EventCounter.name) == EVENT_SEQUENCE)
            .values(value=col(EventCounter.value) + count).returning(col(EventCounter.value))
        ).scalar_one()
        return range(last - count + 1, last + 1)

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        insert_rows(self.session, Event, rows)

    def purged_through(self, *, lock: bool = False, hold: bool = False) -> int:
        statement = select(col(EventCounter.value)).where(col(EventCounter.name) == PURGED_THROUGH)
        # ``lock``: a pruner's, so two pruners never move the end backwards. ``hold``: a share lock
        # that keeps pruners out until this transaction ends (SQLite's write lock already does).
        if lock or hold:
            statement = statement.with_for_update(read=hold and not lock)
        seq: int = self.session.execute(statement).scalar_one()
        return seq

    def prunable_through(self, cutoff: datetime, *, limit: int) -> int:
        """The end of the prefix retention may delete now: events older than ``cutoff``, at most
        ``limit`` past the current end, and never an event a delivery is still pending for (only a
        contiguous prefix goes, so every unexpired cursor stays gap-free)."""
        start = self.purged_through()
        old = self.session.execute(
            select(func.max(col(Event.seq))).where(col(Event.occurred_at) < cutoff, col(Event.seq) <= start + limit)
        ).scalar()
        # Deliveries of disabled endpoints wait for nobody (they are not sent until re-enabled, and
        # catch-up is by replay or the feed), so they do not hold retention back.
        unfinished = self.session.execute(
            select(func.min(col(WebhookDelivery.event_seq)))
            .join(WebhookEndpoint, col(WebhookEndpoint.id) == WebhookDelivery.endpoint_id)
            .where(col(WebhookDelivery.status).in_(("pending", "sending")), col(WebhookEndpoint.status) == "enabled")
        ).scalar()
        end = old or start
        if unfinished is not None:
            end = min(end, unfinished - 1)
        return max(end, start)

    def delete_through(self, seq: int) -> int:
        """Delete events up to ``seq`` with their deliveries and attempts; returns events deleted."""
        deliveries = select(col(WebhookDelivery.id)).where(col(WebhookDelivery.event_seq) <= seq)
        self.session.execute(delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(deliveries)))
        self.session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.event_seq) <= seq))
        # A DELETE's result is a CursorResult, with the row count; SQLModel types every result as Result.
        deleted = cast(CursorResult[Any], self.session.execute(delete(Event).where(col(Event.seq) <= seq))).rowcount
        self.session.execute(update(EventCounter).where(col(EventCounter.name) == PURGED_THROUGH).values(value=seq))
        return deleted
