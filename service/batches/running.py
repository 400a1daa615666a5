"""Bulk push: a department's file of records and master data, one per line (NDJSON or CSV).

Each line goes through exactly what a single write does (the same validation, versions, events
and webhook deliveries); a bad line is rejected with its line number, field and message, a
decision already in the registry is reported as a duplicate with the existing record's id.

The body is read as a stream and applied in chunks, so memory stays flat for any size. By default
each chunk commits with the results of its lines, so whatever the caller has been told is
durable, and a batch cut short (a dropped connection, a restart) resumes where it stopped when it
is sent again with the same Idempotency-Key. ``atomic`` applies every line in one transaction and
commits only if none failed.

Line formats:
- NDJSON: one JSON object per line: ``{"type": "violation", "code": "<USCC>", "visibility": "public",
  ...the record's fields}``; ``type`` is organization, rating, violation, disclosure or list_entry
  (not ``kind``: disclosures have a field of that name).
- CSV: a header row naming the same keys; empty cells are absent; list fields (``penalty_types``,
  ``shared_with``) separate their items with ``;``. UTF-8 (with or without BOM) or GB18030.
"""

import codecs
import csv
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session

from db.ids import new_id
from db.repositories.batches import BatchRepository
from db.tables import Batch, BatchLine
from service import codes
from service.access.actors import Scope
from service.errors import Conflict, DomainError, DuplicateRecord, InvalidCode, MissingScope, NotFound
from service.organizations import master_data
from service.organizations.master_data import OrganizationFields
from service.records import publishing
from service.records.fields import (
    DisclosureFields,
    ListEntryFields,
    RatingFields,
    StorableFields,
    ViolationFields,
    Visibility,
    storable,
    unstorable,
)
from service.rules.clock import Clock

Format = Literal["ndjson", "csv"]
CHUNK_LINES = 500
MAX_LINE_BYTES = 64 * 1024
RESUME_AFTER = timedelta(minutes=2)  # default: a running batch silent this long was cut short: it may resume
RUNNING, CUT_SHORT = "running", "cut_short"  # cut_short: its request ended unfinished; the key may resume at once

FIELDS_OF: dict[str, type[BaseModel]] = {"organization": OrganizationFields, "rating": RatingFields,
                                         "violation": ViolationFields, "disclosure": DisclosureFields,
                                         "list_entry": ListEntryFields}
SCOPE_OF = {"organization": Scope.RECORDS_WRITE, "rating": Scope.RECORDS_WRITE, "violation": Scope.RECORDS_WRITE,
            "disclosure": Scope.RECORDS_WRITE, "list_entry": Scope.LISTS_WRITE}
LIST_FIELDS = {"penalty_types", "shared_with"}  # CSV cells holding several items, separated by ';'


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


class _Placement(StorableFields):
    model_config = ConfigDict(extra="forbid")

    visibility: Visibility = "public"
    shared_with: list[Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]] = Field(
        default_factory=list, max_length=50)  # department codes, as the single write takes them


@dataclass(frozen=True)
class LineResult:
    line: int
    outcome: str  # accepted, duplicate, rejected
    kind: str | None = None
    record_id: str | None = None
    organization: str | None = None
    existing_id: str | None = None
    field: str | None = None
    message: str | None = None


