"""Records: publishing, correcting and withdrawing ratings, violations, disclosures and list entries.

Rules that live here (domain.md §3-4):
- a record belongs to the department that decided it; only that department corrects or withdraws it;
- a correction is a new version, old versions are kept; nothing is ever deleted;
- every status change carries a reason and writes an event in the same transaction;
- a department cannot enter the same decision twice (same department, kind, decision number);
- a black listing ends the organization's active red entries.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.ids import new_id
from db.repositories.organizations import OrganizationRepository
from db.repositories.records import RecordRepository
from db.tables import Record, RecordStatusChange, RecordVersion
from service.access.actors import Scope
from service.errors import (
    DomainError,
    DuplicateRecord,
    InvalidRecord,
    InvalidTransition,
    ListConflict,
    MissingScope,
    NotOwner,
    RecordNotFound,
)
from service.organizations import master_data
from service.records.fields import (
    FIELDS_BY_KIND,
    DisclosureFields,
    ListEntryFields,
    RatingFields,
    RecordFields,
    ViolationFields,
    Visibility,
    public_summary,
)
from service.rules.clock import local_date
from service.rules.reference import (
    list_departments,
    require_department,
    require_grade,
    rule_set_for,
    rules_of,
)
from service.rules.rule_sets import Rules, add_months, list_entry_expires_on, violation_publicity_until
from service.sync import events

Kind = Literal["rating", "violation", "disclosure", "list_entry"]
RecordStatus = Literal["active", "withdrawn", "expired", "repaired", "superseded"]

# Event names per kind; list entries are "added"/"removed" rather than "published"/"withdrawn".
_PUBLISHED = {"rating": "rating.published", "violation": "violation.published",
              "disclosure": "disclosure.published", "list_entry": "list_entry.added"}


@dataclass(frozen=True)
class RecordHistory:
    record: Record
    versions: Sequence[RecordVersion]
    status_changes: Sequence[RecordStatusChange]
    shared_with: list[str]


@dataclass(frozen=True)
class _Derived:
    """Columns a record's fields determine; recomputed on every version."""

    effective_on: date
    ends_on: date | None
    decision_no: str | None = None
    list_name: str | None = None
    severity: str | None = None
    grade_scheme: str | None = None
    grade: str | None = None


def _kind_of(fields: RecordFields) -> Kind:
    for kind, model in (("rating", RatingFields), ("violation", ViolationFields),
                        ("disclosure", DisclosureFields), ("list_entry", ListEntryFields)):
        if isinstance(fields, model):
            return kind  # type: ignore[return-value]
    raise TypeError(f"not a record's fields: {type(fields).__name__}")


def _derive(session: Session, fields: RecordFields, rules: Rules) -> _Derived:
    if isinstance(fields, RatingFields):
        require_grade(session, fields.scheme, fields.grade)
        # valid_until is the last valid day; ends_on, like every end here, is the first day after.
        ends_on = fields.valid_until + timedelta(days=1) if fields.valid_until else None
        return _Derived(fields.evaluated_on, ends_on, grade_scheme=fields.scheme, grade=fields.grade)
    if isinstance(fields, ViolationFields):
        until = violation_publicity_until(
            rules, severity=fields.severity, decided_on=fields.decided_on, penalty_types=fields.penalty_types
        )
        return _Derived(fields.decided_on, until, decision_no=fields.decision_no, severity=fields.severity)
    if isinstance(fields, ListEntryFields):
        term_end = list_entry_expires_on(rules, list_name=fields.list, effective_on=fields.effective_on)
        if fields.list == "black" and fields.expires_on and fields.expires_on > term_end:
            raise InvalidRecord(f"a black listing lasts at most {rules.black_list_term_months} months: "
                                f"expires_on must be on or before {term_end.isoformat()}", field="expires_on")
        expires = fields.expires_on or term_end
        return _Derived(fields.effective_on, expires, decision_no=fields.decision_no, list_name=fields.list)
    assert isinstance(fields, DisclosureFields)
    return _Derived(fields.published_on, None)


def decision_date(fields: RecordFields) -> date:
    for name in ("decided_on", "effective_on", "evaluated_on", "published_on"):
        if (value := getattr(fields, name, None)) is not None:
            return value
    raise TypeError("record fields without a date")


