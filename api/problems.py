"""Errors as RFC 9457 problem details, from one place.

Domain errors map to statuses in ``STATUS_BY_ERROR`` (walked along the class hierarchy, so a
subclass inherits its parent's status). Validation errors list ``{loc, msg, type}`` and never the
input itself, which may hold a secret. Anything unexpected is a 500 with no trace in the body.
"""

import logging
import math
import sqlite3
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import InterfaceError as PsycopgInterfaceError
from psycopg import OperationalError as PsycopgOperationalError
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from api.middleware.overload import OVERLOADED_RETRY_SECONDS
from api.request_audit import request_audit
from db.sealing import SealingKeyMismatch
from db.session import DatabaseBusy, is_storage_full
from service.errors import (
    Conflict,
    CursorExpired,
    DomainError,
    DuplicateRecord,
    InvalidCode,
    InvalidRecord,
    ListConflict,
    MissingScope,
    NotFound,
    NotOwner,
)
from service.idempotency import IdempotencyKeyInvalid, IdempotencyKeyReused

log = logging.getLogger("registry.errors")

PROBLEM_JSON = "application/problem+json"
CLIENT_CLOSED_REQUEST = 499  # not in RFC 9110; nginx's code for a request its client abandoned
TYPE_BASE = "/problems/"

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    InvalidCode: 422,
    InvalidRecord: 422,
    NotFound: 404,
    Conflict: 409,
    CursorExpired: 410,
    NotOwner: 403,
    MissingScope: 403,
    IdempotencyKeyInvalid: 400,
    IdempotencyKeyReused: 422,
}


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(examples=[["path", "code"]])
    msg: str = Field(examples=["check character should be 6, got 7"])
    type: str = Field(examples=["invalid_code"])


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=["/problems/invalid-code"])
    title: str = Field(examples=["Invalid organization code"])
    status: int = Field(examples=[422])
    detail: str | None = Field(default=None, examples=["check character should be 6, got 7"])
    instance: str | None = Field(default=None, examples=["/v1/public/organizations/914403001922038217"])
    errors: list[ValidationIssue] | None = None
    existing_id: str | None = Field(default=None, description="For duplicates: the record already entered, or "
                                                              "the filer's objection already pending.")
    conflicting_id: str | None = Field(
        default=None, description="For a red-list entry refused: the black entry or violation that excludes it.")
    oldest_cursor: str | None = Field(default=None, description="For an expired feed cursor: the oldest still valid.")
    resync: str | None = Field(default=None, description="For an expired feed cursor: where to list everything again.")


