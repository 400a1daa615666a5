"""Department API: bulk push of records and master data (NDJSON or CSV), and its results."""

import json
import math
from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from api import bodies, pushing
from api.deps import ClockDep, Limit, SessionDep, SettingsDep, UnitsOfWork
from api.idempotent import IdempotencyKey
from api.middleware.overload import OVERLOADED_RETRY_SECONDS
from api.problems import PROBLEM_JSON, problem_response, problem_responses
from api.routes.organizations import AUTH_ERRORS
from api.schemas.batches import INLINE_RESULTS, BatchView, LinePage, LineView
from api.security import BATCH_READ_SCOPES, BatchReader, RecordChanger
from api.settings import Settings
from service.batches import running

router = APIRouter(prefix="/v1", tags=["batches"])

BatchId = Path(max_length=40, pattern=r"^bat_[0-9A-Z]{26}$")


@router.post(
    "/batches", response_model=BatchView, operation_id="push_batch",
    responses={**problem_responses(*AUTH_ERRORS, 409, 413, 415),
               409: {"description": "The same Idempotency-Key is still being applied, or was sent with another "
                                    "body; when it is still running, `Retry-After` says when it may resume",
                     "headers": {"Retry-After": {"description": "Seconds until the batch may be resumed",
                                                 "schema": {"type": "integer"}}},
                     "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}},
               499: {"description": "Not an answer: the client closed the connection before its body was "
                                    "sent; logged as such, and its batch may be resumed at once"},
               422: {"description": "An atomic batch with a failing line: nothing was written "
                                    "(problem+json with `batch`, whose results are the failing lines)",
                     "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}},
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/x-ndjson": {"schema": {"type": "string"}, "example": '{"type":"violation","code":"914403001922038216",'
                                 '"decision_no":"深市监罚〔2026〕1号","decided_on":"2026-05-01",...}\n'},
        "text/csv": {"schema": {"type": "string"}}}}},
)
async def push_batch(request: Request, actor: RecordChanger, units: UnitsOfWork, clock: ClockDep,
                     settings: SettingsDep, idempotency_key: IdempotencyKey = None,
                     atomic: bool = Query(False, description="All lines or none"),
                     content_type: str = Header("", include_in_schema=False)) -> Response:
    """Push many records and organizations at once: NDJSON (`application/x-ndjson`) or CSV
    (`text/csv`; UTF-8 with or without BOM, or `charset=gb18030`), one per line, each with its
    `type` (organization, rating, violation, disclosure, list_entry) and `code`. Every line is
    handled exactly as the single write would be (validation, versions, events), needs the same
    scope, and gets a result: accepted (with the record id), duplicate (with the existing id), or
    rejected (line, field, message). Lines are committed as they are applied, so a 200 means
    every accepted line is stored; a batch cut short resumes from where it stopped when sent again
    with the same `Idempotency-Key`. With `atomic=true` nothing is written if any line fails (422)."""
    shape = bodies.line_format(content_type)
    if shape is None:
        return problem_response(415, "Unsupported Media Type", detail="send application/x-ndjson or text/csv, "
                                "in UTF-8 (the default) or with charset=gb18030", instance=request.url.path)
    format_, encoding = shape
    try:
        pushed = await pushing.push(request, actor, units, clock, key=idempotency_key, format=format_,
                                    encoding=encoding, atomic=atomic,
                                    resume_after=timedelta(seconds=settings.batch_resume_seconds))
    except pushing.CutShortByBusyDatabase as cut:
        return _cut_short_by_a_busy_database(request, cut, settings)
    view = json.loads(BatchView.of(pushed.batch, pushed.lines).model_dump_json())
    headers = {"Idempotent-Replayed": "true"} if pushed.replayed else None
    if pushed.status == 422:
        return problem_response(422, "Batch refused", type_="/problems/batch-refused", instance=request.url.path,
                                detail=f"{pushed.batch.rejected} line(s) failed, so no line of this atomic batch "
                                       "was written; see batch.results", batch=view, headers=headers)
    return JSONResponse(view, headers=headers)


def _cut_short_by_a_busy_database(request: Request, cut: pushing.CutShortByBusyDatabase,
                                  settings: Settings) -> Response:
    # Not the generic 503 ("nothing was changed"): the chunks committed before the database got
    # busy are stored. Marked cut short, the batch resumes from the last stored line as soon as
    # the database has room; if even that mark did not get through, it counts as running until
    # batch_resume_seconds pass without a chunk (before that, its key gets a 409).
    batch = cut.batch
    resume = settings.batch_resume_seconds if not cut.resumable else OVERLOADED_RETRY_SECONDS
    if batch.atomic:
        detail, retry = f"the database was busy, so atomic batch {batch.id} wrote nothing", resume
    else:
        detail = (f"the database was busy, so batch {batch.id} stopped part way; the lines applied before are "
                  f"stored (GET /v1/batches/{batch.id})")
        retry = resume if batch.idempotency_key else OVERLOADED_RETRY_SECONDS
    detail += (f"; send it again with the same Idempotency-Key after {resume:g} s" if batch.idempotency_key else
               "; send it again (lines already stored come back as duplicates)")
    return problem_response(503, "Service Unavailable", type_="/problems/overloaded", detail=detail,
                            instance=request.url.path, headers={"Retry-After": str(math.ceil(retry))})


@router.get("/batches/{batch_id}", response_model=BatchView, operation_id="get_batch",
            responses=problem_responses(*AUTH_ERRORS, 404), openapi_extra=BATCH_READ_SCOPES)
def get_batch(session: SessionDep, actor: BatchReader, batch_id: str = BatchId) -> BatchView:
    """A batch of the department: its counts and its first line results."""
    batch = running.get(session, batch_id, department_code=actor.department_code)
    return BatchView.of(batch, running.results(session, batch_id, department_code=actor.department_code, outcome=None,
                                            after_line=0, limit=INLINE_RESULTS))


@router.get("/batches/{batch_id}/results", response_model=LinePage, operation_id="list_batch_results",
            responses=problem_responses(*AUTH_ERRORS, 404), openapi_extra=BATCH_READ_SCOPES)
def list_batch_results(session: SessionDep, actor: BatchReader, batch_id: str = BatchId, limit: Limit = 200,
                       cursor: str | None = Query(None, pattern=r"^[0-9]{1,12}$", description="next_cursor"),
                       outcome: Literal["accepted", "duplicate", "rejected"] | None = Query(None)) -> LinePage:
    """Every line's result in line order (`outcome=rejected` for what needs fixing)."""
    lines = running.results(session, batch_id, department_code=actor.department_code, outcome=outcome,
                         after_line=int(cursor or 0), limit=limit + 1)
    return LinePage(items=[LineView.of(line) for line in lines[:limit]],
                    next_cursor=str(lines[limit - 1].line) if len(lines) > limit else None)
