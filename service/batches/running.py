"""Running a batch: a department's file of records and master data, one per line, pushed at once.

The body is read as a stream (service.batches.reading) and applied in chunks (service.batches.applying),
so memory stays flat for any size. By default each chunk commits with the results of its lines, so
whatever the caller has been told is durable, and a batch cut short (a dropped connection, a
restart) resumes where it stopped when it is sent again with the same Idempotency-Key. ``atomic``
applies every line in one transaction and commits only if none failed.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from sqlmodel import Session

from db.ids import new_id
from db.repositories.batches import BatchRepository
from db.tables import Batch, BatchLine
from service.access.actors import Scope
from service.batches import applying
from service.batches.reading import Format, Line
from service.errors import Conflict, MissingScope, NotFound
from service.rules.clock import Clock

CHUNK_LINES = 500
RESUME_AFTER = timedelta(minutes=2)  # default: a running batch silent this long was cut short: it may resume
RUNNING, CUT_SHORT = "running", "cut_short"  # cut_short: its request ended unfinished; the key may resume at once


class BatchInProgress(Conflict):
    title = "Batch in progress"

    def __init__(self, detail: str, *, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after  # seconds until the batch counts as cut short and its key resumes it


class BatchInterrupted(Exception):
    """A batch's request ended before the batch did (the cause is chained). ``resumable``: it was
    marked cut short, so the same key resumes it at once."""

    def __init__(self, batch_id: str, *, resumable: bool) -> None:
        super().__init__(f"batch {batch_id} interrupted")
        self.batch_id, self.resumable = batch_id, resumable


class BatchNotFound(NotFound):
    title = "Batch not found"


UnitOfWork = Callable[[], AbstractContextManager[Session]]


def start(unit_of_work: UnitOfWork, *, department_code: str, client_id: str, scopes: frozenset[str],
          key: str | None, format: Format, atomic: bool, now: datetime,
          resume_after: timedelta = RESUME_AFTER) -> tuple[Batch, int, bool]:
    """The batch to apply and the last line already applied: a new batch, or, for a key seen
    before, the finished batch (replayed) or the one a cut-short request left running."""
    if not scopes & {Scope.RECORDS_WRITE.value, Scope.LISTS_WRITE.value}:
        raise MissingScope("a batch needs the scope records:write or lists:write")
    with unit_of_work() as session:
        repository = BatchRepository(session)
        batch = repository.by_key(client_id, key) if key else None
        if batch is None:
            batch = Batch(id=new_id("bat"), department_code=department_code, client_id=client_id,
                          idempotency_key=key, format=format, atomic=atomic, status="running",
                          created_at=now, updated_at=now)
            repository.add(batch)
            return batch, 0, False
        if batch.status not in (RUNNING, CUT_SHORT):
            return batch, batch.lines, True
        silent = now - batch.updated_at
        # A batch marked cut short has no request any more; one merely running may have a live one
        # (here or in another process) until its heartbeat has been silent for resume_after.
        if batch.status == RUNNING and silent < resume_after:
            raise BatchInProgress(f"batch {batch.id} with this Idempotency-Key is still being applied; "
                                  "ask again when it is done (GET /v1/batches/{id})",
                                  retry_after=(resume_after - silent).total_seconds())
        batch.status, batch.updated_at = RUNNING, now  # taken over: this request goes on from the last committed line
        repository.add(batch)
        return batch, (0 if batch.atomic else repository.last_line(batch.id)), False


def _count(batch: Batch, results: list[applying.LineResult]) -> None:
    batch.lines = max([batch.lines, *(r.line for r in results)])
    for result in results:
        if result.outcome == "accepted":
            batch.accepted += 1
        elif result.outcome == "duplicate":
            batch.duplicates += 1
        else:
            batch.rejected += 1


def _chunks(lines: Iterator[Line], after: int) -> Iterator[list[Line]]:
    chunk: list[Line] = []
    for number, raw in lines:
        if number <= after:
            continue  # applied by the request that was cut short
        chunk.append((number, raw))
        if len(chunk) == CHUNK_LINES:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run(unit_of_work: UnitOfWork, lines: Iterator[Line], *, batch: Batch,
        after: int, department_code: str, scopes: frozenset[str], clock: Clock,
        marking: UnitOfWork | None = None) -> Batch:
    """Apply the lines of ``batch`` (as ``start`` gave it); returns the finished batch. If reading
    or applying fails, the batch is marked cut short (in ``marking``, by default ``unit_of_work``)
    and BatchInterrupted is raised from the failure."""
    batch_id, heartbeat = batch.id, batch.updated_at
    try:
        if batch.atomic:
            return _run_atomic(unit_of_work, lines, batch_id=batch_id, department_code=department_code,
                               scopes=scopes, clock=clock)
        for chunk in _chunks(lines, after):
            beat = clock.now()
            with unit_of_work() as session:
                repository = BatchRepository(session)
                results = applying.apply_lines(session, chunk, department_code=department_code, scopes=scopes, now=clock.now())
                stored = repository.get(batch_id)
                assert stored is not None
                _count(stored, results)
                stored.updated_at = beat
                repository.add(stored)
                repository.add_lines(batch_id, results)
                session.expunge_all()  # flat memory, chunk after chunk
            heartbeat = beat  # committed: the batch is ours as long as it still carries this beat
        return _finish(unit_of_work, batch_id, "completed", clock)
    except Exception as error:
        raise BatchInterrupted(batch_id, resumable=cut_short(marking or unit_of_work, batch_id,
                                                             heartbeat=heartbeat)) from error


def cut_short(unit_of_work: UnitOfWork, batch_id: str, *, heartbeat: datetime) -> bool:
    """Mark a running batch whose request ended unfinished as cut short, so its key resumes it at
    once instead of after resume_after of silence. Only while it still carries ``heartbeat``: a
    batch another request took over meanwhile is that request's. False if it was not marked (the
    database busy too; then the silence rule still frees the key)."""
    try:
        with unit_of_work() as session:
            repository = BatchRepository(session)
            batch = repository.get_for_update(batch_id)
            if batch is None or batch.status != RUNNING or batch.updated_at != heartbeat:
                return False
            batch.status = CUT_SHORT
            repository.add(batch)
        return True
    except Exception as error:  # already answering a failure: that failure is the one to report
        logging.getLogger("registry.batches").warning("batch %s not marked cut short: %s", batch_id,
                                                      type(error).__name__)
        return False


def _run_atomic(unit_of_work: UnitOfWork, lines: Iterator[Line], *,
                batch_id: str, department_code: str, scopes: frozenset[str], clock: Clock) -> Batch:
    failed: list[applying.LineResult] = []
    applied = 0

    class _Refused(Exception):
        pass

    try:
        with unit_of_work() as session:
            repository = BatchRepository(session)
            for chunk in _chunks(lines, 0):
                results = applying.apply_lines(session, chunk, department_code=department_code, scopes=scopes, now=clock.now())
                failed += [r for r in results if r.outcome != "accepted"][:1000 - len(failed)]
                applied = max([applied, *(r.line for r in results)])
                if failed:
                    raise _Refused  # rolls back every line applied so far
                repository.add_lines(batch_id, results)
                session.expunge_all()
            batch = repository.get(batch_id)
            assert batch is not None
            batch.lines = batch.accepted = applied
    except _Refused:
        with unit_of_work() as session:  # the refusal and its reasons, in a transaction of their own
            repository = BatchRepository(session)
            batch = repository.get(batch_id)
            assert batch is not None
            batch.lines, batch.rejected = applied, len(failed)
            repository.add(batch)
            repository.add_lines(batch_id, failed)
        return _finish(unit_of_work, batch_id, "rejected", clock)
    return _finish(unit_of_work, batch_id, "completed", clock)


def _finish(unit_of_work: UnitOfWork, batch_id: str, status: str, clock: Clock) -> Batch:
    with unit_of_work() as session:
        repository = BatchRepository(session)
        batch = repository.get(batch_id)
        assert batch is not None
        batch.status, batch.finished_at, batch.updated_at = status, clock.now(), clock.now()
        repository.add(batch)
        session.expunge(batch)
        return batch


def get(session: Session, batch_id: str, *, department_code: str) -> Batch:
    batch = BatchRepository(session).get(batch_id)
    if batch is None or batch.department_code != department_code:
        raise BatchNotFound(f"no batch {batch_id} of this department")
    return batch


def results(session: Session, batch_id: str, *, department_code: str, outcome: str | None, after_line: int,
            limit: int) -> list[BatchLine]:
    get(session, batch_id, department_code=department_code)
    return list(BatchRepository(session).lines(batch_id, outcome=outcome, after_line=after_line, limit=limit))