def _slug(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")


def problem_response(
    status: int, title: str, *, detail: str | None = None, type_: str = "about:blank",
    instance: str | None = None, headers: dict[str, str] | None = None, **extra: Any,
) -> JSONResponse:
    body = {"type": type_, "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_for(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


async def _domain_error(request: Request, error: DomainError) -> JSONResponse:
    status = status_for(error)
    extra: dict[str, Any] = {}
    if isinstance(error, MissingScope):  # a scope the service requires by record kind: the audit names it
        request_audit(request).detail = f"missing scope: {error.detail}"
    if isinstance(error, InvalidCode):
        extra["errors"] = [{"loc": ["path", "code"], "msg": error.detail, "type": "invalid_code"}]
    if isinstance(error, InvalidRecord) and error.errors:
        extra["errors"] = error.errors
    elif isinstance(error, InvalidRecord) and error.field:
        extra["errors"] = [{"loc": ["body", error.field], "msg": error.detail, "type": "invalid_record"}]
    if isinstance(error, DuplicateRecord):
        extra["existing_id"] = error.existing_id
    if isinstance(error, ListConflict):
        extra["conflicting_id"] = error.conflicting_id
    if isinstance(error, CursorExpired):
        extra |= {"oldest_cursor": error.oldest_cursor, "resync": error.resync}
    # An error that passes with time (a batch still being applied) says when to ask again.
    retry_after = getattr(error, "retry_after", None)
    return problem_response(
        status, error.title, detail=error.detail, type_=TYPE_BASE + _slug(type(error).__name__),
        # A code that does not parse is the path itself: not echoed, as for validation errors.
        instance=None if isinstance(error, InvalidCode) else request.url.path,
        headers={"Retry-After": str(max(1, math.ceil(retry_after)))} if retry_after is not None else None, **extra,
    )


def _issue(error: dict[str, Any]) -> dict[str, Any]:
    # Pydantic's message and location only: its "input" and "ctx" may carry the submitted value.
    return {"loc": list(error.get("loc", ())), "msg": error.get("msg", "invalid"), "type": error.get("type", "")}


_NOT_PARSED_AS_JSON = {"model_attributes_type", "dict_type"}


def _not_json(request: Request, issues: list[dict[str, Any]]) -> str | None:
    """The media type a JSON body was sent as, when that is why it was not read (FastAPI then
    validates the raw bytes and says only "Input should be a valid dictionary")."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not media or media == "application/json" or media.endswith("+json"):
        return None
    whole_body = any(i["loc"] == ["body"] and i["type"] in _NOT_PARSED_AS_JSON for i in issues)
    return media[:100] if whole_body else None


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    issues = [_issue(e) for e in error.errors()]
    media = _not_json(request, issues)
    if media is not None:
        return problem_response(415, "Unsupported Media Type", detail=f"send the body as application/json, not {media}",
                                type_=TYPE_BASE + "unsupported-media-type")
    return problem_response(
        422, "Invalid request", detail="; ".join(f"{'.'.join(map(str, i['loc']))}: {i['msg']}" for i in issues),
        # No ``instance``: a malformed request's path may itself be the malformed (or secret) input.
        type_=TYPE_BASE + "validation", errors=issues,
    )


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    try:
        title = HTTPStatus(error.status_code).phrase
    except ValueError:
        title = "Error"
    detail = error.detail if isinstance(error.detail, str) and error.detail != title else None
    return problem_response(error.status_code, title, detail=detail, instance=request.url.path,
                            headers=getattr(error, "headers", None))


async def _database_refused(request: Request, error: DataError) -> JSONResponse:
    # Input the validators let through but the database cannot store (a NUL character in text on
    # PostgreSQL, a number out of the column's range): the caller's mistake, not a server error.
    log.info("database refused a value on %s %s: %s", request.method, request.url.path, type(error.orig).__name__)
    return problem_response(422, "Invalid value", detail="a value cannot be stored (for example a NUL "
                            "character in text, or a number out of range)", type_=TYPE_BASE + "invalid-value")


# What "the database is busy or unavailable" looks like: the request may be retried (503). Wrapped
# by SQLAlchemy, or the drivers' own where a statement runs on the driver's connection (the public
# lookup, db.prepared): refused connections, a server shutting down or restarting, a connection
# that died, timeouts, locks, a full storage. A driver's ProgrammingError or IntegrityError is a
# bug of ours and stays a 500.
DATABASE_BUSY = (DatabaseBusy, PoolTimeout, OperationalError, InterfaceError, DisconnectionError,
                 sqlite3.OperationalError, sqlite3.InterfaceError, PsycopgOperationalError, PsycopgInterfaceError)

# Freeing space takes an operator, not a moment.
STORAGE_FULL_RETRY_SECONDS = 60


async def _database_busy(request: Request, error: Exception) -> JSONResponse:
    if is_storage_full(error):
        return _storage_full(request, error)
    # No connection free within the wait, a lock held past it (SQLite's write lock, a PostgreSQL
    # lock_timeout), or the database unreachable: the request was not carried out and may be
    # retried, which is what 503 with Retry-After says. A write rolled back with it.
    log.warning("database busy or unavailable on %s %s: %s", request.method, request.url.path, _name(error))
    return problem_response(503, "Service Unavailable", type_=TYPE_BASE + "overloaded",
                            detail="the database is busy or unavailable; nothing was changed, retry shortly",
                            headers={"Retry-After": str(OVERLOADED_RETRY_SECONDS)})


def _storage_full(request: Request, error: Exception) -> JSONResponse:
    # Not "busy": retrying soon will not help, and the operator must free space. Logged as an error
    # saying so, counted in /metrics, and /readyz fails until a write commits again (api.storage_full).
    log.error("database storage is full on %s %s: %s", request.method, request.url.path, _name(error))
    request.app.state.storage_full.refused()
    return problem_response(503, "Service Unavailable", type_=TYPE_BASE + "storage-full",
                            detail="the database's storage is full; nothing was changed. The operator must free "
                                   "space before writes succeed again",
                            headers={"Retry-After": str(STORAGE_FULL_RETRY_SECONDS)})


def _name(error: Exception) -> str:
    """The error's class, and the driver's beneath SQLAlchemy's (AdminShutdown, DiskFull): never
    its message, which may quote the statement's values."""
    cause = getattr(error, "orig", None)
    return type(error).__name__ + (f" ({type(cause).__module__}.{type(cause).__name__})" if cause is not None else "")


async def _database_error(request: Request, error: DBAPIError) -> JSONResponse:
    # Any other database error SQLAlchemy wraps: unavailable if it cost the connection (SQLAlchemy
    # has invalidated it, so the next request gets a fresh one), else a bug (500).
    if error.connection_invalidated:
        return await _database_busy(request, error)
    return await _unexpected_error(request, error)


async def _secret_does_not_open(request: Request, error: SealingKeyMismatch) -> JSONResponse:
    # The operator's to fix (the registry runs with another secrets key than the one that sealed
    # this endpoint's secret), not the caller's: nothing is sent unsigned.
    log.error("on %s %s: %s", request.method, request.url.path, error)
    return problem_response(500, "Internal Server Error", type_=TYPE_BASE + "secrets-key",
                            detail="this endpoint's signing secret does not open with the registry's secrets key; "
                                   "the operator must restore the key", instance=request.url.path)


async def _client_gone(request: Request, error: ClientDisconnect) -> JSONResponse:
    # The client closed the connection before its body was sent: its doing, not a server error,
    # so no traceback and no 500. 499 (as nginx logs it) goes to the access log and the audit
    # entry; nobody is left to read the answer.
    log.info("client aborted %s %s before sending its whole body", request.method, request.url.path,
             extra={"request_id": getattr(request.state, "request_id", None)})
    return problem_response(CLIENT_CLOSED_REQUEST, "Client Closed Request", detail="the connection closed mid-body",
                            instance=request.url.path)


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    # Starlette answers this one from its outermost middleware, outside api.middleware.request_trail.RequestTrail and
    # api.middleware.security_headers.SecurityHeaders, so their headers never reach it: the request id (what ties a
    # caller's report to the log) and nosniff are set here.
    request_id = getattr(request.state, "request_id", None)
    log.exception("unhandled error on %s %s", request.method, request.url.path, extra={"request_id": request_id})
    headers = {"X-Content-Type-Options": "nosniff"} | ({"X-Request-ID": request_id} if request_id else {})
    return problem_response(500, "Internal Server Error", detail="The error was logged.",
                            instance=request.url.path, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]  # typed for Exception
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]  # typed for Exception
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]  # typed for Exception
    app.add_exception_handler(DataError, _database_refused)  # type: ignore[arg-type]  # typed for Exception
    for unavailable in DATABASE_BUSY:
        app.add_exception_handler(unavailable, _database_busy)
    app.add_exception_handler(DBAPIError, _database_error)  # type: ignore[arg-type]  # typed for Exception
    app.add_exception_handler(SealingKeyMismatch, _secret_does_not_open)  # type: ignore[arg-type]  # typed for Exception
    app.add_exception_handler(ClientDisconnect, _client_gone)  # type: ignore[arg-type]  # typed for Exception
    app.add_exception_handler(Exception, _unexpected_error)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: documents each problem it can return."""
    descriptions = {400: "Bad request", 403: "Not allowed", 404: "Not found", 409: "Conflict",
                    410: "Gone", 422: "Invalid input", 429: "Too many requests", 503: "Unavailable"}
    return {
        status: {"model": Problem, "description": descriptions.get(status, "Problem"),
                 "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for status in statuses
    }


def document_common_problems(spec: dict[str, Any]) -> dict[str, Any]:
    """Problems any operation may answer: 503 when overloaded (but /healthz). Every operation that
    takes a body can answer 400 (a body that does not parse: not JSON, not UTF-8, not a form) and
    413 (over the size limit, refused before it is read) and 408 (the body stalled); one taking
    JSON also 415 (the body sent as another media type)."""
    for route, path in spec.get("paths", {}).items():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            statuses = [] if route == "/healthz" else [("503", "Overloaded or the database busy: retry after Retry-After")]
            if "requestBody" in operation:
                statuses += [("400", "Malformed body"), ("408", "Body stalled: nothing sent for the idle limit"),
                             ("413", "Body too large")]
                if "application/json" in operation["requestBody"].get("content", {}):
                    statuses.append(("415", "Body not sent as application/json"))
            for status, description in statuses:
                responses.setdefault(status, {"description": description, "content": {
                    PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}})
    return spec


def only_problem_json(spec: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents a response ``model`` as application/json; problems are sent as
    application/problem+json only, so the spec says just that."""
    for path in spec.get("paths", {}).values():
        for operation in path.values():
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                if PROBLEM_JSON in content:
                    content.pop("application/json", None)
    return spec
