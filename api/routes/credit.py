"""Credit checks in bulk (bidding, procurement, licensing, lending), and measures applied (反馈)."""

import csv
import io
import json
from itertools import islice
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from api.bodies import line_format
from api.deps import AuditedRead, Now, ReadSession, SessionDep, Today
from api.idempotent import IdempotencyKey, respond
from api.problems import problem_responses
from api.request_audit import request_audit
from api.schemas.credit import (
    BulkCheckAnswer,
    BulkCheckRequest,
    BulkCheckResult,
    CatalogueView,
    GradeSchemeVersionView,
    MeasureApplicationCreate,
    MeasureApplicationView,
)
from api.security import CREDIT_CHECK_SCOPES, CreditChecker, Reader, Writer
from api.spreadsheet import spreadsheet_cell
from service.credit import checks, feedback, measures
from service.credit.feedback import Applied
from service.errors import NotFound
from service.rules import grade_schemes
from service.rules.clock import Day

router = APIRouter(tags=["credit"])

CodePath = Path(description="USCC or legacy organization code, any typed form", max_length=64,
                examples=["914403001922038216"])
# Column names a CSV of codes may carry (else the first column is the code).
_CODE_COLUMNS = ("code", "uscc", "统一社会信用代码", "组织机构代码", "代码")
CSV_FIELDS = ("input", "code", "name", "as_of", "black_listed", "red_listed", "grade", "grade_scheme",
              "supervision_class", "measures", "active_violations", "error_status", "error")


def _codes_of_csv(text: str) -> list[str]:
    """The codes of a CSV: a `code` column, or the first column. One row past the limit is read at
    most: the limit's own message then refuses the request, without parsing the rest."""
    rows = (row for row in csv.reader(io.StringIO(text, newline="")) if any(cell.strip() for cell in row))
    first = next(rows, None)
    if first is None:
        return []
    header = [cell.strip().lower() for cell in first]
    column = next((header.index(name) for name in _CODE_COLUMNS if name in header), None)
    if column is None:
        return [first[0].strip()] + [row[0].strip() for row in islice(rows, checks.MAX_CODES)]
    return [row[column].strip() if column < len(row) else "" for row in islice(rows, checks.MAX_CODES + 1)]


async def bulk_request(request: Request, as_of: Annotated[str | None, Query(
                           description="With a CSV body: answer as the registry stood at the end of this day")] = None,
                       purpose: Annotated[str | None, Query(
                           max_length=200, description="With a CSV body: why the check is made")] = None,
                       content_type: Annotated[str, Header(include_in_schema=False)] = "") -> BulkCheckRequest:
    """The request as JSON, or as CSV of codes (a `code` column, or codes in the first column) with
    `as_of` and `purpose` in the query."""
    raw = await request.body()
    shape = line_format(content_type)
    try:
        if shape is not None and shape[0] == "csv":
            try:
                text = raw.decode(shape[1]).removeprefix("\ufeff")
            except UnicodeDecodeError:
                raise RequestValidationError([{"type": "value_error", "loc": ("body",), "input": None,
                                               "msg": f"the CSV is not {shape[1]} text"}]) from None
            data: Any = {"codes": _codes_of_csv(text), "as_of": as_of, "purpose": purpose}
        else:
            data = json.loads(raw or b"null")
        return BulkCheckRequest.model_validate(data)
    except json.JSONDecodeError as error:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", error.pos), "input": None,
                                       "msg": f"JSON decode error: {error.msg}"}]) from None
    except UnicodeDecodeError as error:  # json.loads of bytes that are no UTF-8, -16 or -32
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", error.start), "input": None,
                                       "msg": "the body is not UTF-8 text"}]) from None
    except RecursionError:  # JSON nested thousands deep
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body",), "input": None,
                                       "msg": "the JSON is nested too deep"}]) from None
    except csv.Error as error:  # a field past the csv module's limit, a stray NUL
        raise RequestValidationError([{"type": "value_error", "loc": ("body",), "input": None,
                                       "msg": f"the CSV cannot be read: {error}"}]) from None
    except ValidationError as error:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors()]) from None


def _csv_answer(answer: BulkCheckAnswer) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    for result in answer.results:
        check, error = result.check, result.error
        cells: list[object] = [result.input]
        if check is not None:
            cells += [check.code, check.name, check.as_of, check.black_listed, check.red_listed, check.grade,
                      check.grade_scheme, check.supervision_class.code, ";".join(m.code for m in check.measures),
                      check.active_violations, "", ""]
        else:
            assert error is not None
            cells += [""] * 10 + [error.status, error.detail]
        writer.writerow([spreadsheet_cell(c) for c in cells])
    return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="credit-checks.csv"'})


