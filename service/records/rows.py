"""What a record's fields determine, and the rows a new record is written as.

A single write (typed rows) and the bulk push (the same columns, inserted many at a time) share
these, so both store the same record for the same fields.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Literal

from sqlmodel import Session

from db.tables import Record
from service.errors import InvalidRecord
from service.records.fields import (
    FIELDS_BY_KIND,
    DisclosureFields,
    InspectionFields,
    Kind,
    ListEntryFields,
    RatingFields,
    RecordFields,
    ViolationFields,
    Visibility,
    public_summary,
)
from service.rules.clock import local_date
from service.rules.grade_schemes import require_grade
from service.rules.rule_sets import Rules, list_entry_expires_on, violation_publicity_until

RecordStatus = Literal["active", "withdrawn", "expired", "repaired", "superseded"]



@dataclass(frozen=True)
class Derived:
    """Columns a record's fields determine; recomputed on every version. The term is
    [effective_on, ends_on), no end meaning open-ended."""

    effective_on: date
    ends_on: date | None
    decision_no: str | None = None
    list_name: str | None = None
    severity: str | None = None
    grade_scheme: str | None = None
    grade: str | None = None
    grade_scheme_version_id: int | None = None


def kind_of(fields: RecordFields) -> Kind:
    for kind, model in FIELDS_BY_KIND.items():
        if isinstance(fields, model):
            return kind
    raise TypeError(f"not a record's fields: {type(fields).__name__}")


def derive(session: Session, fields: RecordFields, rules: Rules) -> Derived:
    if isinstance(fields, RatingFields):
        version_id = require_grade(session, fields.scheme, fields.grade, on=fields.evaluated_on, score=fields.score)
        # valid_until is the last valid day; ends_on, like every end here, is the first day after.
        ends_on = fields.valid_until + timedelta(days=1) if fields.valid_until else None
        return Derived(fields.evaluated_on, ends_on, grade_scheme=fields.scheme, grade=fields.grade,
                       grade_scheme_version_id=version_id)
    if isinstance(fields, ViolationFields):
        until = violation_publicity_until(
            rules, severity=fields.severity, decided_on=fields.decided_on, penalty_types=fields.penalty_types
        )
        return Derived(fields.decided_on, until, decision_no=fields.decision_no, severity=fields.severity)
    if isinstance(fields, ListEntryFields):
        term_end = list_entry_expires_on(rules, list_name=fields.list, effective_on=fields.effective_on)
        if fields.list == "black" and fields.expires_on and fields.expires_on > term_end:
            raise InvalidRecord(f"a black listing lasts at most {rules.black_list_term_months} months: "
                                f"expires_on must be on or before {term_end.isoformat()}", field="expires_on")
        expires = fields.expires_on or term_end
        return Derived(fields.effective_on, expires, decision_no=fields.decision_no, list_name=fields.list)
    if isinstance(fields, InspectionFields):
        # A spot-check result is product-quality information, not a penalty: it stays on display
        # (no end) until its department withdraws or corrects it. Its report number is its natural key.
        return Derived(fields.published_on, None, decision_no=fields.report_no)
    assert isinstance(fields, DisclosureFields)
    return Derived(fields.published_on, None)


def decision_date(fields: RecordFields) -> date:
    for name in ("decided_on", "effective_on", "evaluated_on", "published_on"):
        if (value := getattr(fields, name, None)) is not None:
            assert isinstance(value, date)
            return value
    raise TypeError("record fields without a date")


def decided_by(fields: RecordFields, now: datetime) -> date:
    """The decision date, which cannot lie ahead of today: a penalty, an evaluation or a
    publication is entered once it happened. (A list entry's decision may take effect later:
    its ``effective_on`` is when the listing starts, so it is not held to this.)"""
    day = decision_date(fields)
    if not isinstance(fields, ListEntryFields) and day > local_date(now):
        name = next(n for n in ("decided_on", "evaluated_on", "published_on") if getattr(fields, n, None) == day)
        raise InvalidRecord(f"{name} {day} is after today ({local_date(now)}): a decision is entered once made",
                            field=name)
    return day


def content(fields: RecordFields, derived: Derived) -> dict[str, Any]:
    """The fields as stored in a version: the decision as recorded."""
    stored = fields.model_dump(mode="json")
    if isinstance(fields, ListEntryFields):
        # The term the rule set gave is part of the decision as recorded.
        stored["expires_on"] = derived.ends_on.isoformat() if derived.ends_on else None
    return stored


def apply(record: Record, derived: Derived) -> None:
    for name, value in vars(derived).items():
        setattr(record, name, value)


def event_data(record: Record | Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """What every record event carries: ids, version, kind, visibility; never the fields themselves."""
    value = record.get if isinstance(record, Mapping) else partial(getattr, record)
    data = {"record_id": value("id"), "kind": value("kind"), "organization": value("organization_uscc"),
            "department": value("department_code"), "version": value("version"), "visibility": value("visibility")}
    if value("list_name"):
        data["list"] = value("list_name")
    return data | extra


@dataclass(frozen=True)
class NewRows:
    """The column values of a new record's rows: the record, its first version, its first status
    change and its grants."""

    record: dict[str, Any]
    version: dict[str, Any]
    status_change: dict[str, Any]
    grants: list[dict[str, Any]]


def new_rows(record_id: str, kind: Kind, organization_uscc: str, fields: RecordFields, derived: Derived, *,
             department_code: str, visibility: Visibility, rule_set_id: int, shared_with: Sequence[str],
             now: datetime) -> NewRows:
    details = content(fields, derived)
    summary, masked_fields = public_summary(kind, details)
    return NewRows(
        record={"id": record_id, "kind": kind, "organization_uscc": organization_uscc,
                "department_code": department_code, "visibility": visibility, "status": "active",
                "status_reason": None, "version": 1, "rule_set_id": rule_set_id, "details": details,
                "public_summary": summary, "masked_fields": masked_fields, "created_at": now, "updated_at": now,
                **vars(derived)},
        version={"record_id": record_id, "version": 1, "department_code": department_code, "reason": None,
                 "content": details, "effective_on": derived.effective_on, "ends_on": derived.ends_on,
                 "created_at": now},
        status_change={"record_id": record_id, "status": "active", "reason": "published", "caused_by": None,
                       "changed_at": now},
        grants=[{"record_id": record_id, "department_code": code} for code in shared_with],
    )
