"""Reference data every install starts with: the default grade scheme and rule set.

Grade schemes are data, not an enum (domain.md §3.1): an administrator can add schemes; the
default follows GB/T 23791's "four classes, six grades".
"""

from datetime import date, datetime

from sqlmodel import Session

from db.repositories.reference import ReferenceRepository
from db.tables import Department, Grade, GradeScheme, RuleSet
from service.errors import Conflict, DepartmentNotFound, InvalidRecord
from service.rules import DEFAULT_RULE_SET_NAME, DEFAULT_RULES, Rules, rules_from_json

DEFAULT_SCHEME = "default"
DEFAULT_GRADES = (
    ("AAA", "优秀", "Excellent"),
    ("AA", "良好", "Good"),
    ("A", "较好", "Fairly good"),
    ("B", "一般", "Fair"),
    ("C", "较差", "Poor"),
    ("D", "差", "Bad"),
)
# The default rule set is in force for every decision the registry can hold.
DEFAULT_RULES_FROM = date(1949, 10, 1)
DEPARTMENT_KINDS = ("market_regulation", "tax", "customs", "bank", "insurer", "other")


def ensure_defaults(session: Session, *, now: datetime) -> None:
    """Create the default grade scheme and rule set if they are missing (idempotent)."""
    reference = ReferenceRepository(session)
    if reference.grade_scheme(DEFAULT_SCHEME) is None:
        reference.add(
            GradeScheme(
                code=DEFAULT_SCHEME,
                name_zh="质量信用等级（四等六级）",
                name_en="Quality credit grades (four classes, six grades)",
                basis="GB/T 23791-2009",
            )
        )
        reference.add(
            *(
                Grade(scheme_code=DEFAULT_SCHEME, code=code, rank=rank, label_zh=zh, label_en=en)
                for rank, (code, zh, en) in enumerate(DEFAULT_GRADES)
            )
        )
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


def rules_of(session: Session, rule_set_id: int | None) -> Rules:
    rule_set = ReferenceRepository(session).rule_set_by_id(rule_set_id) if rule_set_id else None
    if rule_set is None:
        raise InvalidRecord(f"rule set {rule_set_id} does not exist")
    return rules_from_json(rule_set.rules)


def require_grade(session: Session, scheme: str, grade: str) -> None:
    reference = ReferenceRepository(session)
    if reference.grade_scheme(scheme) is None:
        raise InvalidRecord(f"unknown grade scheme {scheme!r}", field="scheme")
    if reference.grade(scheme, grade) is None:
        allowed = ", ".join(g.code for g in reference.grades(scheme))
        raise InvalidRecord(f"grade {grade!r} is not in scheme {scheme!r} ({allowed})", field="grade")


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
