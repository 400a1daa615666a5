"""What a department sees of an organization: its full view, and every record it may see a page
at a time. Records come only through the repository's visibility rule, so a restricted record of
another department never enters these answers, not even in a count. (The credit check, with its
consequences, is ``service.credit.checks``.)"""

from dataclasses import dataclass

from sqlmodel import Session

from db.repositories import feed as feed_queries
from db.repositories.records import RecordRepository
from db.tables import Organization
from service.cursors import decode_cursor, encode_cursor
from service.organizations import master_data
from service.records.history import RecordHistory, histories


@dataclass(frozen=True)
class OrganizationView:
    organization: Organization
    records: list[RecordHistory]


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


def organization_view(session: Session, code: str, *, viewer: str) -> OrganizationView:
    organization = master_data.get(session, code)
    visible = RecordRepository(session).of_organization_visible(organization.uscc, viewer)
    return OrganizationView(organization, histories(session, visible))
