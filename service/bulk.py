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
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session

from db.ids import new_id
from db.repositories.batches import BatchRepository
from db.tables import Batch, BatchLine
from service import organizations, records
from service.access import Scope
from service.clock import Clock
from service.errors import Conflict, DomainError, DuplicateRecord, MissingScope, NotFound
from service.organizations import OrganizationFields
from service.record_fields import DisclosureFields, ListEntryFields, RatingFields, ViolationFields, Visibility

Format = Literal["ndjson", "csv"]
CHUNK_LINES = 500
MAX_LINE_BYTES = 64 * 1024
RESUME_AFTER = timedelta(minutes=2)  # a running batch silent this long was cut short: it may resume

FIELDS_OF: dict[str, type[BaseModel]] = {"organization": OrganizationFields, "rating": RatingFields,
                                         "violation": ViolationFields, "disclosure": DisclosureFields,
                                         "list_entry": ListEntryFields}
SCOPE_OF = {"organization": Scope.RECORDS_WRITE, "rating": Scope.RECORDS_WRITE, "violation": Scope.RECORDS_WRITE,
            "disclosure": Scope.RECORDS_WRITE, "list_entry": Scope.LISTS_WRITE}
LIST_FIELDS = {"penalty_types", "shared_with"}  # CSV cells holding several items, separated by ';'


class BatchInProgress(Conflict):
    title = "Batch in progress"


class BatchNotFound(NotFound):
    title = "Batch not found"


class _Placement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visibility: Visibility = "public"
    shared_with: list[str] = Field(default_factory=list, max_length=50)


@dataclass(frozen=True)
class LineResult:
    line: int
    outcome: str  # accepted, duplicate, rejected, not_applied
    kind: str | None = None
    record_id: str | None = None
    organization: str | None = None
    existing_id: str | None = None
    field: str | None = None
    message: str | None = None


@dataclass
class Summary:
    batch: Batch
    replayed: bool = False
    first_results: list[BatchLine] = field(default_factory=list)


