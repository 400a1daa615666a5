"""The published red and black lists (红黑榜): browsing page by page and the full export."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection

from db.repositories import public as public_queries
from service import codes
from service.cursors import decode_cursor_parts, encode_cursor
from service.errors import InvalidQuery
from service.regions import province_of, region_prefix

EXPORT_BATCH = 1000
# Columns of the export, in order (CSV header and NDJSON keys alike).
EXPORT_FIELDS = ("record_id", "code", "org_code", "name", "region_code", "province", "list", "reason",
                 "legal_basis", "decision_no", "effective_on", "expires_on", "department", "department_name",
                 "masked_fields")


# Named outside ListEntry, whose ``list`` field (the public name of the list) hides the builtin inside it.
FieldNames = list[str]


@dataclass(frozen=True)
class ListEntry:
    record_id: str
    code: str
    org_code: str
    name: str
    region_code: str
    province: str | None
    list: str
    reason: str
    legal_basis: str
    decision_no: str
    effective_on: date
    expires_on: date | None
    department: str
    department_name: str
    masked_fields: FieldNames  # fields in which personal data was masked ("name" for the organization's)


@dataclass(frozen=True)
class ListPage:
    items: list[ListEntry]
    next_cursor: str | None


def _entry(row: dict[str, Any]) -> ListEntry:
    province = province_of(row["region_code"])
    summary = row["public_summary"]
    return ListEntry(
        record_id=row["id"], code=row["organization_uscc"], org_code=codes.display_org_code(codes.org_code_of(row["organization_uscc"])),
        name=row["name"], region_code=row["region_code"], province=province[0] if province else None,
        list=row["list_name"], reason=summary["reason"], legal_basis=summary["legal_basis"],
        decision_no=summary["decision_no"], effective_on=row["effective_on"], expires_on=row["ends_on"],
        department=row["department_code"], department_name=row["department_name"],
        masked_fields=[n for n in row["organization_masked_fields"] or [] if n == "name"] + (row["masked_fields"] or []),
    )


def _after(cursor: str | None) -> tuple[date, str] | None:
    parts = decode_cursor_parts(cursor, size=2)
    if parts is None:
        return None
    try:
        return date.fromisoformat(parts[0]), str(parts[1])
    except (TypeError, ValueError):
        raise InvalidQuery("the cursor is not one this service issued; start again without it",
                           param="cursor") from None


def browse(conn: Connection, list_name: str, *, today: date, region: str | None = None,
           department: str | None = None, since: date | None = None, cursor: str | None = None,
           limit: int = 50) -> ListPage:
    rows = public_queries.list_entries(conn, list_name, today=today, region=region_prefix(region) if region else None,
                                       department=department, since=since, after=_after(cursor), limit=limit + 1)
    page = [_entry(r) for r in rows[:limit]]
    last = page[-1] if page else None
    next_cursor = encode_cursor(last.effective_on.isoformat(), last.record_id) if last and len(rows) > limit else None
    return ListPage(page, next_cursor)


def export(connect: Callable[[], Any], list_name: str, *, today: date, region: str | None = None,
           department: str | None = None, since: date | None = None) -> Iterator[ListEntry]:
    """Every entry, newest first, read in batches so memory stays flat however long the list.
    ``connect`` opens a read connection (a context manager) for each batch. A region that names no
    division is refused here, before the first byte is streamed."""
    return _entries(connect, list_name, today=today, region=region_prefix(region) if region else None,
                    department=department, since=since)


def _entries(connect: Callable[[], Any], list_name: str, *, today: date, region: str | None,
             department: str | None, since: date | None) -> Iterator[ListEntry]:
    after: tuple[date, str] | None = None
    while True:
        with connect() as conn:
            rows = public_queries.list_entries(conn, list_name, today=today, region=region, department=department,
                                               since=since, after=after, limit=EXPORT_BATCH)
        for row in rows:
            yield _entry(row)
        if len(rows) < EXPORT_BATCH:
            return
        after = (rows[-1]["effective_on"], rows[-1]["id"])