def _decided_by(fields: RecordFields, now: datetime) -> date:
    """The decision date, which cannot lie ahead of today: a penalty, an evaluation or a
    publication is entered once it happened. (A list entry's decision may take effect later:
    its ``effective_on`` is when the listing starts, so it is not held to this.)"""
    day = decision_date(fields)
    if not isinstance(fields, ListEntryFields) and day > local_date(now):
        name = next(n for n in ("decided_on", "evaluated_on", "published_on") if getattr(fields, n, None) == day)
        raise InvalidRecord(f"{name} {day} is after today ({local_date(now)}): a decision is entered once made",
                            field=name)
    return day


def _content(fields: RecordFields, derived: _Derived) -> dict[str, Any]:
    content = fields.model_dump(mode="json")
    if isinstance(fields, ListEntryFields):
        # The term the rule set gave is part of the decision as recorded.
        content["expires_on"] = derived.ends_on.isoformat() if derived.ends_on else None
    return content


def _apply(record: Record, derived: _Derived) -> None:
    for name, value in derived.__dict__.items():
        setattr(record, name, value)


def _event_data(record: Record, **extra: Any) -> dict[str, Any]:
    data = {
        "record_id": record.id,
        "kind": record.kind,
        "organization": record.organization_uscc,
        "department": record.department_code,
        "version": record.version,
        "visibility": record.visibility,
    }
    if record.list_name:
        data["list"] = record.list_name
    return data | extra


def publish(
    session: Session,
    code: str,
    fields: RecordFields,
    *,
    department_code: str,
    now: datetime,
    visibility: Visibility = "public",
    shared_with: Sequence[str] = (),
) -> Record:
    """Enter a new record for the organization ``code`` (any code form) on behalf of a department:
    ``publish_many`` for one record, so single writes and bulk pushes share every rule and row."""
    organization = master_data.get(session, code)
    item = NewRecord(0, organization.uscc, fields, visibility, tuple(shared_with))
    try:
        # A savepoint, so a concurrent writer winning the natural key leaves this transaction usable.
        with session.begin_nested():
            outcome = publish_many(session, [item], department_code=department_code, now=now)[0]
    except IntegrityError:
        decision_no = getattr(fields, "decision_no", None)
        if decision_no is not None:
            _refuse_duplicate(RecordRepository(session), department_code, _kind_of(fields), decision_no)
        raise
    if isinstance(outcome, DomainError):
        raise outcome
    record = RecordRepository(session).get(outcome)
    assert record is not None
    return record


@dataclass(frozen=True)
class NewRecord:
    """One record of a bulk publish: the organization already resolved to its USCC."""

    key: int
    organization_uscc: str
    fields: RecordFields
    visibility: Visibility = "public"
    shared_with: tuple[str, ...] = ()


