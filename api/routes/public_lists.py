"""Public API: the red and black lists, browsed page by page or exported whole."""

from typing import Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from api.deps import Cursor, Limit, ReadConnection, Readings, Today
from api.problems import problem_responses
from api.routes.public import RegionQuery
from api.spreadsheet import streamed_export
from service.public import lists
from service.rules.clock import Day

router = APIRouter(prefix="/v1/public/lists", tags=["public"])

ListName = Literal["red", "black"]
ListPath = Path(description="red (守信) or black (失信)")
# The shape of a department code (api/schemas/admin.py): a filter that cannot match one is a 422
# before anything is read, not a database error in the middle of a streamed export.
DepartmentQuery = Query(None, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
                        description="Deciding department code")
SinceQuery = Query(None, description="Only entries effective on or after this date")


@router.get("/{list_name}", response_model=lists.ListPage, operation_id="browse_list",
            responses=problem_responses(422, 429))
def browse_list(conn: ReadConnection, today: Today, list_name: ListName = ListPath,
                region: str | None = RegionQuery, department: str | None = DepartmentQuery,
                since: Day | None = SinceQuery, limit: Limit = 50, cursor: Cursor = None) -> lists.ListPage:
    """Entries on the list today, newest first, page by page (stable while entries are added)."""
    return lists.browse(conn, list_name, today=today, region=region, department=department, since=since,
                               cursor=cursor, limit=limit)


def _cell(value: Any) -> Any:
    return ";".join(value) if isinstance(value, list) else value


@router.get("/{list_name}/export", operation_id="export_list", response_class=StreamingResponse,
            responses={200: {"description": "The whole list", "content": {"text/csv": {}, "application/x-ndjson": {}}},
                       **problem_responses(422, 429)})
def export_list(today: Today, readings: Readings, list_name: ListName = ListPath,
                format: Literal["csv", "ndjson"] = Query("csv"), region: str | None = RegionQuery,
                department: str | None = DepartmentQuery, since: Day | None = SinceQuery) -> StreamingResponse:
    """The whole list as CSV (UTF-8 with BOM) or NDJSON, streamed: memory stays flat whatever its length."""
    entries = lists.export(readings, list_name, today=today, region=region, department=department, since=since)
    return streamed_export(entries, format=format, header=lists.EXPORT_FIELDS,
                           filename=f"{list_name}-list-{today.isoformat()}.{format}", cell=_cell)