class _Rejected(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


# --- reading lines ----------------------------------------------------------------------------

def _physical_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Lines of the body as bytes, without their line break. Splitting bytes at b"\\n" is safe for
    UTF-8 and GB18030: neither uses that byte inside a multi-byte character."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from complete
        if len(pending) > MAX_LINE_BYTES:
            yield pending  # an over-long line: rejected by the caller, and reading goes on
            pending = b""
    if pending:
        yield pending


def _decoded(chunks: Iterable[bytes], encoding: str) -> Iterator[tuple[int, str | None]]:
    """(line number, text) from 1; text None when the line is not valid in the encoding."""
    for number, raw in enumerate(_physical_lines(chunks), start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8) and encoding == "utf-8":
            raw = raw[len(codecs.BOM_UTF8):]
        raw = raw.removesuffix(b"\r")
        if len(raw) > MAX_LINE_BYTES:
            yield number, None
            continue
        try:
            yield number, raw.decode(encoding)
        except UnicodeDecodeError:
            yield number, None


def ndjson_lines(chunks: Iterable[bytes], encoding: str) -> Iterator[tuple[int, dict[str, Any] | _Rejected]]:
    for number, text in _decoded(chunks, encoding):
        if text is None:
            yield number, _Rejected(f"the line is not valid {encoding} text, or longer than {MAX_LINE_BYTES} bytes")
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
    bad: set[int] = set()

    def texts() -> Iterator[str]:
        for number, text in _decoded(chunks, encoding):
            if text is None:
                bad.add(number)
                text = ""
            yield text + "\n"

    reader = csv.reader(texts())
    header: list[str] | None = None
    for row in reader:
        number = reader.line_num
        if header is None:
            header = [name.strip() for name in row]
            if "type" not in header:
                yield number, _Rejected("the first row must name the columns, among them 'type'")
                return
            continue
        if number in bad:
            yield number, _Rejected(f"the line is not valid {encoding} text, or longer than {MAX_LINE_BYTES} bytes")
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


def apply_line(session: Session, number: int, raw: dict[str, Any], *, department_code: str,
               scopes: frozenset[str], now: datetime) -> LineResult:
    """One line, in its own savepoint: all of it is written, or none of it."""
    kind = raw.get("type")
    try:
        if kind not in FIELDS_OF:
            raise _Rejected(f"type must be one of {', '.join(FIELDS_OF)}", field="type")
        if SCOPE_OF[kind].value not in scopes:
            raise _Rejected(f"a {kind} line needs the scope {SCOPE_OF[kind].value}", field="type")
        values = {k: v for k, v in raw.items() if k not in ("type", "visibility", "shared_with")}
        code = values.pop("code", None)
        if not isinstance(code, str) or not code.strip():
            raise _Rejected("code (the organization's USCC) is required", field="code")
        try:
            fields = FIELDS_OF[kind].model_validate(values)
            placement = _Placement.model_validate({k: raw[k] for k in ("visibility", "shared_with") if k in raw})
        except ValidationError as error:
            raise _validation_problem(error) from None
        with session.begin_nested():
            if kind == "organization":
                organization, _ = organizations.upsert(session, code, fields, now=now,  # type: ignore[arg-type]
                                                       department_code=department_code)
                return LineResult(number, "accepted", kind, organization=organization.uscc)
            record = records.publish(session, code, fields, department_code=department_code,  # type: ignore[arg-type]
                                     now=now, visibility=placement.visibility, shared_with=placement.shared_with)
            return LineResult(number, "accepted", kind, record_id=record.id, organization=record.organization_uscc)
    except _Rejected as problem:
        return LineResult(number, "rejected", kind if isinstance(kind, str) and kind in FIELDS_OF else None,
                          field=problem.field, message=problem.message)
    except DuplicateRecord as duplicate:
        return LineResult(number, "duplicate", kind, existing_id=duplicate.existing_id, message=duplicate.detail)
    except DomainError as error:
        return LineResult(number, "rejected", kind, field=getattr(error, "field", None), message=error.detail)


# --- running a batch --------------------------------------------------------------------------

UnitOfWork = Callable[[], AbstractContextManager[Session]]


def start(unit_of_work: UnitOfWork, *, department_code: str, client_id: str, scopes: frozenset[str],
          key: str | None, format: Format, atomic: bool, now: datetime) -> tuple[Batch, int, bool]:
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
        if batch.status != "running":
            return batch, batch.lines, True
        if now - batch.updated_at < RESUME_AFTER:
            raise BatchInProgress(f"batch {batch.id} with this Idempotency-Key is still being applied; "
                                  "ask again when it is done (GET /v1/batches/{id})")
        batch.updated_at = now  # taken over: this request goes on from the last committed line
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


def _apply_chunk(session: Session, chunk: list[tuple[int, dict[str, Any] | _Rejected]], *,
                 department_code: str, scopes: frozenset[str], clock: Clock) -> list[LineResult]:
    now = clock.now()
    return [LineResult(number, "rejected", message=raw.message, field=raw.field) if isinstance(raw, _Rejected)
            else apply_line(session, number, raw, department_code=department_code, scopes=scopes, now=now)
            for number, raw in chunk]


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


def run(unit_of_work: UnitOfWork, lines: Iterator[tuple[int, dict[str, Any] | _Rejected]], *, batch_id: str,
        after: int, department_code: str, scopes: frozenset[str], clock: Clock) -> Batch:
    """Apply the lines; returns the finished batch."""
    with unit_of_work() as session:
        atomic = BatchRepository(session).get(batch_id).atomic  # type: ignore[union-attr]
    if atomic:
        return _run_atomic(unit_of_work, lines, batch_id=batch_id, department_code=department_code, scopes=scopes,
                           clock=clock)
    for chunk in _chunks(lines, after):
        with unit_of_work() as session:
            repository = BatchRepository(session)
            results = _apply_chunk(session, chunk, department_code=department_code, scopes=scopes, clock=clock)
            batch = repository.get(batch_id)
            assert batch is not None
            _count(batch, results)
            batch.updated_at = clock.now()
            repository.add(batch)
            repository.add_lines(batch_id, results)
            session.expunge_all()  # flat memory, chunk after chunk
    return _finish(unit_of_work, batch_id, "completed", clock)


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
                results = _apply_chunk(session, chunk, department_code=department_code, scopes=scopes, clock=clock)
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
        session.flush()
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

