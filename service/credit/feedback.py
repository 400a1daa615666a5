"""Measures applied, reported back (反馈): a department says it applied a measure of the catalogue
to an organization, under its own decision; the department whose record triggered it learns of it
(event ``measure.applied`` to that department alone, and in its list of the organization's
measures). Counts by measure and department feed the metrics and the statistics
(kept by each report in ``statistic_count``: ``db.repositories.statistics.measures_applied``)."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.ids import new_id
from db.repositories.measures import MeasureApplicationRepository
from db.repositories.records import RecordRepository
from db.tables import MeasureApplication, Record
from service.credit import checks, measures
from service.errors import DuplicateRecord, InvalidRecord, RecordNotFound
from service.organizations import master_data
from service.rules.clock import local_date
from service.rules.reference import require_department
from service.statistics import counting
from service.sync import event_types, events


@dataclass(frozen=True)
class Applied:
    measure: str
    decision_no: str
    decided_on: date
    trigger_record_id: str
    note: str | None


def report(session: Session, code: str, applied: Applied, *, department_code: str, now: datetime
           ) -> MeasureApplication:
    organization = master_data.get(session, code)
    if applied.decided_on > local_date(now):
        raise InvalidRecord(f"decided_on {applied.decided_on} is after today: a measure is reported once applied",
                            field="decided_on")
    catalogue, measure = measures.find(session, applied.measure, applied.decided_on)
    department = require_department(session, department_code)
    if department.kind not in measure.applied_by:
        raise InvalidRecord(f"measure {measure.code!r} is applied by {', '.join(measure.applied_by)} departments; "
                            f"{department_code} is {department.kind}", field="measure")
    trigger = RecordRepository(session).get_visible(applied.trigger_record_id, department_code)
    if trigger is None or trigger.organization_uscc != organization.uscc:
        raise RecordNotFound(f"no record {applied.trigger_record_id} of {organization.uscc} is visible to "
                             f"{department_code}")
    # The measure must have applied that day, as the department's own credit check would have said.
    standing = checks.standing(session, organization.uscc, viewer=department_code, viewer_kind=department.kind,
                               today=local_date(now), as_of=applied.decided_on)
    found = next((m for m in standing.measures if m.code == measure.code), None)
    if found is None:
        raise InvalidRecord(f"measure {measure.code!r} did not apply to {organization.uscc} on {applied.decided_on} "
                            "(see its credit check as of that day)", field="measure")
    # The record named must be one that can trigger it, so the feedback reaches the department
    # whose decision led to the measure, not whoever's record was at hand.
    if trigger.id != found.trigger.record_id and not _can_trigger(measure.trigger.kind, trigger):
        raise InvalidRecord(f"record {trigger.id} cannot trigger measure {measure.code!r} (a {measure.trigger.kind} "
                            f"measure); that day it applied because of {found.trigger.record_id}",
                            field="trigger_record_id")
    repository = MeasureApplicationRepository(session)
    if (existing := repository.find(department_code, measure.code, applied.decision_no)) is not None:
        raise DuplicateRecord(f"{department_code} already reported measure {measure.code} under decision "
                              f"{applied.decision_no}", existing_id=existing.id)
    application = MeasureApplication(
        id=new_id("mea"), organization_uscc=organization.uscc, measure_code=measure.code,
        catalogue_version=catalogue.version, department_code=department_code, decision_no=applied.decision_no,
        decided_on=applied.decided_on, trigger_record_id=applied.trigger_record_id, note=applied.note,
        created_at=now)
    try:
        with session.begin_nested():  # a concurrent report of the same decision won the unique key
            repository.add(application)
    except IntegrityError:
        winner = repository.find(department_code, measure.code, applied.decision_no)
        if winner is None:
            raise
        raise DuplicateRecord(f"{department_code} already reported measure {measure.code} under decision "
                              f"{applied.decision_no}", existing_id=winner.id) from None
    # The event goes to the trigger's department alone (an owner-only event type).
    events.emit(session, event_types.MEASURE_APPLIED, {
            "application_id": application.id, "organization": organization.uscc, "measure": measure.code,
            "catalogue_version": catalogue.version, "department": department_code,
            "decision_no": application.decision_no, "decided_on": application.decided_on.isoformat(),
        "record_id": trigger.id}, at=now, organization_uscc=organization.uscc, record_id=trigger.id)
    counting.move(session, [], counting.measure_keys(organization.uscc, application.decided_on, measure.code,
                                                     department_code))
    return application


def _can_trigger(kind: str, record: Record) -> bool:
    if kind in ("black_list", "red_list"):
        return record.kind == "list_entry" and record.list_name == ("black" if kind == "black_list" else "red")
    if kind == "serious_violation":
        return record.kind == "violation" and record.severity == "serious"
    if kind == "grade":
        return record.kind == "rating"
    return record.kind in ("rating", "list_entry")  # a supervision class comes from a rating or a list


def of_organization(session: Session, code: str, *, viewer: str) -> list[MeasureApplication]:
    organization = master_data.get(session, code)
    return list(MeasureApplicationRepository(session).of_organization_visible(organization.uscc, viewer))
