"""Reference data every install starts with: the shipped grade schemes (``grade_schemes``), the
measures catalogue (``service.credit.measures``) and the default rule set; and the departments.
"""

from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from db.repositories.reference import ReferenceRepository
from db.tables import Department, RuleSet
from service.credit import measures
from service.errors import Conflict, DepartmentNotFound, InvalidRecord
from service.rules import grade_schemes
from service.rules.department_kinds import DEPARTMENT_KINDS
from service.rules.rule_sets import DEFAULT_RULE_SET_NAME, DEFAULT_RULES, Rules, rules_from_json

# The default rule set is in force for every decision the registry can hold.
DEFAULT_RULES_FROM = date(1949, 10, 1)


def ensure_defaults(session: Session, *, now: datetime) -> None:
    """Create the shipped grade schemes, measures catalogue and rule set if they are missing (idempotent)."""
    reference = ReferenceRepository(session)
    grade_schemes.ensure_shipped(session, now=now)
    measures.ensure_shipped(session, now=now)
    if reference.rule_set(DEFAULT_RULE_SET_NAME, 1) is None:
        reference.add(
            RuleSet(
                name=DEFAULT_RULE_SET_NAME,
                version=1,
                effective_from=DEFAULT_RULES_FROM,
                rules=DEFAULT_RULES.model_dump(mode="json"),
                created_at=now,
            )
        )


def rule_set_for(session: Session, decided_on: date) -> tuple[int, Rules]:
    """The default rule set version in force on the decision date, parsed."""
    rule_set = ReferenceRepository(session).rule_set_in_force(DEFAULT_RULE_SET_NAME, decided_on)
    if rule_set is None or rule_set.id is None:
        raise InvalidRecord(f"no rule set is in force on {decided_on.isoformat()}")
    return rule_set.id, rules_from_json(rule_set.rules)


def rule_set_versions(session: Session) -> list[RuleSet]:
    return list(ReferenceRepository(session).rule_set_versions(DEFAULT_RULE_SET_NAME))


def _merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` over ``base``, nested objects merged too (change one severity's window alone)."""
    return base | {key: _merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict)
                   else value for key, value in changes.items()}


def publish_rule_set(session: Session, changes: dict[str, Any], *, effective_from: date, today: date,
                     now: datetime) -> RuleSet:
    """A new version of the rule set, effective from a date: ``changes`` over the newest version.
    Records keep the version they were decided under; records decided on or after the date get the
    new one. The date may not lie in the past: the rules of decisions already entered, and of
    late entries of decisions made before today, stay what they were when the registry said so."""
    if effective_from < today:
        raise InvalidRecord(f"effective_from {effective_from} is in the past; a new rule set applies from today on",
                            field="effective_from")
    latest = ReferenceRepository(session).latest_rule_set(DEFAULT_RULE_SET_NAME)  # locked: one publisher at a time
    if effective_from < latest.effective_from:
        raise InvalidRecord(f"version {latest.version} takes effect on {latest.effective_from}; a new version cannot "
                            "take effect before it (it would be overtaken by the older one)", field="effective_from")
    try:
        rules = Rules.model_validate(_merged(latest.rules, changes))
    except ValidationError as error:
        raise InvalidRecord("the rules are not valid", errors=[
            {"loc": ["body", "changes", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in error.errors()
        ]) from None
    rule_set = RuleSet(name=DEFAULT_RULE_SET_NAME, version=latest.version + 1, effective_from=effective_from,
                       rules=rules.model_dump(mode="json"), created_at=now)
    ReferenceRepository(session).add(rule_set)
    return rule_set


def rules_of(session: Session, rule_set_id: int | None) -> Rules:
    rule_set = ReferenceRepository(session).rule_set_by_id(rule_set_id) if rule_set_id else None
    if rule_set is None:
        raise InvalidRecord(f"rule set {rule_set_id} does not exist")
    return rules_from_json(rule_set.rules)


def find_department(session: Session, code: str) -> Department | None:
    return ReferenceRepository(session).department(code)


def require_department(session: Session, code: str) -> Department:
    department = find_department(session, code)
    if department is None:
        raise DepartmentNotFound(f"department {code!r} is not registered")
    return department


def add_department(
    session: Session, *, code: str, name: str, kind: str, region_code: str, now: datetime,
    name_en: str | None = None,
) -> Department:
    if kind not in DEPARTMENT_KINDS:
        raise InvalidRecord(f"department kind must be one of {', '.join(DEPARTMENT_KINDS)}", field="kind")
    if find_department(session, code) is not None:
        raise Conflict(f"department {code} already exists")
    department = Department(
        code=code, name=name, name_en=name_en, kind=kind, region_code=region_code, created_at=now
    )
    ReferenceRepository(session).add(department)
    return department


def list_departments(session: Session) -> list[Department]:
    return list(ReferenceRepository(session).departments())
