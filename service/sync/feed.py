"""The pull change feed (``GET /v1/events``): every change, in commit order, gap-free.

A reader keeps ``next_cursor`` and asks again with it. The cursor is the position of the last
event *examined*, matching or not, so filters (type, visibility) never stall a reader behind a
run of events it does not get. When nothing more is there, the cursor is the head of the log.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from db.repositories import feed as feed_queries
from service.errors import CursorExpired, InvalidQuery
from service.sync.event_types import matches as event_type_matches

MAX_LIMIT = 1000
_SCAN_FACTOR = 4  # rows examined per page asked for, so sparse filters still move the cursor far


@dataclass(frozen=True)
class FeedPage:
    envelopes: list[str]  # the stored bytes, served as they were signed and sent
    next_cursor: str
    has_more: bool


RESYNC = "/v1/records"


def parse_cursor(cursor: str | None, conn: Connection) -> int:
    """The position after which to read. No cursor: the oldest event still kept."""
    oldest = feed_queries.purged_through(conn)
    if cursor is None or cursor == "":
        return oldest
    if cursor == "now":
        return max(feed_queries.head(conn), oldest)
    # isascii: str.isdigit() also admits digits int() refuses (superscripts), a 500 otherwise.
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 18:
        raise InvalidQuery("after: the cursor is not one this service issued (use next_cursor, or 'now')",
                           param="after")
    position = int(cursor)
    if position < oldest:
        raise CursorExpired(f"events after {position} are no longer kept (the feed keeps them for a limited "
                            f"time); list the records again from {RESYNC}, which gives the sync_cursor to "
                            "continue the feed from", oldest_cursor=str(oldest), resync=RESYNC)
    if position > max(feed_queries.head(conn), oldest):
        raise InvalidQuery("after: the cursor is ahead of the feed; use a next_cursor you were given", param="after")
    return position


def page(conn: Connection, *, viewer: str, after: str | None, types: Sequence[str], limit: int) -> FeedPage:
    """Events after the cursor that ``viewer`` may see, of the given types (``list_entry.*`` works)."""
    position = parse_cursor(after, conn)
    scan = min(limit * _SCAN_FACTOR, MAX_LIMIT * _SCAN_FACTOR)
    rows = feed_queries.after(conn, position, viewer=viewer, scan=scan)
    if after and feed_queries.purged_through(conn) > position:
        # Retention ran between the two reads (PostgreSQL reads each statement afresh): events
        # after the cursor may be gone, so the page cannot be trusted to be gap-free.
        parse_cursor(after, conn)
    envelopes: list[str] = []
    last = position
    for row in rows:
        last = row.seq
        if row.visible and event_type_matches(row.type, types):
            envelopes.append(row.envelope)
            if len(envelopes) == limit:
                break
    has_more = bool(rows) and (len(rows) == scan or last < rows[-1].seq)
    if not rows:
        last = position  # nothing after it: the cursor stays, there is no later head in this snapshot
    return FeedPage(envelopes, str(last), has_more)
