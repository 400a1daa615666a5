"""Public API: the statistics (organizations, red and black entries, ratings, supervision classes,
penalties, spot checks and pass rates, measures applied), each a table read from counts kept
current by the writes; JSON, or CSV with ``Accept: text/csv`` or ``format=csv``."""

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from api.deps import ReadConnection, Today
from api.problems import problem_responses
from api.routes.public import RegionQuery
from api.schemas.credit import MeasureCount
from api.schemas.statistics import StatisticTableView, StatisticView
from api.spreadsheet import spreadsheet_cell
from service.statistics import tables

router = APIRouter(prefix="/v1/public/statistics", tags=["public"])

YearQuery = Query(description="Only what was decided, listed, rated or published that year")
ByQuery = Query(description="Rows by the statistic's facet, by division (one level below ``region``) "
                                     "or by year")
FormatQuery = Query(description="csv: the table as CSV (as ``Accept: text/csv``)")


@router.get("", response_model=list[StatisticView], operation_id="list_statistics")
def list_statistics() -> list[StatisticView]:
    """The statistics there are."""
    return [StatisticView.of(s) for s in tables.STATISTICS.values()]


@router.get("/measures-applied", response_model=list[MeasureCount], operation_id="measures_applied_statistics")
def measures_applied_statistics(conn: ReadConnection) -> list[MeasureCount]:
    """How many times each measure was reported applied, by department: counts only."""
    return [MeasureCount(measure=m, department=d, count=n) for m, d, n in tables.measures_applied(conn)]


def csv_of(table: StatisticTableView) -> str:
    """The table as CSV: both languages' labels, every cell safe from spreadsheet formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    rates = any(r.pass_rate is not None or r.failed is not None for r in table.rows)
    header = ["key", "label_zh", "label_en", "count"] + (["passed", "failed", "pass_rate"] if rates else [])
    writer.writerow(header)
    for row in table.rows:
        cells: list[object] = [row.key, row.label_zh, row.label_en, row.count]
        if rates:
            cells += [row.passed, row.failed, "" if row.pass_rate is None else row.pass_rate]
        writer.writerow([spreadsheet_cell(c) for c in cells])
    return "\ufeff" + buffer.getvalue()  # BOM: spreadsheet software then reads the file as UTF-8


@router.get("/{name}", response_model=StatisticTableView, operation_id="read_statistic",
            responses={200: {"content": {"text/csv": {}}}, **problem_responses(404, 422, 429)})
def read_statistic(request: Request, response: Response, conn: ReadConnection, today: Today,
                   name: Annotated[str, Path(max_length=32, description="A statistic's name (see the list)")],
                   region: str | None = RegionQuery,
                   year: Annotated[int | None, YearQuery] = None,
                   by: Annotated[Literal["facet", "region", "year"], ByQuery] = "facet",
                   format: Annotated[Literal["csv"] | None, FormatQuery] = None) -> StatisticTableView | Response:
    """One statistic as a table for a division (and everything below it) and a year. Filters that
    cannot match (an unknown statistic or division, a year out of range) are refused."""
    table = StatisticTableView.of(tables.table(conn, name, region=region, year=year, by=by, today=today))
    if format == "csv" or "text/csv" in request.headers.get("accept", ""):
        filename = f"statistics-{name}-{table.region or 'cn'}-{year or 'all'}-by-{by}.csv"
        return Response(csv_of(table), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Vary": "Accept"})
    response.headers["Vary"] = "Accept"  # the same address answers CSV to who asks for it
    return table
