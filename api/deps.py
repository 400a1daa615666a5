"""Dependencies, named once as ``Annotated`` aliases so a route's signature states what it uses.

The database, one way for each use: ``ReadConnection`` and ``ReadSession`` read on the read pool
(never the writer's lock), ``SessionDep`` is the request's unit of work (committed with the call's
audit entry before the answer is sent). Routes that work in a thread of their own or in a stream
(a batch, an export, a long poll, a page's form) take factories instead: ``UnitsOfWork`` opens
transactions, ``Readings`` read connections. The public lookup reads in the event loop through
``read_in_event_loop``. Trivial dependencies are ``async def``: a sync one costs a hop to the
thread pool and back.
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date, datetime
from functools import partial
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request
from sqlalchemy import Connection
from sqlmodel import Session
from starlette.requests import HTTPConnection

from api.request_audit import audited_transaction
from api.security import TokenRefusals
from api.settings import Settings
from api.storage_full import StorageFull
from db.prepared import DriverConnection
from db.session import Database, driver_read, read_session, reading, transaction
from service.rules.clock import Clock, today

T = TypeVar("T")


def database_of(request: HTTPConnection) -> Database:
    database: Database = request.app.state.database
    return database


def clock_of(request: HTTPConnection) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_database(request: Request) -> Database:
    return database_of(request)


async def get_clock(request: Request) -> Clock:
    return clock_of(request)


async def get_now(request: Request) -> datetime:
    """The request's moment, from the app's clock."""
    return clock_of(request).now()


async def get_today(request: Request) -> date:
    return today(clock_of(request))


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_storage_full(request: Request) -> StorageFull:
    storage_full: StorageFull = request.app.state.storage_full
    return storage_full


async def get_token_refusals(request: Request) -> TokenRefusals:
    refusals: TokenRefusals = request.app.state.token_refusals
    return refusals


def get_read_connection(request: Request) -> Iterator[Connection]:
    with reading(database_of(request)) as conn:
        yield conn


def get_read_session(request: Request) -> Iterator[Session]:
    # Connects on its first query, on the route's thread: the session itself holds nothing yet.
    with read_session(database_of(request)) as session:
        yield session


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed when the route returns, before the response is sent
    (scope="function"), so an acknowledged write is a committed write. The audit entry of a
    successful call is part of the same transaction."""
    with audited_transaction(request) as session:
        yield session


def get_audited_read(request: Request) -> Iterator[Session]:
    """A read that is audited: the route reads on a read session, holding no write lock (SQLite
    has one writer, and a credit check is all reading); its audit entry is then written in a
    short transaction of its own, committed before the answer is sent. A route that fails leaves
    the entry to the request trail, as a failed unit of work does."""
    with read_session(database_of(request)) as session:
        yield session
    with audited_transaction(request):
        pass


UnitOfWorkFactory = Callable[..., AbstractContextManager[Session]]
ReadingFactory = Callable[[], AbstractContextManager[Connection]]
ReadSessionFactory = Callable[[], AbstractContextManager[Session]]


async def get_units_of_work(request: Request) -> UnitOfWorkFactory:
    """``units()`` opens a transaction (``db.session.transaction``), ``units(wait=...)`` one with a
    shorter wait for the write turn; each commits when its block ends."""
    return partial(transaction, database_of(request))


async def get_readings(request: Request) -> ReadingFactory:
    """``readings()`` opens a read connection (``db.session.reading``) for one block."""
    return partial(reading, database_of(request))


async def get_read_sessions(request: Request) -> ReadSessionFactory:
    """``read_sessions()`` opens a read session (``db.session.read_session``) for one block: an
    ORM read that must not wait for the writer's turn."""
    return partial(read_session, database_of(request))


def read_in_event_loop(request: HTTPConnection, read: Callable[[DriverConnection], T]) -> T:
    """The public lookup's fast path: ``read`` on the event loop's own driver connection
    (``db.session.driver_read``), with no dependency machinery and no hop to the thread pool."""
    return driver_read(database_of(request), read)


def today_of(request: HTTPConnection) -> date:
    """``Today`` for a route that takes no dependencies (the public lookup)."""
    return today(clock_of(request))


DatabaseDep = Annotated[Database, Depends(get_database)]
ClockDep = Annotated[Clock, Depends(get_clock)]
# Named after SessionDep in a signature (dependencies resolve in signature order): a write's moment
# is then taken once its turn to write has come (SQLite's write gate), not before a wait for it.
Now = Annotated[datetime, Depends(get_now)]
Today = Annotated[date, Depends(get_today)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StorageFullDep = Annotated[StorageFull, Depends(get_storage_full)]
TokenRefusalsDep = Annotated[TokenRefusals, Depends(get_token_refusals)]
ReadConnection = Annotated[Connection, Depends(get_read_connection)]
ReadSession = Annotated[Session, Depends(get_read_session, scope="function")]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
AuditedRead = Annotated[Session, Depends(get_audited_read, scope="function")]
UnitsOfWork = Annotated[UnitOfWorkFactory, Depends(get_units_of_work)]
Readings = Annotated[ReadingFactory, Depends(get_readings)]
ReadSessions = Annotated[ReadSessionFactory, Depends(get_read_sessions)]

MAX_PAGE = 200
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Page size, at most {MAX_PAGE}")]
Cursor = Annotated[str | None, Query(max_length=200, description="Opaque cursor from the previous page")]
# Said of every datetime a caller gives (service.rules.clock.Moment).
NAIVE_IS_CST = "without a time zone it is read as China Standard Time (UTC+8)"
