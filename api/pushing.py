"""A bulk push between the event loop and the worker threads: the batch starts (or resumes, or is
replayed) in a thread, its body streams to the thread that applies its lines (or, for an atomic
batch, is spooled whole first), and its first results are read in the request's audited unit of
work (api.request_audit)."""

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from api import bodies
from api.deps import UnitOfWorkFactory
from api.problems import DATABASE_BUSY
from api.request_audit import audited_transaction, request_audit
from api.schemas.batches import INLINE_RESULTS
from db.tables import Batch, BatchLine
from service.access.actors import Actor
from service.batches import reading, running
from service.batches.reading import Format
from service.rules.clock import Clock

log = logging.getLogger("registry.batches")

# Marking a batch cut short follows a failure, maybe a busy database: a short try, not another full
# wait; if it fails, the key resumes the batch after batch_resume_seconds of silence instead.
MARK_WAIT_SECONDS = 1.0


@dataclass(frozen=True)
class PushedBatch:
    batch: Batch
    lines: list[BatchLine]  # the first INLINE_RESULTS line results
    replayed: bool  # the finished batch of a key seen before: its body was not read
    status: int  # the answer's: 422 for an atomic batch with a failing line (nothing of it was written)


class CutShortByBusyDatabase(Exception):
    """The database got busy part way: the chunks committed before it did are stored.
    ``resumable``: the batch was marked cut short, so its key resumes it at once."""

    def __init__(self, batch: Batch, *, resumable: bool) -> None:
        super().__init__(f"batch {batch.id} cut short by a busy database")
        self.batch, self.resumable = batch, resumable


async def push(request: Request, actor: Actor, units: UnitOfWorkFactory, clock: Clock, *, key: str | None,
               format: Format, encoding: str, atomic: bool, resume_after: timedelta) -> PushedBatch:
    """Apply the request's body as a batch of ``actor``'s department."""
    batch, after, replayed = await run_in_threadpool(
        running.start, units, department_code=actor.department_code, client_id=actor.client_id,
        scopes=actor.scopes, key=key, format=format, atomic=atomic, now=clock.now(), resume_after=resume_after)
    body = request.stream()
    if not replayed:
        batch = await _apply(body, batch, after, actor, units, clock, format=format, encoding=encoding)
    await bodies.drain(body)  # what was not read (a batch stops at an atomic failure, a replay reads none)
    status = 422 if batch.status == "rejected" else 200
    request_audit(request).status = status  # the answer's, for the entry written with the results

    def first_results() -> list[BatchLine]:
        with audited_transaction(request) as session:
            return running.results(session, batch.id, department_code=actor.department_code, outcome=None,
                                   after_line=0, limit=INLINE_RESULTS)

    return PushedBatch(batch, await run_in_threadpool(first_results), replayed, status)


async def _apply(body: AsyncIterator[bytes], batch: Batch, after: int, actor: Actor,
                 units: UnitOfWorkFactory, clock: Clock, *, format: Format, encoding: str) -> Batch:
    marking = partial(units, wait=MARK_WAIT_SECONDS)
    read = reading.ndjson_lines if format == "ndjson" else reading.csv_lines
    async with AsyncExitStack() as stack:
        if batch.atomic:
            # Every line goes in one transaction, which holds the write lock (all of SQLite; on
            # PostgreSQL the event counter): read the whole body first, so a slow sender does not
            # hold every other write up while it sends.
            try:
                source = await stack.enter_async_context(bodies.spooled(body))
            except Exception:  # the client went away or stalled: nothing applied, the key may go on
                await run_in_threadpool(partial(running.cut_short, marking, batch.id, heartbeat=batch.updated_at))
                raise
        else:
            source = bodies.streamed_to_thread(body)
        try:
            return await run_in_threadpool(running.run, units, read(source, encoding), batch=batch, after=after,
                                           department_code=actor.department_code, scopes=actor.scopes, clock=clock,
                                           marking=marking)
        except running.BatchInterrupted as stop:
            cause = stop.__cause__
            assert cause is not None  # run() chains the failure that stopped it
            if isinstance(cause, DATABASE_BUSY):
                log.warning("batch %s cut short by a busy database: %s", batch.id, type(cause).__name__)
                raise CutShortByBusyDatabase(batch, resumable=stop.resumable) from cause
            if isinstance(cause, ClientDisconnect):
                log.info("batch %s: the client went away mid-body; %s", batch.id,
                         "its key resumes it at once" if stop.resumable else "not marked cut short")
            raise cause from None  # answered as it would be anywhere (499, 408, 413, 500)
