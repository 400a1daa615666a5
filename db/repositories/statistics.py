"""The counts of the public statistics: added to in the writing transaction, summed on read, and
rebuilt from the rows they count (the operator's recount and the migration's backfill)."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, Integer, Select, and_, cast, delete, extract, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement

from db.tables import Grade, MeasureApplication, Organization, Record, StatisticCount, SupervisionState, table_of

_count, _record, _organization = table_of(StatisticCount), table_of(Record), table_of(Organization)
_supervision, _application = table_of(SupervisionState), table_of(MeasureApplication)


class CountKey(NamedTuple):
    """What one count counts: statistic, division (a county's 6 digits, a province's 2, or '' for
    the country), year (0: not by year), facet, detail."""

    statistic: str
    region_code: str
    year: int
    facet: str
    detail: str


def add(conn: Connection, deltas: Sequence[tuple[CountKey, int]], *, shard: int) -> None:
    """``count = count + delta`` for each key, creating the rows a first fact needs. Keys go in
    their sort order, so two transactions adding to the same rows lock them in the same order
    (no deadlock on PostgreSQL)."""
    if not deltas:
        return
    rows = [{**key._asdict(), "level": len(key.region_code), "shard": shard, "count": delta}
            for key, delta in sorted(deltas)]
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(_count)
    upsert = statement.on_conflict_do_update(
        index_elements=[_count.c.statistic, _count.c.level, _count.c.year, _count.c.region_code, _count.c.facet, _count.c.detail,
                        _count.c.shard],
        set_={"count": _count.c.count + statement.excluded.count})
    conn.execute(upsert, rows)


@dataclass(frozen=True)
class Filter:
    statistic: str
    region_prefix: str | None
    year: int | None


def _where(selected: Filter, *, by_region: bool = False, by_year: bool = False) -> tuple[ColumnElement[bool], Any]:
    """The rows a filter reads (the fewest: the country's or a province's own when they answer
    it) and, by division, what groups them: provinces, a province's cities, a city's counties."""
    prefix = selected.region_prefix or ""
    conditions = [_count.c.statistic == selected.statistic]
    group: Any = None
    if len(prefix) == 0 and not by_region:
        conditions += [_count.c.level == 0]
    elif len(prefix) == 0:
        conditions += [_count.c.level == 2]
        group = _count.c.region_code
    elif len(prefix) == 2 and not by_region:
        conditions += [_count.c.level == 2, _count.c.region_code == prefix]
    else:
        # A range on the key, so the primary key serves a province's, a city's or a county's counties.
        # The upper bound is the next prefix of digits ("4404" for "4403"), never a character
        # after the digits: in a linguistic collation (en_US, zh_CN) "~" sorts before them.
        following = str(int(prefix) + 1).zfill(len(prefix))
        conditions += [_count.c.level == 6, _count.c.region_code >= prefix,
                       *([_count.c.region_code < following] if len(following) == len(prefix) else [])]
        group = func.substr(_count.c.region_code, 1, 4) if len(prefix) == 2 else _count.c.region_code
    # Year 0 holds every year's facts together (and the facts not counted by year); by year, the
    # rows of each year are read instead.
    if selected.year is not None:
        conditions.append(_count.c.year == selected.year)
    else:
        conditions.append(_count.c.year != 0 if by_year else _count.c.year == 0)
    return and_(*conditions), group


def summed_statement(selected: Filter, *, by: str) -> Select[tuple[Any, str, Any]]:
    """The read of one table (also what bench/public_statistics.py explains)."""
    where, by_region = _where(selected, by_region=by == "region", by_year=by == "year")
    group: Any = {"facet": _count.c.facet, "year": cast(_count.c.year, Integer), "region": by_region}[by]
    total = func.sum(_count.c.count)
    return (select(group.label("grp"), _count.c.detail, total).where(where)
            .group_by(group, _count.c.detail).having(total != 0).order_by(group, _count.c.detail))


def summed(conn: Connection, selected: Filter, *, by: str) -> list[tuple[str, str, int]]:
    """(group, detail, count) summed over shards (and what the grouping leaves out); ``by`` is
    ``facet``, ``region`` (one level below the filter's division) or ``year``."""
    return [(str(g), d, int(n)) for g, d, n in conn.execute(summed_statement(selected, by=by))]


def total(conn: Connection, selected: Filter) -> int:
    where, _ = _where(selected)
    return int(conn.execute(select(func.coalesce(func.sum(_count.c.count), 0)).where(where)).scalar_one())


def measures_applied(conn: Connection) -> list[tuple[str, str, int]]:
    """(measure, department, applications reported), from the counts."""
    total_count = func.sum(_count.c.count)
    statement = (select(_count.c.facet, _count.c.detail, total_count)
                 .where(_count.c.statistic == "measures", _count.c.level == 0, _count.c.year == 0)
                 .group_by(_count.c.facet, _count.c.detail).having(total_count != 0)
                 .order_by(_count.c.facet, _count.c.detail))
    return [(measure, department, int(count)) for measure, department, count in conn.execute(statement)]


# --- Recounting from the rows ---


class RecordGroup(NamedTuple):
    """Public active records that count alike, and how many there are."""

    kind: str
    region_code: str
    year: int
    list_name: str | None
    severity: str | None
    grade_scheme: str | None
    grade: str | None
    category: str | None
    product_category: str | None
    result: str | None
    records: int


def record_groups(conn: Connection) -> Iterator[RecordGroup]:
    """Every public active record, grouped by what the statistics count of it: one scan."""
    details = _record.c.public_summary  # personal data masked, as the public sees it
    columns = [_record.c.kind, func.substr(_record.c.organization_uscc, 3, 6),
               cast(extract("year", _record.c.effective_on), Integer), _record.c.list_name, _record.c.severity,
               _record.c.grade_scheme, _record.c.grade, details["category"].as_string(),
               details["product_category"].as_string(), details["result"].as_string()]
    statement = (select(*columns, func.count())
                 .where(_record.c.visibility == "public", _record.c.status == "active",
                        _record.c.kind.in_(("rating", "violation", "list_entry", "inspection")))
                 .group_by(*columns))
    for row in conn.execute(statement):
        yield RecordGroup(*row)


def organization_groups(conn: Connection) -> list[tuple[str, str, int]]:
    """(division, status, organizations)."""
    statement = (select(_organization.c.region_code, _organization.c.status, func.count())
                 .group_by(_organization.c.region_code, _organization.c.status))
    return [(region, status, int(n)) for region, status, n in conn.execute(statement)]


def supervision_groups(conn: Connection) -> list[tuple[str, str, int]]:
    """(division, supervision class noted, organizations)."""
    region = func.substr(_supervision.c.organization_uscc, 3, 6)
    statement = (select(region, _supervision.c.supervision_class, func.count())
                 .group_by(region, _supervision.c.supervision_class))
    return [(r, c, int(n)) for r, c, n in conn.execute(statement)]


def measure_groups(conn: Connection) -> list[tuple[str, int, str, str, int]]:
    """(division, year, measure, department, applications reported)."""
    region = func.substr(_application.c.organization_uscc, 3, 6)
    year = cast(extract("year", _application.c.decided_on), Integer)
    statement = (select(region, year, _application.c.measure_code, _application.c.department_code, func.count())
                 .group_by(region, year, _application.c.measure_code, _application.c.department_code))
    return [(r, y, m, d, int(n)) for r, y, m, d, n in conn.execute(statement)]


def lock_counts(conn: Connection) -> None:
    """Hold every writer's count updates until the caller commits (PostgreSQL; SQLite has one
    writer at a time): a recount then sees each write either whole, or not at all and its
    delta is added after."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE statistic_count IN EXCLUSIVE MODE"))


def replace_all(conn: Connection, counts: dict[CountKey, int], *, batch: int = 2000) -> None:
    """Every count as given (shard 0), the old rows gone: in the caller's transaction."""
    conn.execute(delete(_count))
    rows = [{**key._asdict(), "level": len(key.region_code), "shard": 0, "count": n}
            for key, n in sorted(counts.items()) if n]
    for start in range(0, len(rows), batch):
        conn.execute(insert(_count), rows[start:start + batch])


def all_counts(conn: Connection) -> dict[CountKey, int]:
    """The counts as kept, summed over shards, zeros left out: what a recount must equal."""
    key = [_count.c.statistic, _count.c.region_code, _count.c.year, _count.c.facet, _count.c.detail]
    statement = select(*key, func.sum(_count.c.count)).group_by(*key)
    return {CountKey(*row[:5]): int(row[5]) for row in conn.execute(statement) if row[5]}



def grade_labels(conn: Connection) -> dict[tuple[str, str], tuple[int, str, str]]:
    """(scheme, grade) -> (rank, label zh, label en), to name the rows of the ratings statistic."""
    grade = table_of(Grade)
    statement = select(grade.c.scheme_code, grade.c.code, grade.c.rank, grade.c.label_zh, grade.c.label_en)
    return {(s, c): (r, zh, en) for s, c, r, zh, en in conn.execute(statement)}
