"""A record's status: every change carries a reason, is kept as a row and writes its event in the
same transaction (domain.md §3). The record itself stays, with its whole history."""

from datetime import datetime

from sqlmodel import Session

from db.repositories.records import RecordRepository
from db.tables import Record, RecordStatusChange
from service.credit import supervision
from service.public import inspections as product_search
from service.records.rows import RecordStatus, event_data
from service.statistics import counting
from service.sync import event_types, events

_EXPIRY_REASONS = {
    "violation": "the maximum publicity window ended",
    "list_entry": "the listing term ended",
    "rating": "the rating's validity ended",
}


def change_status(session: Session, record: Record, status: RecordStatus, reason: str, *,
                  now: datetime, caused_by: str | None = None) -> None:
    counted = counting.of_record(record)
    record.status = status
    record.status_reason = reason
    record.updated_at = now
    RecordRepository(session).set_status(
        record, RecordStatusChange(record_id=record.id, status=status, reason=reason, caused_by=caused_by,
                                   changed_at=now)
    )
    extra = {"caused_by": caused_by} if caused_by else {}
    if record.kind != "list_entry":
        event_type, extra["reason"] = event_types.ENDED[(record.kind, status)], reason
    elif status == "active":
        event_type, extra["reason"] = event_types.LIST_ENTRY_ADDED, "reinstated"
    else:
        # list_entry.removed carries a machine reason: expired, repaired, withdrawn, superseded_by_black_list.
        event_type, extra["reason"] = event_types.LIST_ENTRY_REMOVED, reason if status == "superseded" else status
    events.emit(session, event_type, event_data(record, **extra), at=now,
                organization_uscc=record.organization_uscc, record_id=record.id)
    if record.kind == "inspection":  # off the product search (or back on it) as it commits
        product_search.follow(session, [record.id])
    counting.move(session, counted, counting.of_record(record))
    if supervision.moves_class(record.kind, record.visibility):
        supervision.follow(session, [record.organization_uscc], now=now)


def expire(session: Session, record: Record, *, now: datetime) -> None:
    """End an active record whose public life is over (publicity window, list term, validity):
    status ``expired`` with a reason, and its event."""
    reason = f"{_EXPIRY_REASONS.get(record.kind, 'its term ended')} on {record.ends_on}"
    change_status(session, record, "expired", reason, now=now)


def repair(session: Session, record: Record, *, reason: str, now: datetime) -> None:
    """Credit repair approved by the deciding department: the record leaves public display and is
    no longer shared with other departments (the visibility rule hides repaired records of others);
    the owner keeps it."""
    change_status(session, record, "repaired", reason, now=now)
