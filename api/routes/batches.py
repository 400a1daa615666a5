"""Department API: bulk push of records and master data (NDJSON or CSV), and its results."""

import json
import logging
import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import partial
from tempfile import SpooledTemporaryFile
from typing import Literal

import anyio.from_thread
from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect

from api.deps import Limit, SessionDep
from api.idempotent import IdempotencyKey
from api.middleware import request_trail
from api.middleware.public_edge import OVERLOADED_RETRY_SECONDS
from api.problems import DATABASE_BUSY, PROBLEM_JSON, problem_response, problem_responses
from api.routes.organizations import AUTH_ERRORS
from api.security import RecordChanger
from db.session import transaction
from db.tables import Batch, BatchLine
from service.batches import running

log = logging.getLogger("registry.batches")

# An atomic batch's body, read in full before its transaction: in memory up to this, then on disk.
SPOOL_IN_MEMORY_BYTES = 8 * 1024 * 1024
SPOOL_READ_BYTES = 256 * 1024
# Marking a batch cut short follows a failure, maybe a busy database: a short try, not another full
# wait; if it fails, the key resumes the batch after batch_resume_seconds of silence instead.
MARK_WAIT_SECONDS = 1.0

router = APIRouter(prefix="/v1", tags=["batches"])

BatchId = Path(max_length=40, pattern=r"^bat_[0-9A-Z]{26}$")
INLINE_RESULTS = 1000
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030"}
FORMATS = {"application/x-ndjson": "ndjson", "application/ndjson": "ndjson", "text/csv": "csv"}


class LineView(BaseModel):
    line: int
    outcome: Literal["accepted", "duplicate", "rejected"]
    kind: str | None
    record_id: str | None = Field(description="accepted: the new record")
    organization: str | None
    existing_id: str | None = Field(description="duplicate: the record already in the registry")
    field: str | None
    message: str | None

    @classmethod
    def of(cls, line: BatchLine) -> "LineView":
        return cls.model_validate(line, from_attributes=True)


class BatchView(BaseModel):
    id: str
    status: Literal["running", "completed", "rejected"]
    format: str
    atomic: bool
    lines: int = Field(description="Lines read (the number of the last one)")
    accepted: int
    duplicates: int
    rejected: int
    created_at: datetime
    finished_at: datetime | None
    results: list[LineView] = Field(description=f"The first {INLINE_RESULTS} line results (of an atomic batch "
                                                "that was refused: the failing lines)")
    results_url: str = Field(description="Every line's result, a page at a time")

    @classmethod
    def of(cls, batch: Batch, lines: list[BatchLine]) -> "BatchView":
        # Cut short is internal (whether its key may resume at once); to the caller the batch is
        # unfinished, which "running" has always meant.
        status = "running" if batch.status == running.CUT_SHORT else batch.status
        return cls(id=batch.id, status=status, format=batch.format, atomic=batch.atomic, lines=batch.lines,
                   accepted=batch.accepted, duplicates=batch.duplicates, rejected=batch.rejected,
                   created_at=batch.created_at, finished_at=batch.finished_at,
                   results=[LineView.of(line) for line in lines], results_url=f"/v1/batches/{batch.id}/results")


class LinePage(BaseModel):
    items: list[LineView]
    next_cursor: str | None


