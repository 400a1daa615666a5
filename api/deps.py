"""Dependencies, named once as ``Annotated`` aliases so a route's signature states what it uses."""

from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy import Connection
from sqlmodel import Session

from api.middleware import request_trail
from db.session import Database, reading, transaction
from service.rules.clock import Clock, today


def get_database(request: Request) -> Database:
    return request.app.state.database


def get_clock(request: Request) -> Clock:
    return request.app.state.clock


def get_read_connection(request: Request) -> Iterator[Connection]:
    with reading(request.app.state.database) as conn:
        yield conn


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed when the route returns, before the response is sent
    (scope="function"), so an acknowledged write is a committed write. The audit entry of a
    successful call is part of the same transaction."""
    with transaction(request.app.state.database) as session:
        yield session
        request_trail.audit_success(session, request)
    # Only once committed: a failed commit is then audited as the failure it is.
    request.state.audited = True


def get_today(request: Request) -> date:
    return today(request.app.state.clock)


DatabaseDep = Annotated[Database, Depends(get_database)]
ClockDep = Annotated[Clock, Depends(get_clock)]
ReadConnection = Annotated[Connection, Depends(get_read_connection)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
Today = Annotated[date, Depends(get_today)]

MAX_PAGE = 200
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Page size, at most {MAX_PAGE}")]
Cursor = Annotated[str | None, Query(max_length=200, description="Opaque cursor from the previous page")]
# Said of every datetime a caller gives (service.rules.clock.Moment).
NAIVE_IS_CST = "without a time zone it is read as China Standard Time (UTC+8)"