@router.post(
    "/v1/credit-checks", response_model=BulkCheckAnswer, operation_id="bulk_credit_check",
    responses={**problem_responses(401, 403, 413, 422),
               200: {"description": "One result per code, in order", "content": {"text/csv": {}}}},
    openapi_extra={**CREDIT_CHECK_SCOPES, "requestBody": {"required": True, "content": {
        # Inline: the body is read by a dependency (JSON or CSV), so it is no component of its own.
        "application/json": {"schema": BulkCheckRequest.model_json_schema()},
        "text/csv": {"schema": {"type": "string"}, "example": "code\n914403001922038216\n91110000100006246H\n"}}}},
)
def bulk_credit_check(request: Request, body: Annotated[BulkCheckRequest, Depends(bulk_request)],
                      session: AuditedRead, actor: CreditChecker, today: Today, now: Now,
                      accept: Annotated[str, Header(include_in_schema=False)] = "") -> Response:
    """Check up to 1,000 organizations at once, for a tender, a procurement, a licence or a loan:
    one result per code, in the order sent; a code that is not valid or not registered gets its
    own error and the others still answer. JSON (`codes`, `as_of`, `purpose`), or CSV of codes with
    `as_of` and `purpose` in the query; `Accept: text/csv` answers CSV. The purpose is kept in the
    audit log with the number of codes."""
    request_audit(request).detail = f"purpose: {body.purpose}; {len(body.codes)} codes"
    viewer, kind = checks.viewer_of(session, actor)
    results = checks.standings(session, body.codes, viewer=viewer, viewer_kind=kind, today=today, as_of=body.as_of)
    items = [BulkCheckResult.of(typed, result) for typed, result in zip(body.codes, results, strict=True)]
    found = sum(1 for item in items if item.check is not None)
    answer = BulkCheckAnswer(as_of=min(body.as_of or today, today), purpose=body.purpose, checked_at=now,
                             results=items, found=found, errors=len(items) - found)
    if "text/csv" in accept:
        return _csv_answer(answer)
    return JSONResponse(answer.model_dump(mode="json"))


@router.post("/v1/organizations/{code}/measures", status_code=201, response_model=MeasureApplicationView,
             operation_id="report_measure_applied", tags=["organizations"],
             responses=problem_responses(401, 403, 404, 409, 422))
def report_measure_applied(request: Request, body: MeasureApplicationCreate, session: SessionDep, actor: Writer,
                           now: Now, idempotency_key: IdempotencyKey = None, code: str = CodePath) -> Response:
    """Report that the department applied a measure of the catalogue (反馈): which measure, its own
    decision number and date, and the record that triggered it. The measure must have applied to
    the organization that day (as the department's credit check as of that day says) and be one its
    kind of department applies. The department that owns the triggering record is told
    (event `measure.applied`) and sees the report among the organization's measures."""
    def produce() -> tuple[int, MeasureApplicationView]:
        applied = Applied(body.measure, body.decision_no, body.decided_on, body.trigger_record_id, body.note)
        row = feedback.report(session, code, applied, department_code=actor.department_code, now=now)
        return 201, MeasureApplicationView.of(row)
    return respond(request, session, actor, idempotency_key, body, produce, now=now)


@router.get("/v1/organizations/{code}/measures", response_model=list[MeasureApplicationView],
            operation_id="list_measures_applied", tags=["organizations"],
            responses=problem_responses(401, 403, 404, 422))
def list_measures_applied(session: SessionDep, actor: Reader, code: str = CodePath) -> list[MeasureApplicationView]:
    """Measures reported as applied to the organization that the department may see: those it
    applied, and those triggered by its own records."""
    return [MeasureApplicationView.of(row) for row in
            feedback.of_organization(session, code, viewer=actor.department_code)]


@router.get("/v1/public/measures", response_model=CatalogueView, operation_id="public_measure_catalogue",
            tags=["public"], responses=problem_responses(404, 422))
def public_measure_catalogue(session: ReadSession, today: Today, as_of: Annotated[Day | None, Query(
        description="The catalogue in force on this day; default today")] = None) -> CatalogueView:
    """The measures catalogue in force (守信激励、失信惩戒): what triggers each measure, which kinds of
    department apply it, its legal basis and how long it lasts. Public, as the lists it follows are."""
    catalogue = measures.in_force(session, min(as_of or today, today))
    if catalogue is None:  # the shipped catalogue is in force from 1949 on
        raise NotFound("no measures catalogue is in force on that day")
    return CatalogueView.of(catalogue)


@router.get("/v1/public/grade-schemes", response_model=list[GradeSchemeVersionView],
            operation_id="public_grade_schemes", tags=["public"])
def public_grade_schemes(session: ReadSession) -> list[GradeSchemeVersionView]:
    """Every version of every grade scheme: its grades, score ranges and the supervision class and
    inspection frequency each leads to."""
    return [GradeSchemeVersionView.of(v) for v in grade_schemes.versions(session)]
