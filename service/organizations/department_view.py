"""What a department sees of an organization: its full view and the credit check it consults
before granting a licence or a subsidy. Records come only through the repository's visibility
rule, so a restricted record of another department never enters these answers, not even in a
count.

``credit_check(as_of=...)`` answers "what did the registry say on that date": records entered by
then, with the status and version they had at the end of that day (China Standard Time). A
decision entered later, or corrected later, does not change an earlier answer, so a department
can always reproduce the check it based a decision on.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from db.repositories import feed as feed_queries
from db.repositories.records import RecordRepository
from db.tables import Organization, Record
from service.cursors import decode_cursor, encode_cursor
from service.organizations import master_data
from service.records.history import RecordHistory, histories
from service.rules.clock import local_date


@dataclass(frozen=True)
class OrganizationView:
    organization: Organization
    records: list[RecordHistory]


@dataclass(frozen=True)
class CreditCheck:
    code: str
    name: str
    black_listed: bool
    red_listed: bool
    grade: str | None
    grade_scheme: str | None
    active_violations: int
    as_of: date


@dataclass(frozen=True)
class RecordPage:
    records: list[RecordHistory]
    next_cursor: str | None
    sync_cursor: str


def records_page(session: Session, *, viewer: str, cursor: str | None, kind: str | None, limit: int) -> RecordPage:
    """A page of every record the department may see, and where the change feed stood when it
    was read. A subscriber that lost its place (or starts fresh) reads every page, then follows
    the feed from the first page's ``sync_cursor``: changes made while it paged are in the feed
    after that point, and applying one twice does no harm (events name the record and version)."""
    # The feed position first: anything committed after it is in the feed after it, whatever the
    # record query below sees (it may see some of those changes already; the feed repeats them).
    sync_cursor = max(feed_queries.head(session.connection()), feed_queries.purged_through(session.connection()))
    rows = RecordRepository(session).visible_page(viewer, after_id=decode_cursor(cursor), kind=kind, limit=limit + 1)
    page = list(rows[:limit])
    return RecordPage(histories(session, page), encode_cursor(page[-1].id) if len(rows) > limit else None,
                      str(sync_cursor))


@dataclass(frozen=True)
class _StateOn:
    """A record as it stood at the end of one day."""

    record: Record
    status: str
    details: dict[str, Any]
    effective_on: date
    ends_on: date | None

    def in_force(self, day: date) -> bool:
        return self.status == "active" and self.effective_on <= day and (self.ends_on is None or day < self.ends_on)


def organization_view(session: Session, code: str, *, viewer: str) -> OrganizationView:
    organization = master_data.get(session, code)
    visible = RecordRepository(session).of_organization_visible(organization.uscc, viewer)
    return OrganizationView(organization, histories(session, visible))


def _state_on(history: RecordHistory, day: date, *, today: date) -> _StateOn | None:
    record = history.record
    if day >= today:
        return _StateOn(record, record.status, record.details, record.effective_on, record.ends_on)
    versions = [v for v in history.versions if local_date(v.created_at) <= day]
    if not versions:
        return None  # not yet entered in the registry on that day
    changes = [c for c in history.status_changes if local_date(c.changed_at) <= day]
    version = versions[-1]
    return _StateOn(
        record,
        changes[-1].status if changes else "active",
        version.content,
        version.effective_on or record.effective_on,
        version.ends_on if version.effective_on is not None else record.ends_on,
    )


def credit_check(session: Session, code: str, *, viewer: str, today: date, as_of: date | None = None) -> CreditCheck:
    day = min(as_of, today) if as_of is not None else today
    view = organization_view(session, code, viewer=viewer)
    states = [s for h in view.records if (s := _state_on(h, day, today=today)) is not None and s.in_force(day)]
    lists = {s.details.get("list") for s in states if s.record.kind == "list_entry"}
    ratings = sorted((s for s in states if s.record.kind == "rating"), key=lambda s: (s.effective_on, s.record.id))
    grade = ratings[-1].details if ratings else None
    return CreditCheck(
        code=view.organization.uscc,
        name=view.organization.name,
        black_listed="black" in lists,
        # Never both: a black listing outweighs a red entry that has not been ended yet.
        red_listed="red" in lists and "black" not in lists,
        grade=grade["grade"] if grade else None,
        grade_scheme=grade["scheme"] if grade else None,
        active_violations=sum(1 for s in states if s.record.kind == "violation"),
        as_of=day,
    )
