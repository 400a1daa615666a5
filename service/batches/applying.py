"""Applying a chunk of a batch's lines: each goes through exactly what a single write does (the
same validation, versions, events and webhook deliveries); a bad line is rejected with its line
number, field and message, a decision already in the registry is reported as a duplicate with the
existing record's id."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session

from service import codes
from service.access.actors import Scope
from service.batches.reading import Line, LineRefused
from service.errors import DomainError, DuplicateRecord, InvalidCode
from service.organizations import master_data
from service.organizations.master_data import OrganizationFields
from service.records import publishing
from service.records.fields import (
    FIELDS_BY_KIND,
    Placement,
    storable,
    unstorable,
)

# A line's type: master data or one of the record kinds, and the scope each needs. (The kinds come
# as items: a dict's keys are invariant, and FIELDS_BY_KIND's are Kinds where these are any str.)
FIELDS_OF: dict[str, type[BaseModel]] = {"organization": OrganizationFields, **dict(FIELDS_BY_KIND.items())}
SCOPE_OF = {kind: Scope.LISTS_WRITE if kind == "list_entry" else Scope.RECORDS_WRITE for kind in FIELDS_OF}


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


def _validation_problem(error: ValidationError) -> LineRefused:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return LineRefused(f"{where}: {first.get('msg', 'invalid')}" if where else first.get("msg", "invalid"),
                     field=where or None)


@dataclass(frozen=True)
class _Parsed:
    number: int
    kind: str
    code: str
    fields: Any
    placement: Placement


def _parse(number: int, raw: dict[str, Any], scopes: frozenset[str]) -> _Parsed:
    """A line's own checks (type, scope, code, fields): the same validation as the single write."""
    kind = raw.get("type")
    if kind not in FIELDS_OF:
        raise LineRefused(f"type must be one of {', '.join(FIELDS_OF)}", field="type")
    if SCOPE_OF[kind].value not in scopes:
        raise LineRefused(f"a {kind} line needs the scope {SCOPE_OF[kind].value}", field="type")
    values = {k: v for k, v in raw.items() if k not in ("type", "visibility", "shared_with")}
    code = values.pop("code", None)
    if not isinstance(code, str) or not code.strip():
        raise LineRefused("code (the organization's USCC) is required", field="code")
    if unstorable(code):
        raise LineRefused(f"code: {unstorable(code)}", field="code")
    try:
        fields = FIELDS_OF[kind].model_validate(values)
        placement = Placement.model_validate({k: raw[k] for k in ("visibility", "shared_with") if k in raw})
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
                                        visibility=parsed.placement.visibility,
                                        shared_with=parsed.placement.shared_with).record
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


def apply_lines(session: Session, chunk: list[Line], *, department_code: str,
                scopes: frozenset[str], now: datetime) -> list[LineResult]:
    """A chunk of lines: organizations first (in order; records in the chunk may refer to them),
    then the records together through ``publishing.publish_many``. If a concurrent writer takes a
    natural key meanwhile, the records are redone one by one."""
    results: dict[int, LineResult] = {}
    parsed: list[_Parsed] = []
    for number, raw in chunk:
        try:
            if isinstance(raw, LineRefused):
                raise raw
            parsed.append(_parse(number, raw, scopes))
        except LineRefused as problem:
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
    outcomes: Mapping[int, str | DomainError | None]  # None: the line is redone on its own
    try:
        with session.begin_nested():
            outcomes = publishing.publish_many(session, items, department_code=department_code, now=now)
    except (IntegrityError, *REFUSED_BY_THE_DATABASE):  # then each line in its own savepoint says which
        outcomes = {item.key: None for item in items}
    for item in items:
        outcome = outcomes[item.key]
        results[item.key] = _one(session, by_number[item.key], department_code=department_code, now=now) \
            if outcome is None else _result(by_number[item.key], outcome, item.organization_uscc)
    return [results[number] for number in sorted(results)]
