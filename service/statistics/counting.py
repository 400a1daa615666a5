"""Keeping the statistics current in the writing transaction.

What a fact counts towards is worked out by one function per subject (``record_keys``,
``organization_keys``...) from the row as it is; a write calls ``move`` with the keys before and
after, and the difference is added to the counts. Only what the public sees counts: public,
active records. The recount (``service.statistics.recount``) runs the same functions over the
rows grouped, so a count and a recount can only differ if a write forgot to call ``move``.

Every ``move`` comes after the write's event: on PostgreSQL the event sequence's row lock
(db/repositories/events.py) is then held, so two transactions never take count rows in opposite
orders (no deadlock), and counting adds no wait that the gap-free sequence does not already
impose. The shards keep the counts from becoming a second such point of contention.
"""

import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from db.repositories import statistics as counts
from db.repositories.statistics import CountKey
from db.tables import Organization, Record

# Shards per count on PostgreSQL (see db.tables.StatisticCount); SQLite has one writer at a time.
SHARDS = 8
_SHARD = "statistic_shard"


@dataclass(frozen=True)
class RecordFacts:
    """What the statistics count of a public, active record."""

    kind: str
    region_code: str
    year: int
    list_name: str | None = None
    severity: str | None = None
    grade_scheme: str | None = None
    grade: str | None = None
    category: str | None = None
    product_category: str | None = None
    result: str | None = None


def record_keys(facts: RecordFacts) -> list[CountKey]:
    region, year = facts.region_code, facts.year
    if facts.kind == "rating" and facts.grade_scheme and facts.grade:
        return [CountKey("ratings", region, year, facts.grade_scheme, facts.grade)]
    if facts.kind == "violation" and facts.category and facts.severity:
        return [CountKey("violations", region, year, facts.category, facts.severity)]
    if facts.kind == "list_entry" and facts.list_name:
        return [CountKey("red-and-black", region, year, facts.list_name, "")]
    if facts.kind == "inspection" and facts.product_category and facts.result:
        return [CountKey("inspections", region, year, facts.product_category, facts.result)]
    return []


_COLUMNS = ("kind", "organization_uscc", "visibility", "status", "effective_on", "list_name", "severity",
            "grade_scheme", "grade", "public_summary")


def facts_of(record: Record | Mapping[str, Any]) -> RecordFacts | None:
    """A record's facts as the statistics count them, None when the public does not see it."""
    row: Mapping[str, Any] = record if isinstance(record, Mapping) else {name: getattr(record, name) for name in _COLUMNS}
    if row["visibility"] != "public" or row["status"] != "active":
        return None
    # The public summary, personal data masked when written: a category is shown as the public sees it.
    details = row.get("public_summary") or {}
    effective_on: date = row["effective_on"]
    return RecordFacts(kind=row["kind"], region_code=region_of(row["organization_uscc"]), year=effective_on.year,
                       list_name=row.get("list_name"), severity=row.get("severity"),
                       grade_scheme=row.get("grade_scheme"), grade=row.get("grade"),
                       category=_text(details.get("category")) if row["kind"] == "violation" else None,
                       product_category=_text(details.get("product_category")),
                       result=_text(details.get("result")))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def region_of(uscc: str) -> str:
    """The division a code was registered in (its positions 3-8), as the organization row keeps it."""
    return uscc[2:8]


def of_record(record: Record | Mapping[str, Any]) -> list[CountKey]:
    facts = facts_of(record)
    return record_keys(facts) if facts is not None else []


def organization_keys(region_code: str, status: str) -> list[CountKey]:
    return [CountKey("organizations", region_code, 0, status, "")]


def of_organization(organization: Organization | None) -> list[CountKey]:
    if organization is None:
        return []
    return organization_keys(organization.region_code, organization.status)


def supervision_keys(uscc: str, supervision_class: str | None) -> list[CountKey]:
    return [] if supervision_class is None else [CountKey("supervision-classes", region_of(uscc), 0,
                                                          supervision_class, "")]


def measure_keys(uscc: str, decided_on: date, measure_code: str, department_code: str) -> list[CountKey]:
    return [CountKey("measures", region_of(uscc), decided_on.year, measure_code, department_code)]


def rolled_up(key: CountKey) -> list[CountKey]:
    """A county's fact counted in the county, its province and the country, in its year and in
    all years (year 0), so each read sums the fewest rows (db.tables.StatisticCount)."""
    places = (key, key._replace(region_code=key.region_code[:2]), key._replace(region_code=""))
    return [*places, *(place._replace(year=0) for place in places)] if key.year else list(places)


def move(session: Session, before: Iterable[CountKey], after: Iterable[CountKey]) -> None:
    """Count ``after`` instead of ``before`` (county keys), in the session's transaction."""
    delta: Counter[CountKey] = Counter()
    for key in before:
        for level in rolled_up(key):
            delta[level] -= 1
    for key in after:
        for level in rolled_up(key):
            delta[level] += 1
    changed = [(key, n) for key, n in delta.items() if n]
    if not changed:
        return
    conn = session.connection()
    # One shard per transaction: its own updates never wait on each other, and a concurrent
    # writer most likely holds another shard's rows.
    shard = 0 if conn.dialect.name == "sqlite" else session.info.setdefault(_SHARD, random.randrange(SHARDS))
    counts.add(conn, changed, shard=shard)
