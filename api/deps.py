"""Dependencies, named once as ``Annotated`` aliases so a route's signature states what it uses."""

from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection

from db.session import Database, reading
from service.clock import Clock, today


def get_database(request: Request) -> Database:
    return request.app.state.database


def get_clock(request: Request) -> Clock:
    return request.app.state.clock


def get_read_connection(request: Request) -> Iterator[Connection]:
    with reading(request.app.state.database) as conn:
        yield conn


def get_today(request: Request) -> date:
    return today(request.app.state.clock)


DatabaseDep = Annotated[Database, Depends(get_database)]
ClockDep = Annotated[Clock, Depends(get_clock)]
ReadConnection = Annotated[Connection, Depends(get_read_connection)]
Today = Annotated[date, Depends(get_today)]
