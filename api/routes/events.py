"""Department API: the change feed."""

import asyncio
import json
import time

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import Readings
from api.problems import problem_responses
from api.routes.organizations import AUTH_ERRORS
from api.schemas.events import EventPage
from api.security import Reader
from service.sync import feed

router = APIRouter(prefix="/v1", tags=["events"])

POLL_INTERVAL = 0.2  # seconds between looks at the log while a long poll waits


@router.get("/events", response_model=EventPage, operation_id="list_events",
            responses=problem_responses(*AUTH_ERRORS, 410, 422))
async def list_events(
    actor: Reader, readings: Readings,
    after: str | None = Query(None, max_length=20, description="next_cursor of the previous page, or 'now'"),
    type: list[str] = Query([], max_length=20, description="Event types; 'list_entry.*' for a family"),
    limit: int = Query(100, ge=1, le=feed.MAX_LIMIT),
    wait: int = Query(0, ge=0, le=30, description="Seconds to wait for a first event (long poll)"),
) -> Response:
    """Every change the department may see, in commit order: following `next_cursor` never misses
    or repeats an event, even with concurrent writers. Each event is the exact envelope that
    webhooks sign and send. Events are kept for a limited time (`REGISTRY_EVENT_RETENTION_DAYS`); a
    cursor older than that answers 410 with `oldest_cursor` and `resync`: list the records again
    (`GET /v1/records`) and continue from its `sync_cursor`."""
    def read() -> feed.FeedPage:
        with readings() as conn:
            return feed.page(conn, viewer=actor.department_code, after=after, types=type, limit=limit)

    deadline = time.monotonic() + wait
    page = await run_in_threadpool(read)
    while not page.envelopes and time.monotonic() < deadline:
        # Holding no connection while waiting; a later look continues from where this one ended.
        await asyncio.sleep(POLL_INTERVAL)
        after = page.next_cursor
        page = await run_in_threadpool(read)
    body = '{"data":[' + ",".join(page.envelopes) + '],"next_cursor":' + json.dumps(page.next_cursor) + \
        ',"has_more":' + ("true" if page.has_more else "false") + "}"
    return Response(body, media_type="application/json")