def publish_many(session: Session, items: Sequence[NewRecord], *, department_code: str,
                 now: datetime) -> dict[int, str | DomainError]:
    """``publish`` for many records at once, with the same rules, rows and events, in a few
    statements per call instead of a dozen per record: the bulk push's fast path. Returns, per
    item key, the new record's id or the error that kept it out (DuplicateRecord names the record
    already there). Public black listings then end the organizations' active red entries.

    The caller holds a savepoint around the call: a concurrent writer winning a natural key
    (IntegrityError) leaves nothing half-written, and the caller can redo the items one by one."""
    require_department(session, department_code)
    # A red and a black entry for one organization, written at once by two departments, would
    # each find the other absent: list entries hold their organizations' rows until commit.
    OrganizationRepository(session).lock({i.organization_uscc for i in items if isinstance(i.fields, ListEntryFields)})
    known_departments = {d.code for d in list_departments(session)} if any(i.shared_with for i in items) else set()
    repository = RecordRepository(session)
    rule_sets: dict[date, tuple[int, Rules]] = {}
    outcome: dict[int, str | DomainError] = {}
    prepared: list[tuple[NewRecord, str, _Derived, int, list[str]]] = []
    # Public black entries of this call, by organization: a red entry later in the same call
    # must not overlap one either.
    black_in_call: dict[str, list[tuple[str, _Derived]]] = {}
    for item in items:
        try:
            kind = _kind_of(item.fields)
            shared_with = sorted(set(item.shared_with) - {department_code})
            if shared_with and item.visibility != "restricted":
                raise InvalidRecord("shared_with names departments only for restricted records", field="shared_with")
            for other in shared_with:
                if other not in known_departments:
                    require_department(session, other)  # says which is not registered
            day = _decided_by(item.fields, now)
            if day not in rule_sets:
                rule_sets[day] = rule_set_for(session, day)
            rule_set_id, rules = rule_sets[day]
            derived = _derive(session, item.fields, rules)
            if derived.list_name == "red":
                _require_red_list_eligible(session, item.organization_uscc, derived, rules,
                                           department_code=department_code,
                                           black_in_call=black_in_call.get(item.organization_uscc, []))
            elif derived.list_name == "black" and item.visibility == "public":
                black_in_call.setdefault(item.organization_uscc, []).append((str(derived.decision_no), derived))
            prepared.append((item, kind, derived, rule_set_id, shared_with))
        except DomainError as error:
            outcome[item.key] = error
    existing = repository.find_decisions(department_code, [(kind, derived.decision_no) for _, kind, derived, _, _
                                                           in prepared if derived.decision_no is not None])
    records, versions, statuses, grants, new = [], [], [], [], []
    for item, kind, derived, rule_set_id, shared_with in prepared:
        natural_key = (kind, derived.decision_no)
        if derived.decision_no is not None and natural_key in existing:
            outcome[item.key] = _duplicate(department_code, derived.decision_no, existing[natural_key])
            continue
        record_id = new_id("rec")
        if derived.decision_no is not None:
            existing[natural_key] = record_id  # a repeat later in the same call is a duplicate of this one
        details = _content(item.fields, derived)
        summary, masked_fields = public_summary(kind, details)
        records.append({"id": record_id, "kind": kind, "organization_uscc": item.organization_uscc,
                        "department_code": department_code, "visibility": item.visibility, "status": "active",
                        "status_reason": None, "version": 1, "rule_set_id": rule_set_id, "details": details,
                        "public_summary": summary, "masked_fields": masked_fields, "created_at": now,
                        "updated_at": now, **derived.__dict__})
        versions.append({"record_id": record_id, "version": 1, "department_code": department_code, "reason": None,
                         "content": details, "effective_on": derived.effective_on, "ends_on": derived.ends_on,
                         "created_at": now})
        statuses.append({"record_id": record_id, "status": "active", "reason": "published", "caused_by": None,
                         "changed_at": now})
        grants += [{"record_id": record_id, "department_code": code} for code in shared_with]
        new.append(records[-1])
        outcome[item.key] = record_id
    repository.add_many(records, versions, statuses, grants)
    events.emit_many(session, [(_PUBLISHED[row["kind"]], _event_data(SimpleNamespace(**row)),  # type: ignore[arg-type]
                                row["organization_uscc"], row["id"]) for row in new], at=now)
    for row in new:
        if row["list_name"] == "black" and row["visibility"] == "public":
            _end_red_entries(session, SimpleNamespace(**row), now=now)  # type: ignore[arg-type]
    return outcome


def _duplicate(department_code: str, decision_no: str, existing_id: str) -> DuplicateRecord:
    return DuplicateRecord(f"decision {decision_no} was already entered by {department_code} as record {existing_id}",
                           existing_id=existing_id)


def _overlaps(one: _Derived, other: _Derived) -> bool:
    """Whether two terms [effective_on, ends_on) share a day (no end: open-ended)."""
    return (other.ends_on is None or one.effective_on < other.ends_on) and \
        (one.ends_on is None or other.effective_on < one.ends_on)


