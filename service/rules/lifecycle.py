"""The records' own clock (domain.md §4): publicity windows and list terms end by themselves.

``sweep`` expires every active record whose public life is over: violations at the maximum
publicity window for their severity, list entries at ``expires_on`` (or the rule set's term),
ratings at ``valid_until``. Each becomes ``expired`` with a reason and an event, once: the sweep
only takes active records, and concurrent sweepers skip rows another one holds. Public answers
already stop showing a record on its end date (they compare dates), so a sweep that runs late
changes the trail's timing, never what the public saw.

Red entries ended by a black listing are ended when the black listing is published (publishing.publish):
that is a decision, not a deadline. The sweep only repairs what that rule once let through: red
entries stored beside a black one before red entries were refused under a black one (see
red_and_black.end_red_entries_under_black); a registry upgraded to that rule has them ended at its first
sweep, which every worker runs as it starts.
"""

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

from sqlmodel import Session

from db.repositories.records import RecordRepository
from service.lists import red_and_black
from service.records import status
from service.rules.clock import local_date

log = logging.getLogger("registry.lifecycle")

BATCH = 500


def sweep(unit_of_work: Callable[[], AbstractContextManager[Session]], *, now: datetime) -> int:
    """Expire what is due on ``now``'s date (China Standard Time); returns how many records."""
    today = local_date(now)
    expired = 0
    while True:
        with unit_of_work() as session:
            due = RecordRepository(session).due_to_expire(today, limit=BATCH)
            for record in due:
                status.expire(session, record, now=now)
        expired += len(due)
        if len(due) < BATCH:
            break
    if expired:
        log.info("lifecycle sweep expired %d records due by %s", expired, today.isoformat())
    with unit_of_work() as session:
        ended = red_and_black.end_red_entries_under_black(session, now=now)
    if ended:
        log.warning("lifecycle sweep ended %d red entries in force beside a black one", ended)
    return expired
