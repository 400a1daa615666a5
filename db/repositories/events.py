"""The event log: sequence numbers from a counter row inside the writer's transaction."""

from sqlalchemy import update
from sqlmodel import Session

from db.tables import Event, EventCounter

EVENT_SEQUENCE = "event"


class EventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def next_seq(self) -> int:
        """Take the next number. The row lock is held until commit, so numbers are handed out
        in commit order and a rolled-back transaction gives its number back."""
        result = self.session.execute(
            update(EventCounter)
            .where(EventCounter.name == EVENT_SEQUENCE)
            .values(value=EventCounter.value + 1)
            .returning(EventCounter.value)
        ).scalar_one()  # the row is created by the initial migration
        return result

    def add(self, event: Event) -> None:
        self.session.add(event)
        self.session.flush()