def _require_red_list_eligible(session: Session, organization_uscc: str, red: _Derived, rules: Rules, *,
                               department_code: str, black_in_call: Sequence[tuple[str, _Derived]] = ()) -> None:
    """A red entry is refused while the organization is on the black list at any time of its
    term (never on both lists at once, domain.md §4), and when the rule set's eligibility rule
    excludes it: a serious violation decided within ``red_list_clean_years`` before it takes effect."""
    repository = RecordRepository(session)
    black = repository.black_entry_overlapping(organization_uscc, red.effective_on, red.ends_on)
    if black is not None:
        until = f" until {black.ends_on}" if black.ends_on else ""
        raise ListConflict(f"{organization_uscc} is on the black list ({black.decision_no}, record {black.id}) "
                           f"from {black.effective_on}{until}: a red entry cannot overlap it", conflicting_id=black.id)
    for decision_no, black_term in black_in_call:
        if _overlaps(red, black_term):
            raise ListConflict(f"{organization_uscc} is put on the black list earlier in this request "
                               f"({decision_no}): a red entry cannot overlap it")
    if rules.red_list_clean_years:
        after = add_months(red.effective_on, -12 * rules.red_list_clean_years)
        violation = repository.latest_serious_violation(organization_uscc, after=after, through=red.effective_on,
                                                        viewer=department_code)
        if violation is not None:
            raise ListConflict(
                f"{organization_uscc} has a serious violation ({violation.decision_no}, record {violation.id}) "
                f"decided on {violation.effective_on}, within the {rules.red_list_clean_years} years the rule set "
                "requires without one before a red listing", conflicting_id=violation.id)


def _refuse_duplicate(repository: RecordRepository, department_code: str, kind: str, decision_no: str) -> None:
    existing = repository.find_decision(department_code, kind, decision_no)
    if existing is not None:
        raise _duplicate(department_code, decision_no, existing.id)


def _end_red_entries(session: Session, black_entry: Record, *, now: datetime) -> None:
    """An organization is never on both published lists: a public black listing ends its active
    red entries, whoever decided them. Only a public one: a shared or restricted black entry is
    not a publication, and letting it end red entries would reveal it to everyone who sees those.
    Those whose term meets the black term on some day, as the red refusal and the sweep judge it:
    a black term recorded late and already over leaves today's red entry alone, and a red term
    that ends before a future black one starts stays."""
    repository = RecordRepository(session)
    for red in repository.red_entries_meeting(black_entry.organization_uscc, black_entry.effective_on,
                                              black_entry.ends_on):
        _change_status(session, red, "superseded", "superseded_by_black_list", now=now, caused_by=black_entry.id)


def end_red_entries_under_black(session: Session, *, now: datetime) -> int:
    """End every active red entry whose term meets a public black entry's (entered before the rule
    was enforced at write time), as a black listing does: status ``superseded`` with the reason
    and the cause, and its event. Returns how many were ended."""
    ended: set[str] = set()
    for red, black in RecordRepository(session).red_entries_under_black():
        if red.id not in ended:
            _change_status(session, red, "superseded", "superseded_by_black_list", now=now, caused_by=black.id)
            ended.add(red.id)
    return len(ended)


def _reinstate_red_entries(session: Session, black_entry: Record, *, now: datetime) -> None:
    """A withdrawn black listing never happened: the red entries it ended are active again
    (those whose own term has run out since stay off the public list by their dates), unless
    another public black listing meets their term: they stay ended, now by that one, so that its
    own withdrawal brings them back."""
    repository = RecordRepository(session)
    for red in repository.superseded_by(black_entry.id):
        other = repository.black_entry_overlapping(red.organization_uscc, red.effective_on, red.ends_on)
        if other is not None:
            _change_status(session, red, "superseded", "superseded_by_black_list", now=now, caused_by=other.id)
            continue
        _change_status(session, red, "active", "reinstated: the black listing that ended it was withdrawn",
                       now=now, caused_by=black_entry.id)


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
    if _kind_of(fields) != record.kind:
        raise InvalidRecord(f"record {record_id} is a {record.kind}; the correction must be one too")
    if isinstance(fields, ListEntryFields) and fields.list != record.list_name:
        raise InvalidRecord("a correction cannot move an entry to the other list; withdraw it and add a new one",
                            field="list")
    repository = RecordRepository(session)
    # The rule set a record was decided under stays with it through corrections.
    _decided_by(fields, now)
    rules = rules_of(session, record.rule_set_id)
    derived = _derive(session, fields, rules)
    if derived.list_name is not None:  # as when a list entry is written (publish_many)
        OrganizationRepository(session).lock({record.organization_uscc})
    if derived.list_name == "red":
        _require_red_list_eligible(session, record.organization_uscc, derived, rules, department_code=department_code)
    if derived.decision_no is not None and derived.decision_no != record.decision_no:
        _refuse_duplicate(repository, department_code, record.kind, derived.decision_no)
    record.version += 1
    record.details = _content(fields, derived)
    record.public_summary, record.masked_fields = public_summary(record.kind, record.details)
    record.updated_at = now
    _apply(record, derived)
    repository.add_version(
        record,
        RecordVersion(record_id=record.id, version=record.version, department_code=department_code,
                      reason=reason, content=record.details, effective_on=record.effective_on,
                      ends_on=record.ends_on, created_at=now),
    )
    kind_event = "list_entry" if record.kind == "list_entry" else record.kind
    events.emit(session, f"{kind_event}.corrected", _event_data(record, reason=reason), at=now,
                organization_uscc=record.organization_uscc, record_id=record.id)
    if record.list_name == "black" and record.visibility == "public":
        _end_red_entries(session, record, now=now)  # a corrected term may now meet a red one
    return record