def _format_of(content_type: str | None) -> tuple[str, str] | None:
    media, _, parameters = (content_type or "").partition(";")
    format_ = FORMATS.get(media.strip().lower())
    charset = "utf-8"
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    encoding = ENCODINGS.get(charset)
    return (format_, encoding) if format_ and encoding else None


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
async def push_batch(request: Request, actor: RecordChanger, idempotency_key: IdempotencyKey = None,
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
    shape = _format_of(content_type)
    if shape is None:
        return problem_response(415, "Unsupported Media Type", detail="send application/x-ndjson or text/csv, "
                                "in UTF-8 (the default) or with charset=gb18030", instance=request.url.path)
    format_, encoding = shape
    database, clock = request.app.state.database, request.app.state.clock

    def unit_of_work():
        return transaction(database)

    def marking():
        return transaction(database, wait=MARK_WAIT_SECONDS)

    batch, after, replayed = await run_in_threadpool(
        running.start, unit_of_work, department_code=actor.department_code, client_id=actor.client_id,
        scopes=actor.scopes, key=idempotency_key, format=format_, atomic=atomic, now=clock.now(),
        resume_after=timedelta(seconds=request.app.state.settings.batch_resume_seconds))
    body = request.stream()
    if not replayed:
        def chunks() -> Iterator[bytes]:
            # The body, read from the event loop a piece at a time as the worker thread needs it.
            while True:
                try:
                    yield anyio.from_thread.run(body.__anext__)
                except StopAsyncIteration:
                    return

        read = running.ndjson_lines if format_ == "ndjson" else running.csv_lines
        with SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES) as spool:
            if batch.atomic:
                # Every line goes in one transaction, which holds the write lock (all of SQLite;
                # on PostgreSQL the event counter): read the whole body first, so a slow sender
                # does not hold every other write up while it sends.
                try:
                    async for piece in body:
                        spool.write(piece)
                except Exception:  # the client went away or stalled: nothing applied, the key may go on
                    await run_in_threadpool(partial(running.cut_short, marking, batch.id, heartbeat=batch.updated_at))
                    raise
                spool.seek(0)
            source = iter(partial(spool.read, SPOOL_READ_BYTES), b"") if batch.atomic else chunks()
            try:
                batch = await run_in_threadpool(running.run, unit_of_work, read(source, encoding), batch=batch,
                                                after=after, department_code=actor.department_code,
                                                scopes=actor.scopes, clock=clock, marking=marking)
            except running.BatchInterrupted as stop:
                cause = stop.__cause__
                if isinstance(cause, DATABASE_BUSY):
                    return _cut_short_by_a_busy_database(request, batch, cause, resumable=stop.resumable)
                if isinstance(cause, ClientDisconnect):
                    log.info("batch %s: the client went away mid-body; %s", batch.id,
                             "its key resumes it at once" if stop.resumable else "not marked cut short")
                raise cause from None  # answered as it would be anywhere (499, 408, 413, 500)
    async for _ in body:  # what was not read (a batch stops at an atomic failure, a replay reads none)
        pass
    status = 422 if batch.status == "rejected" else 200
    request.state.response_status = status

    def finish() -> list[BatchLine]:
        with transaction(database) as session:
            lines = running.results(session, batch.id, department_code=actor.department_code, outcome=None,
                                 after_line=0, limit=INLINE_RESULTS)
            request_trail.audit_success(session, request)
            return lines

    lines = await run_in_threadpool(finish)
    request.state.audited = True
    view = BatchView.of(batch, lines)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    if status == 422:
        return problem_response(422, "Batch refused", type_="/problems/batch-refused", instance=request.url.path,
                                detail=f"{batch.rejected} line(s) failed, so no line of this atomic batch was "
                                       "written; see batch.results", batch=json.loads(view.model_dump_json()),
                                headers=headers)
    return JSONResponse(json.loads(view.model_dump_json()), headers=headers)


def _cut_short_by_a_busy_database(request: Request, batch: Batch, error: Exception, *, resumable: bool) -> Response:
    # Not the generic 503 ("nothing was changed"): the chunks committed before the database got
    # busy are stored. Marked cut short, the batch resumes from the last stored line as soon as
    # the database has room; if even that mark did not get through, it counts as running until
    # batch_resume_seconds pass without a chunk (before that, its key gets a 409).
    log.warning("batch %s cut short by a busy database: %s", batch.id, type(error).__name__)
    resume = request.app.state.settings.batch_resume_seconds if not resumable else OVERLOADED_RETRY_SECONDS
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
            responses=problem_responses(*AUTH_ERRORS, 404))
def get_batch(session: SessionDep, actor: RecordChanger, batch_id: str = BatchId) -> BatchView:
    """A batch of the department: its counts and its first line results."""
    batch = running.get(session, batch_id, department_code=actor.department_code)
    return BatchView.of(batch, running.results(session, batch_id, department_code=actor.department_code, outcome=None,
                                            after_line=0, limit=INLINE_RESULTS))


@router.get("/batches/{batch_id}/results", response_model=LinePage, operation_id="list_batch_results",
            responses=problem_responses(*AUTH_ERRORS, 404))
def list_batch_results(session: SessionDep, actor: RecordChanger, batch_id: str = BatchId, limit: Limit = 200,
                       cursor: str | None = Query(None, pattern=r"^[0-9]{1,12}$", description="next_cursor"),
                       outcome: Literal["accepted", "duplicate", "rejected"] | None = Query(None)) -> LinePage:
    """Every line's result in line order (`outcome=rejected` for what needs fixing)."""
    lines = running.results(session, batch_id, department_code=actor.department_code, outcome=outcome,
                         after_line=int(cursor or 0), limit=limit + 1)
    return LinePage(items=[LineView.of(line) for line in lines[:limit]],
                    next_cursor=str(lines[limit - 1].line) if len(lines) > limit else None)
