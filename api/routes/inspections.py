"""Public API: spot-check results (监督抽查) searched by product, exported, and one at a time."""

from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import Connection

from api.answers import json_read
from api.deps import Cursor, Limit, ReadConnection, Readings, Today
from api.problems import problem_responses
from api.routes.public import RegionQuery
from api.schemas.inspections import InspectionPageView, InspectionView
from api.spreadsheet import streamed_export
from db.repositories.inspections import Filters
from service.public import inspections
from service.rules.clock import Day

router = APIRouter(prefix="/v1/public/inspections", tags=["public"])

QQuery = Query(None, max_length=50, description="Part of the product name or brand (2+ characters, e.g. 电缆)",
               examples=["电缆"])
ResultQuery = Query(None, description="pass (合格) or fail (不合格)")
FromQuery = Query(None, alias="from", description="Published on or after this date")
ToQuery = Query(None, alias="to", description="Published on or before this date")
ProducerQuery = Query(None, max_length=64, description="The producer's USCC or legacy code, any typed form")
CategoryQuery = Query(None, max_length=200, description="Product category as published, e.g. 电线电缆")
RecordPath = Path(max_length=40, pattern=r"^rec_[0-9A-Z]{26}$", examples=["rec_01JD2X3Y4Z5A6B7C8D9E0F1G2H"])


def _filters(conn: Connection, result: str | None, region: str | None, published_from: Day | None,
             published_to: Day | None, producer: str | None, category: str | None) -> Filters:
    return inspections.filters_of(conn, result=result, region=region, published_from=published_from,
                                  published_to=published_to, producer=producer, category=category)


@router.get("", response_model=InspectionPageView, operation_id="search_inspections",
            responses=problem_responses(422, 429))
async def search_inspections(request: Request, q: str | None = QQuery,
                       result: Literal["pass", "fail"] | None = ResultQuery, region: str | None = RegionQuery,
                       published_from: Day | None = FromQuery, published_to: Day | None = ToQuery,
                       producer: str | None = ProducerQuery, category: str | None = CategoryQuery,
                       limit: Limit = 50, cursor: Cursor = None) -> Response:
    """Spot-check results by product name or brand (any two or more consecutive characters), with
    filters that combine, newest published first, page by page. Only public results in force
    are found: a withdrawn one is gone at once, a corrected one is found by its new text."""
    def read(conn: Connection) -> inspections.InspectionPage:
        filters = _filters(conn, result, region, published_from, published_to, producer, category)
        return inspections.search(conn, q, filters, cursor=cursor, limit=limit)
    return await json_read(request, InspectionPageView, read)


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        if value and isinstance(value[0], dict):  # failed items: item measured (required unit)
            return "; ".join(f"{i['item']} {i['measured']}（{i['required']}{' ' + i['unit'] if i['unit'] else ''}）"
                             for i in value)
        return ";".join(str(v) for v in value)
    return value


@router.get("/export", operation_id="export_inspections", response_class=StreamingResponse,
            responses={200: {"description": "Every match", "content": {"text/csv": {}, "application/x-ndjson": {}}},
                       **problem_responses(422, 429)})
def export_inspections(today: Today, conn: ReadConnection, readings: Readings,
                       format: Literal["csv", "ndjson"] = Query("csv"), q: str | None = QQuery,
                       result: Literal["pass", "fail"] | None = ResultQuery, region: str | None = RegionQuery,
                       published_from: Day | None = FromQuery, published_to: Day | None = ToQuery,
                       producer: str | None = ProducerQuery, category: str | None = CategoryQuery
                       ) -> StreamingResponse:
    """Every match of the search as CSV (UTF-8 with BOM) or NDJSON, newest first, streamed."""
    filters = _filters(conn, result, region, published_from, published_to, producer, category)
    found = inspections.export(readings, q, filters)
    return streamed_export(found, format=format, header=inspections.EXPORT_FIELDS,
                           filename=f"inspections-{today.isoformat()}.{format}", cell=_cell)


@router.get("/{record_id}", response_model=InspectionView, operation_id="get_public_inspection",
            responses=problem_responses(404, 422))
def get_public_inspection(conn: ReadConnection, record_id: str = RecordPath) -> Any:
    """One spot-check result on public display, with its failed items (measured against required)."""
    return inspections.one(conn, record_id)
