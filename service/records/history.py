"""A record as a department sees it: every version and status change, and whom it is shared with."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session

from db.repositories.records import RecordRepository
from db.tables import Record, RecordStatusChange, RecordVersion
from service.errors import RecordNotFound


@dataclass(frozen=True)
class RecordHistory:
    record: Record
    versions: Sequence[RecordVersion]
    status_changes: Sequence[RecordStatusChange]
    shared_with: list[str]


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
