"""Publishing ratings, violations, disclosures and list entries on behalf of a department.

Rules that live here (domain.md §3-4):
- a record belongs to the department that decided it;
- a department cannot enter the same decision twice (same department, kind, decision number);
- a red entry is checked against the black list, and a public black listing ends red entries
  (service.lists.red_and_black).

Two write paths, one per shape, sharing the checks (``_check``) and the columns (``rows.new_rows``):
``publish`` writes one record as typed rows and returns its history as the API answers with it;
``publish_many`` inserts many records' rows a few statements at a time (the bulk push).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.ids import new_id
from db.repositories.organizations import OrganizationRepository
from db.repositories.records import RecordRepository
from db.tables import Record, RecordAccess, RecordStatusChange, RecordVersion
from service.credit import supervision
from service.errors import DomainError, DuplicateRecord, InvalidRecord
from service.lists import red_and_black
from service.organizations import master_data
from service.public import inspections as product_search
from service.records import rows
from service.records.fields import Kind, ListEntryFields, RecordFields, Visibility
from service.records.history import RecordHistory
from service.rules.reference import list_departments, require_department, rule_set_for
from service.rules.rule_sets import Rules
from service.statistics import counting
from service.sync import event_types, events


@dataclass(frozen=True)
class NewRecord:
    """One record to publish: the organization already resolved to its USCC."""

    key: int
    organization_uscc: str
    fields: RecordFields
    visibility: Visibility = "public"
    shared_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Checked:
    """A record that passed every check but the duplicate one, with what its fields determine."""

    item: NewRecord
    kind: Kind
    derived: rows.Derived
    rule_set_id: int
    shared_with: list[str]

    def rows(self, record_id: str, *, department_code: str, now: datetime) -> rows.NewRows:
        return rows.new_rows(record_id, self.kind, self.item.organization_uscc, self.item.fields, self.derived,
                             department_code=department_code, visibility=self.item.visibility,
                             rule_set_id=self.rule_set_id, shared_with=self.shared_with, now=now)


def _check(session: Session, items: Sequence[NewRecord], *, department_code: str,
           now: datetime) -> tuple[list[_Checked], dict[int, DomainError]]:
    """Every rule a new record must pass before its rows are built, for one record or many:
    the department, sharing, the decision date, the rule set in force on it, the derived term,
    and the red and black lists. Returns the records that passed and, per key, the error of each
    that did not."""
    require_department(session, department_code)
    # A red and a black entry for one organization, written at once by two departments, would
    # each find the other absent: list entries hold their organizations' rows until commit.
    OrganizationRepository(session).lock({i.organization_uscc for i in items if isinstance(i.fields, ListEntryFields)})
    known_departments = {d.code for d in list_departments(session)} if any(i.shared_with for i in items) else set()
    rule_sets: dict[date, tuple[int, Rules]] = {}
    checked: list[_Checked] = []
    errors: dict[int, DomainError] = {}
    # Public black entries of this call, by organization: a red entry later in the same call
    # must not overlap one either.
    black_in_call: dict[str, list[tuple[str, rows.Derived]]] = {}
    for item in items:
        try:
            kind = rows.kind_of(item.fields)
            shared_with = sorted(set(item.shared_with) - {department_code})
            if shared_with and item.visibility != "restricted":
                raise InvalidRecord("shared_with names departments only for restricted records", field="shared_with")
            for other in shared_with:
                if other not in known_departments:
                    require_department(session, other)  # says which is not registered
            day = rows.decided_by(item.fields, now)
            if day not in rule_sets:
                rule_sets[day] = rule_set_for(session, day)
            rule_set_id, rules = rule_sets[day]
            derived = rows.derive(session, item.fields, rules)
            if derived.list_name == "red":
                red_and_black.require_red_list_eligible(
                    session, item.organization_uscc, derived, rules, department_code=department_code,
                    black_in_call=black_in_call.get(item.organization_uscc, []))
            elif derived.list_name == "black" and item.visibility == "public":
                black_in_call.setdefault(item.organization_uscc, []).append((str(derived.decision_no), derived))
            checked.append(_Checked(item, kind, derived, rule_set_id, shared_with))
        except DomainError as error:
            errors[item.key] = error
    return checked, errors


def publish(
    session: Session,
    code: str,
    fields: RecordFields,
    *,
    department_code: str,
    now: datetime,
    visibility: Visibility = "public",
    shared_with: Sequence[str] = (),
) -> RecordHistory:
    """Enter a new record for the organization ``code`` (any code form) on behalf of a department.
    Returns the record with its first version and status change, as written (nothing is read back)."""
    organization = master_data.get(session, code)
    checked, errors = _check(session, [NewRecord(0, organization.uscc, fields, visibility, tuple(shared_with))],
                             department_code=department_code, now=now)
    if errors:
        raise errors[0]
    one = checked[0]
    repository = RecordRepository(session)
    decision_no = one.derived.decision_no
    if decision_no is not None:
        refuse_duplicate(repository, department_code, one.kind, decision_no)
    new = one.rows(new_id("rec"), department_code=department_code, now=now)
    record, version = Record(**new.record), RecordVersion(**new.version)
    change = RecordStatusChange(**new.status_change)
    try:
        # A savepoint, so a concurrent writer winning the natural key leaves this transaction usable.
        with session.begin_nested():
            repository.add(record, version, change, [RecordAccess(**grant) for grant in new.grants])
    except IntegrityError:
        if decision_no is not None:
            refuse_duplicate(repository, department_code, one.kind, decision_no)
        raise
    events.emit(session, event_types.PUBLISHED[one.kind], rows.event_data(record), at=now,
                organization_uscc=record.organization_uscc, record_id=record.id)
    if record.kind == "inspection":
        product_search.follow(session, [record.id])
    if record.list_name == "black" and record.visibility == "public":
        red_and_black.end_red_entries(session, black_id=record.id, organization_uscc=record.organization_uscc,
                                      effective_on=record.effective_on, ends_on=record.ends_on, now=now)
    counting.move(session, [], counting.of_record(record))
    if supervision.moves_class(record.kind, record.visibility):
        supervision.follow(session, [record.organization_uscc], now=now)
    return RecordHistory(record, [version], [change], one.shared_with)


def publish_many(session: Session, items: Sequence[NewRecord], *, department_code: str,
                 now: datetime) -> dict[int, str | DomainError]:
    """``publish`` for many records at once, with the same checks, columns and events, in a few
    statements per call instead of a dozen per record: the bulk push's fast path. Returns, per
    item key, the new record's id or the error that kept it out (DuplicateRecord names the record
    already there). Public black listings then end the organizations' red entries they meet.

    The caller holds a savepoint around the call: a concurrent writer winning a natural key
    (IntegrityError) leaves nothing half-written, and the caller can redo the items one by one."""
    checked, errors = _check(session, items, department_code=department_code, now=now)
    outcome: dict[int, str | DomainError] = dict(errors)
    repository = RecordRepository(session)
    existing = repository.find_decisions(department_code, [(one.kind, one.derived.decision_no) for one in checked
                                                           if one.derived.decision_no is not None])
    records, versions, statuses, grants = [], [], [], []
    for one in checked:
        decision_no = one.derived.decision_no
        if decision_no is not None and (one.kind, decision_no) in existing:
            outcome[one.item.key] = _duplicate(department_code, decision_no, existing[(one.kind, decision_no)])
            continue
        record_id = new_id("rec")
        if decision_no is not None:
            existing[(one.kind, decision_no)] = record_id  # a repeat later in the same call is a duplicate of this one
        new = one.rows(record_id, department_code=department_code, now=now)
        records.append(new.record)
        versions.append(new.version)
        statuses.append(new.status_change)
        grants += new.grants
        outcome[one.item.key] = record_id
    repository.add_many(records, versions, statuses, grants)
    product_search.follow(session, [row["id"] for row in records if row["kind"] == "inspection"])
    events.emit_many(session, [(event_types.PUBLISHED[row["kind"]], rows.event_data(row), row["organization_uscc"],
                                row["id"]) for row in records], at=now)
    for row in records:
        if row["list_name"] == "black" and row["visibility"] == "public":
            red_and_black.end_red_entries(session, black_id=row["id"], organization_uscc=row["organization_uscc"],
                                          effective_on=row["effective_on"], ends_on=row["ends_on"], now=now)
    counting.move(session, [], [key for row in records for key in counting.of_record(row)])
    supervision.follow(session, [row["organization_uscc"] for row in records
                                 if supervision.moves_class(row["kind"], row["visibility"])], now=now)
    return outcome


def _duplicate(department_code: str, decision_no: str, existing_id: str) -> DuplicateRecord:
    return DuplicateRecord(f"decision {decision_no} was already entered by {department_code} as record {existing_id}",
                           existing_id=existing_id)


def refuse_duplicate(repository: RecordRepository, department_code: str, kind: str, decision_no: str) -> None:
    """A department enters a decision once: the same kind and decision number again is refused,
    naming the record already there."""
    existing = repository.find_decision(department_code, kind, decision_no)
    if existing is not None:
        raise _duplicate(department_code, decision_no, existing.id)
