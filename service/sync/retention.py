"""Event retention: the change feed keeps ``keep_days`` of events; older ones are deleted from the
front of the log, with their webhook deliveries and attempts.

Nothing about a record is lost: its versions and status changes are kept for good, and a reader
whose cursor fell behind the retained log gets 410 and re-lists (``GET /v1/records``, which gives
the feed position to continue from). An event whose delivery is still pending is never deleted,
nor anything after it, so retention cannot cut a webhook's retries short or open a gap.
"""

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from sqlmodel import Session

from db.repositories.events import EventRepository

log = logging.getLogger("registry.retention")

BATCH = 5000  # events per transaction, so a first run on a large log does not hold locks long


def prune_events(unit_of_work: Callable[[], AbstractContextManager[Session]], *, now: datetime,
                 keep_days: int) -> int:
    """Delete events older than ``keep_days``; returns how many were deleted."""
    cutoff = now - timedelta(days=keep_days)
    deleted = 0
    while True:
        with unit_of_work() as session:
            events = EventRepository(session)
            start = events.purged_through(lock=True)
            end = events.prunable_through(cutoff, limit=BATCH)
            if end <= start:
                break
            deleted += events.delete_through(end)
    if deleted:
        log.info("retention deleted %d events older than %s (through seq %d)", deleted, cutoff.isoformat(), end)
    return deleted
