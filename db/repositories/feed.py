"""The change feed: events after a position, as a department may see them.

Sequence numbers are handed out by a counter row inside each writing transaction (see
``db.repositories.events``), so every read snapshot holds a gap-free prefix of the log: a reader
that continues after the last number it saw can never miss an event that commits later.
"""

from dataclasses import dataclass

from sqlalchemy import Connection, case, func, select

from db.repositories.events import PURGED_THROUGH
from db.repositories.records import event_visible_to
from db.tables import Event, EventCounter, Record, table_of

_event = table_of(Event)
_record = table_of(Record)
_counter = table_of(EventCounter)


@dataclass(frozen=True)
class FeedRow:
    seq: int
    type: str
    visible: bool
    envelope: str


def head(conn: Connection) -> int:
    seq: int = conn.execute(select(func.coalesce(func.max(_event.c.seq), 0))).scalar_one()
    return seq


def purged_through(conn: Connection) -> int:
    """The highest ``seq`` retention has deleted (0: none); every later event is still there."""
    seq: int = conn.execute(select(_counter.c.value).where(_counter.c.name == PURGED_THROUGH)).scalar_one()
    return seq


def after(conn: Connection, seq: int, *, viewer: str, scan: int) -> list[FeedRow]:
    """Up to ``scan`` events after ``seq`` in order, each marked visible or not for ``viewer``:
    events about a record follow the record's visibility; the others (organization master data)
    are for every department."""
    visible = event_visible_to(viewer, _event.c.type, _event.c.record_id)
    statement = (
        select(_event.c.seq, _event.c.type, case((visible, True), else_=False), _event.c.envelope)
        .where(_event.c.seq > seq)
        .order_by(_event.c.seq)
        .limit(scan)
    )
    return [FeedRow(*row) for row in conn.execute(statement)]
