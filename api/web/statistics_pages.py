"""The statistics page: every statistic as a table and a bar chart drawn on the server as inline
SVG (no script, nothing from another site; readable by screen readers through its title and
description, in the page's language), with a CSV download of each; and the home page's key
figures with the newest red and black entries."""

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape
from sqlalchemy import Connection

from api.deps import ReadConnection, Today
from api.web.i18n import Language
from api.web.rendering import language, render
from api.web.statistics_words import statistics_words
from service.errors import InvalidRecord
from service.public import lists
from service.statistics import tables

router = APIRouter(include_in_schema=False)

_BAR_COLOURS = {"red-and-black": "#b3261e", "inspections": "#2e7d32"}
_WIDTH, _LABEL_WIDTH, _BAR_HEIGHT, _GAP = 720, 260, 22, 6


def _label(row: tables.Row, lang: Language) -> str:
    return row.label_zh if lang == "zh" else row.label_en


def bar_chart(table: tables.Table, lang: Language, *, chart_id: str) -> Markup:
    """A horizontal bar per row, its count (and pass rate) written beside it: the chart says
    what the table says, so it reads without colour and without JavaScript."""
    t = statistics_words(lang)
    title = table.statistic.title_zh if lang == "zh" else table.statistic.title_en
    place = table.region_zh if lang == "zh" else table.region_en
    if table.year is not None:
        place += f" · {table.year}"
    desc = t["chart_desc"].format(title=title, place=place, total=table.total)
    rows = table.rows[:40]  # a chart of more bars than that is a table's job
    height = max(1, len(rows)) * (_BAR_HEIGHT + _GAP) + _GAP
    largest = max((r.count for r in rows), default=0) or 1
    plot = _WIDTH - _LABEL_WIDTH - 120
    colour = _BAR_COLOURS.get(table.statistic.name, "#1f5fa8")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="100%" '
             f'viewBox="0 0 {_WIDTH} {height}" aria-labelledby="{chart_id}-title {chart_id}-desc" '
             f'data-testid="chart">',
             f'<title id="{chart_id}-title">{escape(title)}</title>',
             f'<desc id="{chart_id}-desc">{escape(desc)}</desc>']
    for index, row in enumerate(rows):
        y = _GAP + index * (_BAR_HEIGHT + _GAP)
        width = round(plot * row.count / largest, 1)
        value = f"{row.count}" + (f" · {row.pass_rate:.1%}" if row.pass_rate is not None else "")
        label = _label(row, lang)
        shown = label if len(label) <= 18 else label[:17] + "…"
        parts.append(f'<g><title>{escape(label)}: {escape(value)}</title>'
                     f'<text x="{_LABEL_WIDTH - 8}" y="{y + _BAR_HEIGHT * 0.7:.1f}" text-anchor="end" '
                     f'font-size="13">{escape(shown)}</text>'
                     f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{width}" height="{_BAR_HEIGHT}" fill="{colour}"/>'
                     f'<text x="{_LABEL_WIDTH + width + 6:.1f}" y="{y + _BAR_HEIGHT * 0.7:.1f}" '
                     f'font-size="13">{escape(value)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Shown:
    table: tables.Table
    chart: Markup
    csv_href: str
    year_ignored: bool


def _csv_href(name: str, params: dict[str, Any]) -> str:
    query = {k: v for k, v in params.items() if v not in (None, "")} | {"format": "csv"}
    return f"/v1/public/statistics/{name}?{urlencode(query)}"


@router.get("/statistics", response_class=HTMLResponse)
def statistics_page(request: Request, conn: ReadConnection, today: Today,
                    region: str | None = Query(None, max_length=30), year: str | None = Query(None, max_length=4),
                    by: str | None = Query(None, max_length=8)) -> HTMLResponse:
    lang = language(request)
    t = statistics_words(lang)
    grouping: tables.Grouping = "region" if by == "region" else "year" if by == "year" else "facet"
    region = region or None
    shown, error = [], None
    try:
        year_number = int(year) if year else None
    except ValueError:
        year_number, error = None, f"{t['year']}: {year}"
    if error is None:
        try:
            for statistic in tables.STATISTICS.values():
                by_year = statistic.by_year
                table = tables.table(conn, statistic.name, region=region, year=year_number if by_year else None,
                                     by=grouping if by_year or grouping != "year" else "facet", today=today)
                params = {"region": region, "year": year_number if by_year else None, "by": table.by}
                shown.append(Shown(table, bar_chart(table, lang, chart_id=f"chart-{statistic.name}"),
                                   _csv_href(statistic.name, params), year_number is not None and not by_year))
        except InvalidRecord as invalid:
            shown, error = [], invalid.detail
    return render(request, "statistics.html", status=422 if error else 200, t=t, shown=shown, error=error,
                  region=region or "", year=year or "", by=grouping, this_year=today.year)


@dataclass(frozen=True)
class HomeFigures:
    organizations: int
    red: int
    black: int
    inspections: int
    pass_rate: float | None
    newest_red: list[lists.ListEntry]
    newest_black: list[lists.ListEntry]


def home_figures(conn: Connection, today: date) -> HomeFigures:
    """The home page's key figures and newest list entries: a few reads of the counts and the
    list index, whatever the registry's size."""
    def table(name: str) -> tables.Table:
        return tables.table(conn, name, region=None, year=None, by="facet", today=today)

    listed = {row.key: row.count for row in table("red-and-black").rows}
    spot_checks = table("inspections")
    passed = sum(r.passed or 0 for r in spot_checks.rows)
    return HomeFigures(
        organizations=table("organizations").total, red=listed.get("red", 0), black=listed.get("black", 0),
        inspections=spot_checks.total, pass_rate=passed / spot_checks.total if spot_checks.total else None,
        newest_red=lists.browse(conn, "red", today=today, limit=5).items,
        newest_black=lists.browse(conn, "black", today=today, limit=5).items)


def home_words(request: Request) -> dict[str, str]:
    return statistics_words(language(request))