def withdraw(session: Session, record_id: str, *, department_code: str, reason: str, now: datetime,
             scopes: frozenset[str] | None = None) -> Record:
    """Withdraw a record from publication (a revoked or annulled decision); it is kept, with its reason."""
    record = _owned_active(session, record_id, department_code, scopes)
    _change_status(session, record, "withdrawn", reason, now=now)
    if record.list_name == "black":
        _reinstate_red_entries(session, record, now=now)
    return record


def _change_status(session: Session, record: Record, status: RecordStatus, reason: str, *,
                   now: datetime, caused_by: str | None = None) -> None:
    record.status = status
    record.status_reason = reason
    record.updated_at = now
    RecordRepository(session).set_status(
        record, RecordStatusChange(record_id=record.id, status=status, reason=reason, caused_by=caused_by,
                                   changed_at=now)
    )
    extra = {"caused_by": caused_by} if caused_by else {}
    if record.kind != "list_entry":
        event_type, extra["reason"] = f"{record.kind}.{status}", reason
    elif status == "active":
        event_type, extra["reason"] = "list_entry.added", "reinstated"
    else:
        # list_entry.removed carries a machine reason: expired, repaired, withdrawn, superseded_by_black_list.
        event_type, extra["reason"] = "list_entry.removed", reason if status == "superseded" else status
    events.emit(session, event_type, _event_data(record, **extra), at=now,
                organization_uscc=record.organization_uscc, record_id=record.id)


_EXPIRY_REASONS = {
    "violation": "the maximum publicity window ended",
    "list_entry": "the listing term ended",
    "rating": "the rating's validity ended",
}


def expire(session: Session, record: Record, *, now: datetime) -> None:
    """End an active record whose public life is over (publicity window, list term, validity):
    status ``expired`` with a reason, and its event. The record stays, with its whole history."""
    reason = f"{_EXPIRY_REASONS.get(record.kind, 'its term ended')} on {record.ends_on}"
    _change_status(session, record, "expired", reason, now=now)


def repair(session: Session, record: Record, *, reason: str, now: datetime) -> None:
    """Credit repair approved by the deciding department: the record leaves public display and is
    no longer shared with other departments (the visibility rule hides repaired records of others);
    the owner keeps it, with its whole history."""
    _change_status(session, record, "repaired", reason, now=now)


def history(session: Session, record_id: str, *, viewer: str) -> RecordHistory:
    """One record with every version and status change, if ``viewer`` (a department) may see it."""
    record = RecordRepository(session).get_visible(record_id, viewer)
    if record is None:
        raise RecordNotFound(f"no record {record_id}")
    return histories(session, [record])[0]


def histories(session: Session, records: Sequence[Record]) -> list[RecordHistory]:
    """Histories of many records in three queries (no query per record)."""
    repository = RecordRepository(session)
    ids = [r.id for r in records]
    versions: dict[str, list[RecordVersion]] = {i: [] for i in ids}
    changes: dict[str, list[RecordStatusChange]] = {i: [] for i in ids}
    grants: dict[str, list[str]] = {i: [] for i in ids}
    for version in repository.versions_of(ids):
        versions[version.record_id].append(version)
    for change in repository.status_changes_of(ids):
        changes[change.record_id].append(change)
    for grant in repository.grants_of(ids):
        grants[grant.record_id].append(grant.department_code)
    return [RecordHistory(r, versions[r.id], changes[r.id], sorted(grants[r.id])) for r in records]
