"""Answers read and serialized in one trip to the thread pool: the searches' way.

A sync route with a sync connection dependency makes four trips between the event loop and the
thread pool (the dependency's enter and its exit, the route, the validation of its answer), and
on a busy machine each waits for the interpreter lock. Together they cost the product search more
than the search itself (bench/RESULTS.md). Here the connection, the queries and the JSON are one
function run in one worker thread; the route stays ``async`` and declares its ``response_model``
for the documentation only.
"""

import functools
from collections.abc import Callable
from typing import Any

from fastapi import Response
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter
from sqlalchemy import Connection
from starlette.requests import HTTPConnection

from api.deps import database_of
from db.session import reading


@functools.cache
def _adapter(shape: Any) -> TypeAdapter[Any]:
    return TypeAdapter(shape)


async def json_read(request: HTTPConnection, shape: Any, read: Callable[[Connection], Any]) -> Response:
    """``read`` on a read connection, its result answered as JSON of ``shape`` (the route's
    ``response_model``: a value of another class with the same attributes is read through them,
    as FastAPI itself would, so no field the shape lacks can leave)."""
    adapter = _adapter(shape)

    def run() -> bytes:
        with reading(database_of(request)) as conn:
            return adapter.dump_json(adapter.validate_python(read(conn), from_attributes=True))
    return Response(await run_in_threadpool(run), media_type="application/json")
