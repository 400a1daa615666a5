"""Queries on records, their versions, access grants and status trail."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, exists, literal
from sqlalchemy.orm import aliased
from sqlmodel import Session, and_, col, or_, select

from db.inserts import insert_rows
from db.tables import Complaint, Record, RecordAccess, RecordStatusChange, RecordVersion


def visible_to(department_code: Any, *, including_repaired: bool = False) -> ColumnElement[bool]:
    """The one rule for what a department may see: its own records; public and shared records of
    others; restricted records of others that name it. A repaired record of another department
    is no longer shared ("谁认定、谁修复": the repair stops sharing). ``including_repaired``: what
    the department could see before a repair (the events that tell it to let go of its copy)."""
    granted = exists().where(col(RecordAccess.record_id) == Record.id,
                             col(RecordAccess.department_code) == department_code)
    shared = or_(col(Record.visibility).in_(("public", "shared")), and_(Record.visibility == "restricted", granted))
    others = shared if including_repaired else and_(col(Record.status) != "repaired", shared)
    return or_(Record.department_code == department_code, others)


# Events about the public's tickets (ticket ids, outcomes) concern the deciding department alone;
# so does a measure another department applied because of its record (反馈 goes to the decider).
OWNER_ONLY_EVENTS = ("objection.filed", "objection.resolved", "repair.requested", "repair.decided", "measure.applied")


def event_visible_to(department_code: Any, event_type: Any, record_id: Any) -> ColumnElement[bool]:
    """Whether a department gets an event (feed, webhooks, replay): events about no record (master
    data) go to all; ticket events to the record's department; the others to every department
    that may see the record, or could before a repair (so it learns of the repair)."""
    if isinstance(event_type, str):
        event_type = literal(event_type)
    about_record = exists().where(
        Record.id == record_id,
        case((event_type.in_(OWNER_ONLY_EVENTS), Record.department_code == department_code),
             else_=visible_to(department_code, including_repaired=True)),
    )
    # A complaint's events carry its id as record_id and go to the department handling it now
    # (after a transfer, the new one: the old one no longer sees it).
    about_complaint = and_(event_type.like("complaint.%"), exists().where(
        col(Complaint.id) == record_id, col(Complaint.department_code) == department_code))
    about = or_(about_record, about_complaint)
    return about if isinstance(record_id, str) else or_(record_id.is_(None), about)


class RecordRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, record_id: str, *, lock: bool = False) -> Record | None:
        """Unfiltered: for the owner's own writes and system jobs, never for a department's read.
        ``lock``: until commit (PostgreSQL; SQLite writers are serialized)."""
        return self.session.get(Record, record_id, with_for_update=lock or None)

    def get_visible(self, record_id: str, viewer: str, *, lock: bool = False) -> Record | None:
        """``lock``: for a change (PostgreSQL row lock until commit; SQLite writers are serialized)."""
        statement = select(Record).where(Record.id == record_id, visible_to(viewer))
        return self.session.exec(statement.with_for_update(of=Record) if lock else statement).first()

    def of_organization_visible(self, organization_uscc: str, viewer: str) -> Sequence[Record]:
        statement = (
            select(Record)
            .where(Record.organization_uscc == organization_uscc, visible_to(viewer))
            .order_by(col(Record.effective_on).desc(), col(Record.id).desc())
        )
        return self.session.exec(statement).all()

    def of_organizations(self, organization_usccs: Sequence[str], viewer: str | None) -> Sequence[Record]:
        """Records of many organizations that ``viewer`` may see; ``None``: what the public may see
        today, public and active records only. A third party asking about a past date learns
        nothing the public no longer sees: not a repaired or withdrawn record (repair and
        annulment take it off display for good), nor one whose publicity has ended."""
        if not organization_usccs:
            return []
        seen = visible_to(viewer) if viewer is not None else and_(Record.visibility == "public",
                                                                   Record.status == "active")
        statement = (select(Record).where(col(Record.organization_uscc).in_(sorted(set(organization_usccs))), seen)
                     .order_by(col(Record.organization_uscc), col(Record.effective_on), col(Record.id)))
        return self.session.exec(statement).all()

    def visible_page(self, viewer: str, *, after_id: str | None, kind: str | None, limit: int) -> Sequence[Record]:
        """Every record ``viewer`` may see, in id order (ids are ULIDs: creation order), a page at a time."""
        statement = select(Record).where(visible_to(viewer))
        if after_id is not None:
            statement = statement.where(Record.id > after_id)
        if kind is not None:
            statement = statement.where(Record.kind == kind)
        return self.session.exec(statement.order_by(col(Record.id)).limit(limit)).all()

    def due_to_expire(self, today: date, *, limit: int) -> Sequence[Record]:
        """Active records whose public life ended before ``today`` (``ends_on`` is exclusive).
        Rows another sweeper holds are skipped (PostgreSQL), so sweepers never expire one twice."""
        statement = (select(Record)
                     .where(Record.status == "active", col(Record.ends_on).is_not(None), col(Record.ends_on) <= today)
                     .order_by(col(Record.ends_on), col(Record.id)).limit(limit)
                     .with_for_update(skip_locked=True))
        return self.session.exec(statement).all()

    def versions_of(self, record_ids: Sequence[str]) -> Sequence[RecordVersion]:
        statement = (
            select(RecordVersion)
            .where(col(RecordVersion.record_id).in_(record_ids))
            .order_by(col(RecordVersion.record_id), col(RecordVersion.version))
        )
        return self.session.exec(statement).all() if record_ids else []

    def status_changes_of(self, record_ids: Sequence[str]) -> Sequence[RecordStatusChange]:
        statement = (
            select(RecordStatusChange)
            .where(col(RecordStatusChange.record_id).in_(record_ids))
            .order_by(col(RecordStatusChange.id))
        )
        return self.session.exec(statement).all() if record_ids else []

    def grants_of(self, record_ids: Sequence[str]) -> Sequence[RecordAccess]:
        statement = select(RecordAccess).where(col(RecordAccess.record_id).in_(record_ids))
        return self.session.exec(statement).all() if record_ids else []

    def find_decision(self, department_code: str, kind: str, decision_no: str) -> Record | None:
        statement = select(Record).where(
            Record.department_code == department_code,
            Record.kind == kind,
            Record.decision_no == decision_no,
        )
        return self.session.exec(statement).first()

    def find_decisions(self, department_code: str, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Record ids of the department's decisions among ``keys`` ((kind, decision number))."""
        if not keys:
            return {}
        numbers = sorted({number for _, number in keys})
        kinds = sorted({kind for kind, _ in keys})
        # Every column of the unique index constrained, so each key is one index probe; without
        # the kinds the database scanned all of the department's decisions (bulk push slowed as
        # the registry grew).
        statement = select(Record.kind, Record.decision_no, Record.id).where(
            Record.department_code == department_code, col(Record.kind).in_(kinds),
            col(Record.decision_no).in_(numbers))
        wanted = set(keys)
        rows = self.session.connection().execute(statement)  # Core: no ORM machinery for plain columns
        return {(kind, number): record_id for kind, number, record_id in rows if (kind, number) in wanted}

    def add(self, record: Record, version: RecordVersion, change: RecordStatusChange,
            grants: Sequence[RecordAccess]) -> None:
        """One new record with its first version, status row and grants."""
        self.session.add_all([record, version, change, *grants])
        self.session.flush()

    def add_many(self, records: list[dict[str, Any]], versions: list[dict[str, Any]], statuses: list[dict[str, Any]],
                 grants: list[dict[str, Any]]) -> None:
        """New records with their first versions, status rows and grants: one statement per table."""
        for table, rows in ((Record, records), (RecordVersion, versions), (RecordStatusChange, statuses),
                            (RecordAccess, grants)):
            insert_rows(self.session, table, rows)

    def red_entries_meeting(self, organization_uscc: str, starts: date, ends: date | None) -> Sequence[Record]:
        """The organization's active red entries in force on some day of [starts, ends): what a
        public black term over those days ends (the same overlap the red refusal and the sweep use)."""
        statement = select(Record).where(
            Record.organization_uscc == organization_uscc, Record.kind == "list_entry", Record.list_name == "red",
            Record.status == "active", or_(col(Record.ends_on).is_(None), col(Record.ends_on) > starts),
        )
        if ends is not None:
            statement = statement.where(col(Record.effective_on) < ends)
        return self.session.exec(statement).all()

    def black_entry_overlapping(self, organization_uscc: str, starts: date, ends: date | None) -> Record | None:
        """The earliest active public black entry of the organization in force on some day of [starts, ends)."""
        statement = select(Record).where(
            Record.organization_uscc == organization_uscc, Record.kind == "list_entry", Record.list_name == "black",
            Record.status == "active", Record.visibility == "public",
            or_(col(Record.ends_on).is_(None), col(Record.ends_on) > starts),
        ).order_by(col(Record.effective_on))
        if ends is not None:
            statement = statement.where(col(Record.effective_on) < ends)
        return self.session.exec(statement.limit(1)).first()

    def latest_serious_violation(self, organization_uscc: str, *, after: date, through: date,
                                 viewer: str) -> Record | None:
        """The latest serious violation of the organization decided in (after, through] that still
        stands (not withdrawn, repaired or superseded) and ``viewer`` may see."""
        statement = select(Record).where(
            Record.organization_uscc == organization_uscc, Record.kind == "violation", Record.severity == "serious",
            col(Record.status).in_(("active", "expired")), col(Record.effective_on) > after,
            col(Record.effective_on) <= through, visible_to(viewer),
        ).order_by(col(Record.effective_on).desc())
        return self.session.exec(statement.limit(1)).first()

    def red_entries_under_black(self) -> Sequence[tuple[Record, Record]]:
        """(red entry, black entry) pairs of one organization in force at the same time: what the
        rule "never on both lists" forbids and data entered before it was enforced may hold."""
        black = aliased(Record)
        statement = select(Record, black).join(black, and_(
            black.organization_uscc == Record.organization_uscc, black.kind == "list_entry",
            black.list_name == "black", black.status == "active", black.visibility == "public",
            or_(col(black.ends_on).is_(None), col(black.ends_on) > Record.effective_on),
            or_(col(Record.ends_on).is_(None), col(black.effective_on) < Record.ends_on),
        )).where(Record.kind == "list_entry", Record.list_name == "red", Record.status == "active"
                 ).order_by(col(Record.id), col(black.effective_on))
        # Red rows another sweeper holds are skipped: each is ended once.
        return self.session.exec(statement.with_for_update(of=Record, skip_locked=True)).all()

    def superseded_by(self, cause_id: str) -> Sequence[Record]:
        """Records still superseded by ``cause_id``'s change."""
        caused = select(RecordStatusChange.record_id).where(RecordStatusChange.caused_by == cause_id,
                                                            RecordStatusChange.status == "superseded")
        statement = select(Record).where(col(Record.id).in_(caused), Record.status == "superseded")
        return self.session.exec(statement).all()

    def add_version(self, record: Record, version: RecordVersion) -> None:
        self.session.add_all([record, version])
        self.session.flush()

    def set_status(self, record: Record, change: RecordStatusChange) -> None:
        self.session.add_all([record, change])
        self.session.flush()