class _Rejected(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


# What the database refuses in a line's values that validation let through: PostgreSQL's data
# exceptions (class 22: a value too long for its column, NUL, an escape JSONB cannot hold), and
# text no driver can encode. Not OperationalError: a busy database cuts the batch short instead.
REFUSED_BY_THE_DATABASE = (DataError, UnicodeEncodeError)


def _refusal(error: Exception) -> str:
    # Never the database's own message: it can quote the value.
    code = getattr(getattr(error, "orig", None), "sqlstate", None)
    return "the database cannot store this line's values" + (f" (SQLSTATE {code})" if code else "") + \
        "; nothing of it was written"


def _rejected(number: int, kind: str | None, field: str | None, message: str) -> LineResult:
    """A rejected line's result, made storable: a field name or a message can quote what was sent
    (a key with a NUL in it), and the result is stored in the batch's own transaction."""
    return LineResult(number, "rejected", kind, field=None if field is None else storable(field)[:100],
                      message=storable(message))


# --- reading lines ----------------------------------------------------------------------------

def _physical_lines(chunks: Iterable[bytes]) -> Iterator[bytes | None]:
    """Lines of the body as bytes, without their line break; None for a line longer than
    MAX_LINE_BYTES (its carriage return and a BOM count). An over-long line is not held: its
    bytes are dropped up to its newline, and it is one line however the body arrived, so the
    numbers of the lines after it do not depend on how the network cut the stream. Splitting
    bytes at b"\\n" is safe for UTF-8 and GB18030: neither uses that byte inside a character."""
    pending = bytearray()  # appended to in place: a line sent a byte at a time stays linear
    skipping = False  # inside an over-long line, waiting for its newline
    for chunk in chunks:
        *complete, rest = chunk.split(b"\n")
        if complete:
            head = complete[0]
            if skipping:
                yield None
            else:
                yield bytes(pending) + head if len(pending) + len(head) <= MAX_LINE_BYTES else None
            yield from (line if len(line) <= MAX_LINE_BYTES else None for line in complete[1:])
            pending.clear()
            skipping = False
        if not skipping:
            if len(pending) + len(rest) > MAX_LINE_BYTES:
                pending.clear()
                skipping = True
            else:
                pending += rest
    if skipping:
        yield None
    elif pending:
        yield bytes(pending)


def _decoded(chunks: Iterable[bytes], encoding: str) -> Iterator[tuple[int, "str | _Rejected"]]:
    """(line number, text) from 1, or why the line cannot be read."""
    for number, raw in enumerate(_physical_lines(chunks), start=1):
        if raw is None:
            yield number, _Rejected(f"line longer than {MAX_LINE_BYTES} bytes")
            continue
        if number == 1 and raw.startswith(codecs.BOM_UTF8) and encoding == "utf-8":
            raw = raw[len(codecs.BOM_UTF8):]
        raw = raw.removesuffix(b"\r")
        try:
            yield number, raw.decode(encoding)
        except UnicodeDecodeError:
            yield number, _Rejected(f"the line is not valid {encoding} text")


def ndjson_lines(chunks: Iterable[bytes], encoding: str) -> Iterator[tuple[int, dict[str, Any] | _Rejected]]:
    for number, text in _decoded(chunks, encoding):
        if isinstance(text, _Rejected):
            yield number, text
            continue
        if not text.strip():
            continue  # blank lines (a trailing newline) are not records
        try:
            value = json.loads(text)
        except ValueError as error:
            yield number, _Rejected(f"not a JSON object: {error.msg} at column {error.colno}")
            continue
        yield number, value if isinstance(value, dict) else _Rejected("each line must be a JSON object")


def csv_lines(chunks: Iterable[bytes], encoding: str) -> Iterator[tuple[int, dict[str, Any] | _Rejected]]:
    bad: dict[int, _Rejected] = {}

    def texts() -> Iterator[str]:
        for number, text in _decoded(chunks, encoding):
            if isinstance(text, _Rejected):
                bad[number] = text
                text = ""
            yield text + "\n"

    reader = csv.reader(texts())
    header: list[str] | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # e.g. a stray carriage return; the reader goes on with the next line
            yield reader.line_num, _Rejected(f"not a valid CSV line: {error}")
            continue
        number = reader.line_num
        if header is None:
            header = [name.strip() for name in row]
            if "type" not in header:
                yield number, _Rejected("the first row must name the columns, among them 'type'")
                return
            continue
        if number in bad:
            yield number, bad.pop(number)
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield number, _Rejected(f"{len(row)} cells where the header has {len(header)}")
            continue
        yield number, {name: ([item.strip() for item in cell.split(";") if item.strip()] if name in LIST_FIELDS
                              else cell)
                       for name, cell in zip(header, row, strict=True) if cell.strip() != ""}


# --- applying lines ---------------------------------------------------------------------------

def _validation_problem(error: ValidationError) -> _Rejected:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return _Rejected(f"{where}: {first.get('msg', 'invalid')}" if where else first.get("msg", "invalid"),
                     field=where or None)


@dataclass(frozen=True)
class _Parsed:
    number: int
    kind: str
    code: str
    fields: Any
    placement: _Placement


def _parse(number: int, raw: dict[str, Any], scopes: frozenset[str]) -> _Parsed:
    """A line's own checks (type, scope, code, fields): the same validation as the single write."""
    kind = raw.get("type")
    if kind not in FIELDS_OF:
        raise _Rejected(f"type must be one of {', '.join(FIELDS_OF)}", field="type")
    if SCOPE_OF[kind].value not in scopes:
        raise _Rejected(f"a {kind} line needs the scope {SCOPE_OF[kind].value}", field="type")
    values = {k: v for k, v in raw.items() if k not in ("type", "visibility", "shared_with")}
    code = values.pop("code", None)
    if not isinstance(code, str) or not code.strip():
        raise _Rejected("code (the organization's USCC) is required", field="code")
    if unstorable(code):
        raise _Rejected(f"code: {unstorable(code)}", field="code")
    try:
        fields = FIELDS_OF[kind].model_validate(values)
        placement = _Placement.model_validate({k: raw[k] for k in ("visibility", "shared_with") if k in raw})
    except ValidationError as error:
        raise _validation_problem(error) from None
    return _Parsed(number, kind, code, fields, placement)


def _result(parsed: _Parsed, outcome: str | DomainError, organization: str | None = None) -> LineResult:
    if isinstance(outcome, DuplicateRecord):
        return LineResult(parsed.number, "duplicate", parsed.kind, existing_id=outcome.existing_id,
                          message=outcome.detail)
    if isinstance(outcome, DomainError):
        field = "code" if isinstance(outcome, InvalidCode) else getattr(outcome, "field", None)
        return _rejected(parsed.number, parsed.kind, field, outcome.detail)
    if parsed.kind == "organization":
        return LineResult(parsed.number, "accepted", parsed.kind, organization=outcome)
    return LineResult(parsed.number, "accepted", parsed.kind, record_id=outcome, organization=organization)


def _one(session: Session, parsed: _Parsed, *, department_code: str, now: datetime) -> LineResult:
    """One line by the single-write path, in its own savepoint: all of it is written, or none."""
    try:
        with session.begin_nested():
            if parsed.kind == "organization":
                organization, _ = master_data.upsert(session, parsed.code, parsed.fields, now=now,
                                                       department_code=department_code)
                return _result(parsed, organization.uscc)
            record = publishing.publish(session, parsed.code, parsed.fields, department_code=department_code, now=now,
                                     visibility=parsed.placement.visibility, shared_with=parsed.placement.shared_with)
            return _result(parsed, record.id, record.organization_uscc)
    except DomainError as error:
        return _result(parsed, error)
    except REFUSED_BY_THE_DATABASE as error:  # the savepoint is rolled back: the chunk goes on
        return _rejected(parsed.number, parsed.kind, None, _refusal(error))


def _organizations(session: Session, lines: list[_Parsed], results: dict[int, LineResult], *,
                   department_code: str, now: datetime) -> None:
    """New organizations together (the first line of each code); updates, repeats and codes
    that need a closer look one by one, after them, in order."""
    known = set(master_data.resolve_many(session, [line.code for line in lines]))
    first: dict[str, _Parsed] = {}
    for line in lines:
        if line.code not in known and codes.normalize(line.code) not in first:
            first[codes.normalize(line.code)] = line
    fresh = list(first.values())
    try:
        with session.begin_nested():
            outcomes = master_data.register_many(session, [(line.number, line.code, line.fields) for line in fresh],
                                                   department_code=department_code, now=now)
    except (IntegrityError, *REFUSED_BY_THE_DATABASE):  # registered meanwhile, or a value refused: one by one
        fresh, outcomes = [], {}
    for line in fresh:
        results[line.number] = _result(line, outcomes[line.number])
    for line in lines:
        if line.number not in results:
            results[line.number] = _one(session, line, department_code=department_code, now=now)


def apply_lines(session: Session, chunk: list[tuple[int, dict[str, Any] | _Rejected]], *, department_code: str,
                scopes: frozenset[str], now: datetime) -> list[LineResult]:
    """A chunk of lines: organizations first (in order; records in the chunk may refer to them),
    then the records together through ``publishing.publish_many``. If a concurrent writer takes a
    natural key meanwhile, the records are redone one by one."""
    results: dict[int, LineResult] = {}
    parsed: list[_Parsed] = []
    for number, raw in chunk:
        try:
            if isinstance(raw, _Rejected):
                raise raw
            parsed.append(_parse(number, raw, scopes))
        except _Rejected as problem:
            kind = raw.get("type") if isinstance(raw, dict) else None
            results[number] = _rejected(number, kind if kind in FIELDS_OF else None, problem.field, problem.message)
    _organizations(session, [p for p in parsed if p.kind == "organization"], results,
                   department_code=department_code, now=now)
    lines = [p for p in parsed if p.kind != "organization"]
    found = master_data.resolve_many(session, [line.code for line in lines])
    items = []
    for line in lines:
        uscc = found.get(line.code)
        if uscc is None:
            results[line.number] = _one(session, line, department_code=department_code, now=now)  # says why
        else:
            items.append(publishing.NewRecord(line.number, uscc, line.fields, line.placement.visibility,
                                           tuple(line.placement.shared_with)))
    by_number = {line.number: line for line in lines}
    try:
        with session.begin_nested():
            outcomes = publishing.publish_many(session, items, department_code=department_code, now=now)
    except (IntegrityError, *REFUSED_BY_THE_DATABASE):  # then each line in its own savepoint says which
        outcomes = {item.key: None for item in items}  # type: ignore[misc]
    for item in items:
        outcome = outcomes[item.key]
        results[item.key] = _one(session, by_number[item.key], department_code=department_code, now=now) \
            if outcome is None else _result(by_number[item.key], outcome, item.organization_uscc)
    return [results[number] for number in sorted(results)]


# --- running a batch --------------------------------------------------------------------------

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


def _count(batch: Batch, results: list[LineResult]) -> None:
    batch.lines = max([batch.lines, *(r.line for r in results)])
    for result in results:
        if result.outcome == "accepted":
            batch.accepted += 1
        elif result.outcome == "duplicate":
            batch.duplicates += 1
        else:
            batch.rejected += 1


def _chunks(lines: Iterator[tuple[int, dict[str, Any] | _Rejected]], after: int) -> Iterator[list]:
    chunk: list = []
    for number, raw in lines:
        if number <= after:
            continue  # applied by the request that was cut short
        chunk.append((number, raw))
        if len(chunk) == CHUNK_LINES:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run(unit_of_work: UnitOfWork, lines: Iterator[tuple[int, dict[str, Any] | _Rejected]], *, batch: Batch,
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
                results = apply_lines(session, chunk, department_code=department_code, scopes=scopes, now=clock.now())
                batch = repository.get(batch_id)
                assert batch is not None
                _count(batch, results)
                batch.updated_at = beat
                repository.add(batch)
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


def _run_atomic(unit_of_work: UnitOfWork, lines: Iterator[tuple[int, dict[str, Any] | _Rejected]], *,
                batch_id: str, department_code: str, scopes: frozenset[str], clock: Clock) -> Batch:
    failed: list[LineResult] = []
    applied = 0

    class _Refused(Exception):
        pass

    try:
        with unit_of_work() as session:
            repository = BatchRepository(session)
            for chunk in _chunks(lines, 0):
                results = apply_lines(session, chunk, department_code=department_code, scopes=scopes, now=clock.now())
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

