"""Rebuilding the statistics from the rows they count: the operator's repair
(``credit-registry recount-statistics``), the migration's backfill, and what tests compare the
counts kept by the writes with. Grouped in the database (one scan per table), then counted
through the same functions the writes use (``counting``)."""

from collections import Counter

from sqlalchemy import Connection

from db.repositories import statistics as counts
from db.repositories.statistics import CountKey
from service.statistics import counting


def recount(conn: Connection) -> dict[CountKey, int]:
    """What every count should be, from the rows as they are now."""
    total: Counter[CountKey] = Counter()
    for group in counts.record_groups(conn):
        facts = counting.RecordFacts(
            kind=group.kind, region_code=group.region_code, year=group.year, list_name=group.list_name,
            severity=group.severity, grade_scheme=group.grade_scheme, grade=group.grade,
            category=group.category if group.kind == "violation" else None,
            product_category=group.product_category, result=group.result)
        for key in counting.record_keys(facts):
            total[key] += group.records
    for region, status, n in counts.organization_groups(conn):
        for key in counting.organization_keys(region, status):
            total[key] += n
    for region, supervision_class, n in counts.supervision_groups(conn):
        total[CountKey("supervision-classes", region, 0, supervision_class, "")] += n
    for region, year, measure, department, n in counts.measure_groups(conn):
        total[CountKey("measures", region, int(year), measure, department)] += n
    levels: Counter[CountKey] = Counter()
    for key, n in total.items():
        for level in counting.rolled_up(key):
            levels[level] += n
    return {key: n for key, n in levels.items() if n}


def rebuild(conn: Connection) -> int:
    """Replace the counts with a recount, in the caller's transaction; how many counts there are."""
    counts.lock_counts(conn)
    fresh = recount(conn)
    counts.replace_all(conn, fresh)
    return len(fresh)


def kept(conn: Connection) -> dict[CountKey, int]:
    """The counts as the writes kept them."""
    return counts.all_counts(conn)
