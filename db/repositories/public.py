"""The public read path: the hottest queries of the service, kept to two statements on one
connection with no ORM objects (see bench/ for what the ORM costs here).

Visibility is enforced here, in the query, so no caller can forget it: only public, active
records whose public window has begun and not ended are ever selected.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from db.tables import Grade, Organization, Record

_org = Organization.__table__
_rec = Record.__table__
_grade = Grade.__table__

_ORG_COLUMNS = (
    _org.c.uscc,
    _org.c.org_code,
    _org.c.name,
    _org.c.region_code,
    _org.c.status,
    _org.c.legal_representative,
    _org.c.check_digit_valid,
    _org.c.updated_at,
)


@dataclass(frozen=True)
class PublicRecordRow:
    id: str
    kind: str
    department_code: str
    version: int
    effective_on: date
    ends_on: date | None
    list_name: str | None
    grade_label_zh: str | None
    grade_label_en: str | None
    details: dict[str, Any]


def organization_by_uscc(conn: Connection, uscc: str) -> dict[str, Any] | None:
    row = conn.execute(select(*_ORG_COLUMNS).where(_org.c.uscc == uscc)).mappings().first()
    return dict(row) if row else None


def organization_by_org_code(conn: Connection, org_code: str) -> dict[str, Any] | None:
    statement = (
        select(*_ORG_COLUMNS)
        .where(_org.c.org_code == org_code)
        .order_by(_org.c.created_at, _org.c.uscc)
        .limit(1)
    )
    row = conn.execute(statement).mappings().first()
    return dict(row) if row else None


def public_records(conn: Connection, uscc: str, *, today: date) -> list[PublicRecordRow]:
    """Active public records of one organization that are on public display ``today``."""
    statement = (
        select(
            _rec.c.id,
            _rec.c.kind,
            _rec.c.department_code,
            _rec.c.version,
            _rec.c.effective_on,
            _rec.c.ends_on,
            _rec.c.list_name,
            _grade.c.label_zh,
            _grade.c.label_en,
            _rec.c.details,
        )
        .select_from(
            _rec.outerjoin(
                _grade, and_(_grade.c.scheme_code == _rec.c.grade_scheme, _grade.c.code == _rec.c.grade)
            )
        )
        .where(
            _rec.c.organization_uscc == uscc,
            _rec.c.status == "active",
            _rec.c.visibility == "public",
            _rec.c.effective_on <= today,
            or_(_rec.c.ends_on.is_(None), _rec.c.ends_on > today),
        )
        .order_by(_rec.c.effective_on.desc(), _rec.c.id.desc())
    )
    return [PublicRecordRow(*row) for row in conn.execute(statement)]
