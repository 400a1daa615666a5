"""Time as the domain sees it. Passed in (never read from globals deep inside a rule) so tests
and the lifecycle sweep can move it."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Protocol

from pydantic import AfterValidator, BeforeValidator


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


# Registry dates (decision dates, list terms) are calendar dates in China Standard Time.
CST_OFFSET_HOURS = 8
CHINA_STANDARD_TIME = timezone(timedelta(hours=CST_OFFSET_HOURS), "CST")


def local_date(moment: datetime) -> date:
    return (moment + timedelta(hours=CST_OFFSET_HOURS)).date()


def today(clock: Clock) -> date:
    return local_date(clock.now())


def as_utc(moment: datetime) -> datetime:
    """A moment given by a caller, as UTC. One without a time zone (``2026-01-01``, or
    ``2026-01-01T09:00``) is read as China Standard Time: the registry's dates are CST calendar
    dates, and that is the clock its users read, so ``since=2026-01-01`` means that day here.
    Refusing it would make every caller append ``+08:00``; reading it as UTC would be 8 hours off."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_STANDARD_TIME)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01 in CST is before year 1 in UTC; 9999-12-31T23:00-14:00 after 9999
        raise ValueError("out of range: in UTC the moment must fall within the years 1 to 9999") from None


def not_a_number(value: object) -> object:
    """Pydantic reads a number, or a string of one, as Unix time: ``since=20260101`` would be a
    moment in August 1970 and a decision dated ``0`` New Year's Day 1970, answered instead of
    refused. A date or a moment is ISO 8601 text, as the API documents it."""
    if isinstance(value, int | float) or (isinstance(value, str) and _reads_as_number(value)):
        raise ValueError("an ISO 8601 date or date-time is expected, not a number")
    return value


def _reads_as_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# A datetime field or parameter: naive values read as CST, every value compared and stored as UTC.
Moment = Annotated[datetime, BeforeValidator(not_a_number), AfterValidator(as_utc)]
# A calendar date field or parameter.
Day = Annotated[date, BeforeValidator(not_a_number)]
