"""The credit check: one organization's ``Standing`` on a date, or a thousand at once.

"As of" a past date answers as the registry stood at the end of that day (China Standard Time):
records entered by then, with the version and status they had then; the grade scheme version
each rating was given under; the rule set and the measures catalogue in force that day. A later
correction or catalogue change does not change an earlier answer, so a department or a bidding
platform can reproduce the check it based a decision on.

A bulk check reads every organization and record in a few statements, whatever the number of
codes (no statement per code).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from db.repositories.organizations import OrganizationRepository
from db.repositories.records import RecordRepository
from db.tables import Organization, Record, RecordStatusChange, RecordVersion
from service import codes
from service.access.actors import Actor, Scope
from service.credit import measures as catalogue
from service.credit.measures import Measure
from service.credit.standing import (
    AppliedMeasure,
    GradeOnDate,
    Standing,
    StandingRecord,
    Supervision,
    Trigger,
)
from service.errors import DomainError, OrganizationNotFound
from service.records.fields import public_summary
from service.rules import grade_schemes
from service.rules.clock import local_date
from service.rules.grade_schemes import CLASS_NAMES, DEFAULT_SCHEME, SUPERVISION_CLASSES
from service.rules.reference import find_department, rule_set_for
from service.rules.rule_sets import add_months

MAX_CODES = 1000
# Statuses after which a record never counted (withdrawn: annulled; repaired: credit restored;
# superseded: a red entry ended by a black listing). Expired records did happen: a measure that
# lasts years after its trigger still counts them.
_HAPPENED = ("active", "expired")


@dataclass(frozen=True)
class _State:
    """A record as it stood at the end of one day."""

    record: Record
    version: int
    status: str
    details: dict[str, Any]
    summary: dict[str, Any]
    effective_on: date
    ends_on: date | None

    def in_force(self, day: date) -> bool:
        return self.status == "active" and self.effective_on <= day and (self.ends_on is None or day < self.ends_on)

    def happened_by(self, day: date) -> bool:
        return self.status in _HAPPENED and self.effective_on <= day


def _state_on(record: Record, versions: list[RecordVersion], changes: list[RecordStatusChange], day: date, *,
              today: date) -> _State | None:
    if day >= today:
        return _State(record, record.version, record.status, record.details, record.public_summary,
                      record.effective_on, record.ends_on)
    entered = [v for v in versions if local_date(v.created_at) <= day]
    if not entered:
        return None  # not yet entered in the registry on that day
    version = entered[-1]
    statuses = [c for c in changes if local_date(c.changed_at) <= day]
    return _State(record, version.version, statuses[-1].status if statuses else "active", version.content,
                  public_summary(record.kind, version.content)[0], version.effective_on or record.effective_on,
                  version.ends_on if version.effective_on is not None else record.ends_on)


@dataclass(frozen=True)
class CodeProblem:
    """A code of a bulk check that has no standing: not a code, or no organization under it."""

    code: str
    error: DomainError  # InvalidCode or OrganizationNotFound: the single check raises it as it is

    @property
    def status(self) -> int:
        return 404 if isinstance(self.error, OrganizationNotFound) else 422

    @property
    def title(self) -> str:
        return "Organization not found" if self.status == 404 else "Invalid organization code"

    @property
    def detail(self) -> str:
        return self.error.detail


def standing(session: Session, code: str, *, viewer: str | None, viewer_kind: str | None, today: date,
             as_of: date | None = None) -> Standing:
    """One organization's standing; ``viewer`` a department code, or None for the public's view."""
    result = standings(session, [code], viewer=viewer, viewer_kind=viewer_kind, today=today, as_of=as_of)[0]
    if isinstance(result, CodeProblem):
        raise result.error
    return result


def _organizations(session: Session, typed: list[str]) -> list[Organization | CodeProblem]:
    parsed: list[codes.ParsedCode | CodeProblem] = []
    for raw in typed:
        try:
            parsed.append(codes.parse_code(raw))
        except DomainError as error:
            parsed.append(CodeProblem(raw, error))
    repository = OrganizationRepository(session)
    by_uscc = repository.get_many({p.value for p in parsed if isinstance(p, codes.ParsedCode) and p.kind == "uscc"})
    by_org_code = repository.find_by_org_codes(
        {p.value for p in parsed if isinstance(p, codes.ParsedCode) and p.kind == "org_code"})
    found: list[Organization | CodeProblem] = []
    for raw, item in zip(typed, parsed, strict=True):
        if isinstance(item, CodeProblem):
            found.append(item)
            continue
        organization = (by_uscc if item.kind == "uscc" else by_org_code).get(item.value)
        found.append(organization or CodeProblem(
            raw, OrganizationNotFound(f"no organization is registered under {item.value}")))
    return found


def standings(session: Session, typed_codes: list[str], *, viewer: str | None, viewer_kind: str | None,
              today: date, as_of: date | None = None, classes_only: bool = False) -> list[Standing | CodeProblem]:
    """One result per code, in order: a standing, or the problem with that code alone.
    ``classes_only``: lists, grade and class, without the measures and records (what a write
    needs to notice a change of class, at a fraction of the cost)."""
    day = min(as_of, today) if as_of is not None else today
    found = _organizations(session, typed_codes)
    organizations = {o.uscc: o for o in found if isinstance(o, Organization)}
    repository = RecordRepository(session)
    records = repository.of_organizations(list(organizations), viewer)
    versions: dict[str, list[RecordVersion]] = defaultdict(list)
    changes: dict[str, list[RecordStatusChange]] = defaultdict(list)
    if day < today:  # the past needs each record's trail; today's answer is the records as they are
        ids = [r.id for r in records]
        for version in repository.versions_of(ids):
            versions[version.record_id].append(version)
        for change in repository.status_changes_of(ids):
            changes[change.record_id].append(change)
    states: dict[str, list[_State]] = defaultdict(list)
    for record in records:
        state = _state_on(record, versions[record.id], changes[record.id], day, today=today)
        if state is not None:
            states[record.organization_uscc].append(state)
    context = _Context(session, day, viewer, viewer_kind, classes_only=classes_only)
    return [item if isinstance(item, CodeProblem) else context.standing(item, states[item.uscc]) for item in found]


def unrated_class(session: Session, day: date) -> str:
    return rule_set_for(session, day)[1].unrated_supervision_class


class _Context:
    """What every standing on one day shares: the unrated class and the catalogue in force."""

    def __init__(self, session: Session, day: date, viewer: str | None, viewer_kind: str | None, *,
                 classes_only: bool = False) -> None:
        self.session, self.day, self.viewer, self.viewer_kind = session, day, viewer, viewer_kind
        self.classes_only = classes_only
        self.unrated_class = unrated_class(session, day)
        self.catalogue = None if classes_only else catalogue.in_force(session, day)

    def standing(self, organization: Organization, states: list[_State]) -> Standing:
        day = self.day
        in_force = [s for s in states if s.in_force(day)]
        black = [s for s in in_force if s.record.kind == "list_entry" and s.details.get("list") == "black"]
        # Never both: a black listing outweighs a red entry that has not been ended yet.
        red = [] if black else [s for s in in_force if s.record.kind == "list_entry" and s.details.get("list") == "red"]
        ratings = sorted((s for s in in_force if s.record.kind == "rating"), key=lambda s: (s.effective_on, s.record.id))
        grade = self._grade(ratings[-1]) if ratings else None
        supervision = self._supervision(black, red, ratings[-1] if ratings else None)
        return Standing(
            code=organization.uscc,
            name=organization.public_name if self.viewer is None else organization.name,
            as_of=day,
            black_listed=bool(black),
            red_listed=bool(red),
            grade=grade,
            supervision=supervision,
            measures=self._measures(states, black, red, grade, supervision),
            active_violations=sum(1 for s in in_force if s.record.kind == "violation"),
            records=[] if self.classes_only else [
                StandingRecord(s.record.id, s.record.kind, s.version, s.status, s.effective_on, s.ends_on,
                               s.record.department_code, s.summary)
                for s in sorted(in_force, key=lambda s: (s.effective_on, s.record.id), reverse=True)],
        )

    def _scheme_version(self, rating: _State) -> grade_schemes.SchemeVersion | None:
        scheme = str(rating.details.get("scheme", DEFAULT_SCHEME))
        return (grade_schemes.by_id(self.session, rating.record.grade_scheme_version_id)
                or grade_schemes.in_force(self.session, scheme, rating.effective_on))

    def _grade(self, rating: _State) -> GradeOnDate:
        version = self._scheme_version(rating)
        code = str(rating.details["grade"])
        found = version.definition.grade(code) if version else None
        return GradeOnDate(scheme=str(rating.details.get("scheme", DEFAULT_SCHEME)),
                           scheme_version=version.version if version else None, grade=code,
                           label_zh=found.label_zh if found else None, label_en=found.label_en if found else None,
                           record_id=rating.record.id)

    def _class(self, code: str, frequencies: grade_schemes.SchemeDefinition | None, reason: str,
               record_id: str | None) -> Supervision:
        rule = next((r for c, r in frequencies.classes.items() if c == code), None) if frequencies else None
        zh, en = CLASS_NAMES[code]
        return Supervision(code, zh, en, rule.inspections_per_year if rule else 0.0, reason, record_id)

    def _supervision(self, black: list[_State], red: list[_State], rating: _State | None) -> Supervision:
        """A black entry: the strictest class. A grade: its class in the version it was given under.
        A red entry lifts to A, unless the grade's class is C or D (an honour does not outweigh a
        poor evaluation). Otherwise the rule set's unrated class."""
        version = self._scheme_version(rating) if rating else None
        grade = version.definition.grade(str(rating.details["grade"])) if version and rating else None
        frequencies = version.definition if version else self._default_scheme()
        if black:
            return self._class(SUPERVISION_CLASSES[-1], frequencies, "black_list", black[-1].record.id)
        if red and (grade is None or grade.supervision_class in ("A", "B")):
            return self._class("A", frequencies, "red_list", red[-1].record.id)
        if grade is not None and rating is not None:
            return self._class(grade.supervision_class, frequencies, "grade", rating.record.id)
        return self._class(self.unrated_class, frequencies, "unrated", None)

    def _default_scheme(self) -> grade_schemes.SchemeDefinition | None:
        version = grade_schemes.in_force(self.session, DEFAULT_SCHEME, self.day)
        return version.definition if version else None

    def _measures(self, states: list[_State], black: list[_State], red: list[_State], grade: GradeOnDate | None,
                  supervision: Supervision) -> list[AppliedMeasure]:
        if self.catalogue is None:
            return []
        applied = []
        for measure in self.catalogue.measures:
            if measure.direction == "incentive" and black:
                continue  # no reward while on the black list (失信者不得享受守信激励)
            found = self._triggered(measure, states, red, grade, supervision)
            if found is not None:
                trigger, ends_on = found
                applied.append(AppliedMeasure(measure.code, measure.name_zh, measure.name_en, measure.direction,
                                              measure.legal_basis, tuple(measure.applied_by), trigger, ends_on,
                                              self.catalogue.version))
        # The viewer's own measures first (those its kind applies), then the rest in catalogue order.
        return sorted(applied, key=lambda m: self.viewer_kind not in m.applied_by)

    def _triggered(self, measure: Measure, states: list[_State], red: list[_State], grade: GradeOnDate | None,
                   supervision: Supervision) -> tuple[Trigger, date | None] | None:
        """The trigger that makes ``measure`` apply on the day (the longest-lasting one), and when
        the measure ends; None when it does not apply."""
        day, trigger, years = self.day, measure.trigger, measure.duration.years
        if trigger.kind == "supervision_class":
            if trigger.classes and supervision.code in trigger.classes:
                return Trigger("supervision_class", supervision.record_id, None), None
            return None
        if trigger.kind == "grade":
            if grade and trigger.grades and grade.scheme == trigger.scheme and grade.grade in trigger.grades:
                rating = next(s for s in states if s.record.id == grade.record_id)
                return Trigger("grade", rating.record.id, rating.version), rating.ends_on
            return None
        candidates: list[tuple[_State, date | None]] = []
        red_ids = {s.record.id for s in red}
        for state in states:
            if trigger.kind == "serious_violation":
                if state.record.kind != "violation" or state.details.get("severity") != "serious":
                    continue
                assert trigger.within_years is not None
                # The violation counts for within_years; the measure lasts that long, or its own years.
                ends = add_months(state.effective_on, 12 * (years or trigger.within_years))
                if state.happened_by(day) and day < ends:
                    candidates.append((state, ends))
                continue
            wanted = "black" if trigger.kind == "black_list" else "red"
            if state.record.kind != "list_entry" or state.details.get("list") != wanted:
                continue
            if trigger.kind == "red_list" and state.record.id not in red_ids:
                continue
            if measure.duration.kind == "years_after" and years:
                ends = add_months(state.effective_on, 12 * years)
                if state.happened_by(day) and day < ends:
                    candidates.append((state, ends))
            elif state.in_force(day):
                candidates.append((state, state.ends_on))
        if not candidates:
            return None
        chosen, until = max(candidates, key=lambda c: (c[1] is None, c[1] or date.min))
        return Trigger(trigger.kind, chosen.record.id, chosen.version), until


def viewer_of(session: Session, actor: Actor) -> tuple[str | None, str | None]:
    """Whose records a check counts and whose measures come first: a department that reads records
    sees what its visibility allows; a credit-checking system only what the public sees."""
    department = find_department(session, actor.department_code)
    viewer = actor.department_code if Scope.RECORDS_READ.value in actor.scopes else None
    return viewer, department.kind if department else None
