"""Correcting and withdrawing a record: only the department that decided it, only while it is
active; a correction is a new version and the old ones stay readable (domain.md §3)."""

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from db.repositories.organizations import OrganizationRepository
from db.repositories.records import RecordRepository
from db.tables import Record, RecordVersion
from service.access.actors import Scope
from service.credit import supervision
from service.errors import InvalidRecord, InvalidTransition, MissingScope, NotOwner, RecordNotFound
from service.lists import red_and_black
from service.public import inspections as product_search
from service.records import rows
from service.records.fields import FIELDS_BY_KIND, ListEntryFields, RecordFields, public_summary
from service.records.publishing import refuse_duplicate
from service.records.status import change_status
from service.rules.reference import rules_of
from service.statistics import counting
from service.sync import event_types, events


def _owned_active(session: Session, record_id: str, department_code: str,
                  scopes: frozenset[str] | None) -> Record:
    # A record the department may not see is "not found", never "not yours": no existence oracle.
    # Locked: a concurrent correction, decision or sweep waits, then sees this change.
    record = RecordRepository(session).get_visible(record_id, department_code, lock=True)
    if record is None:
        raise RecordNotFound(f"no record {record_id}")
    if record.department_code != department_code:
        raise NotOwner(f"record {record_id} belongs to {record.department_code}; only it may change the record")
    needed = Scope.LISTS_WRITE if record.kind == "list_entry" else Scope.RECORDS_WRITE
    if scopes is not None and needed.value not in scopes:
        raise MissingScope(f"changing a {record.kind} needs the scope {needed.value}")
    if record.status != "active":
        raise InvalidTransition(f"record {record_id} is {record.status}; only active records can change")
    return record


def _fields_for(kind: str, raw: dict[str, Any]) -> RecordFields:
    assert kind in FIELDS_BY_KIND  # a record's kind column holds one of the kinds (rows.kind_of)
    try:
        return FIELDS_BY_KIND[kind].model_validate(raw)
    except ValidationError as error:
        issues = [{"loc": ["body", "fields", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in error.errors()]
        raise InvalidRecord(f"the corrected fields are not a valid {kind}", errors=issues) from None


def correct(
    session: Session,
    record_id: str,
    fields: RecordFields | dict[str, Any],
    *,
    department_code: str,
    reason: str,
    now: datetime,
    scopes: frozenset[str] | None = None,
) -> Record:
    """Replace a record's fields with a corrected version; the old version stays readable.

    ``fields`` may be raw (a dict from a request): it is validated as the record's own kind.
    ``scopes`` (of an API caller) must allow changing that kind; None is a trusted caller.
    """
    record = _owned_active(session, record_id, department_code, scopes)
    if isinstance(fields, dict):
        fields = _fields_for(record.kind, fields)
    if rows.kind_of(fields) != record.kind:
        raise InvalidRecord(f"record {record_id} is a {record.kind}; the correction must be one too")
    if isinstance(fields, ListEntryFields) and fields.list != record.list_name:
        raise InvalidRecord("a correction cannot move an entry to the other list; withdraw it and add a new one",
                            field="list")
    repository = RecordRepository(session)
    counted = counting.of_record(record)
    # The rule set a record was decided under stays with it through corrections.
    rows.decided_by(fields, now)
    rules = rules_of(session, record.rule_set_id)
    derived = rows.derive(session, fields, rules)
    if derived.list_name is not None:  # as when a list entry is written (publishing.publish_many)
        OrganizationRepository(session).lock({record.organization_uscc})
    if derived.list_name == "red":
        red_and_black.require_red_list_eligible(session, record.organization_uscc, derived, rules,
                                                department_code=department_code)
    if derived.decision_no is not None and derived.decision_no != record.decision_no:
        refuse_duplicate(repository, department_code, record.kind, derived.decision_no)
    record.version += 1
    record.details = rows.content(fields, derived)
    record.public_summary, record.masked_fields = public_summary(record.kind, record.details)
    record.updated_at = now
    rows.apply(record, derived)
    repository.add_version(
        record,
        RecordVersion(record_id=record.id, version=record.version, department_code=department_code,
                      reason=reason, content=record.details, effective_on=record.effective_on,
                      ends_on=record.ends_on, created_at=now),
    )
    events.emit(session, event_types.CORRECTED[record.kind], rows.event_data(record, reason=reason), at=now,
                organization_uscc=record.organization_uscc, record_id=record.id)
    if record.kind == "inspection":  # found by its new name only
        product_search.follow(session, [record.id])
    if record.list_name == "black" and record.visibility == "public":  # a corrected term may now meet a red one
        red_and_black.end_red_entries(session, black_id=record.id, organization_uscc=record.organization_uscc,
                                      effective_on=record.effective_on, ends_on=record.ends_on, now=now)
    counting.move(session, counted, counting.of_record(record))
    if supervision.moves_class(record.kind, record.visibility):
        supervision.follow(session, [record.organization_uscc], now=now)
    return record


def withdraw(session: Session, record_id: str, *, department_code: str, reason: str, now: datetime,
             scopes: frozenset[str] | None = None) -> Record:
    """Withdraw a record from publication (a revoked or annulled decision); it is kept, with its reason."""
    record = _owned_active(session, record_id, department_code, scopes)
    change_status(session, record, "withdrawn", reason, now=now)
    if record.list_name == "black":
        red_and_black.reinstate_red_entries(session, record, now=now)
    return record
