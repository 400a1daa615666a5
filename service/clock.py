"""Time as the domain sees it. Passed in (never read from globals deep inside a rule) so tests
and the lifecycle sweep can move it."""

from datetime import UTC, date, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


# Registry dates (decision dates, list terms) are calendar dates in China Standard Time.
CST_OFFSET_HOURS = 8


def local_date(moment: datetime) -> date:
    return (moment + timedelta(hours=CST_OFFSET_HOURS)).date()


def today(clock: Clock) -> date:
    return local_date(clock.now())
