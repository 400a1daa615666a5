"""The public read path: the hottest queries of the service, kept to two statements on one
connection with no ORM objects (see bench/ for what the ORM costs here).

Visibility is enforced here, in the query, so no caller can forget it: only public, active
records whose public window has begun and not ended are ever selected.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Date,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    true,
)

from db.prepared import AnySelect, Prepared, ReadSource
from db.tables import Department, Grade, Objection, Organization, OrganizationNameGram, Record, table_of

_org = table_of(Organization)
_rec = table_of(Record)
_grade = table_of(Grade)
_objection = table_of(Objection)

# The public never reads ``name`` or ``legal_representative`` themselves: only their public forms,
# with personal data masked when written (service.records.personal_data).
_PUBLIC_NAME = _org.c.public_name.label("name")
_ORG_COLUMNS = (
    _org.c.uscc,
    _org.c.org_code,
    _PUBLIC_NAME,
    _org.c.region_code,
    _org.c.status,
    _org.c.public_legal_representative.label("legal_representative"),
    _org.c.masked_fields,
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
    summary: dict[str, Any]  # the public summary, personal data masked
    masked_fields: list[str] | None
    under_objection: bool


# The lookup's statements are built and compiled once and run on the driver's cursor: building
# and executing a statement through SQLAlchemy costs ten times what running it does (this is the
# public lookup, the hottest path; see db/prepared.py).
_BY_USCC = Prepared(select(*_ORG_COLUMNS).where(_org.c.uscc == bindparam("uscc")))
_BY_ORG_CODE = Prepared(select(*_ORG_COLUMNS).where(_org.c.org_code == bindparam("org_code"))
                        .order_by(_org.c.created_at, _org.c.uscc).limit(1))
_ORG_KEYS = _BY_USCC.columns


def organization_by_uscc(conn: ReadSource, uscc: str) -> dict[str, Any] | None:
    row = _BY_USCC.first(conn, uscc=uscc)
    return dict(zip(_ORG_KEYS, row, strict=True)) if row else None


def organization_by_org_code(conn: ReadSource, org_code: str) -> dict[str, Any] | None:
    row = _BY_ORG_CODE.first(conn, org_code=org_code)
    return dict(zip(_ORG_KEYS, row, strict=True)) if row else None


def _in_force(today: date | BindParameter[date], record: Any = _rec) -> ColumnElement[bool]:
    """On public display on ``today``: the one rule, for lookups, lists and search."""
    return and_(record.c.status == "active", record.c.visibility == "public", record.c.effective_on <= today,
                or_(record.c.ends_on.is_(None), record.c.ends_on > today))


_PUBLIC_RECORDS = Prepared(
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
        _rec.c.public_summary,
        _rec.c.masked_fields,
        exists().where(_objection.c.record_id == _rec.c.id, _objection.c.status == "pending")
        .label("under_objection"),
    )
    .select_from(
        _rec.outerjoin(_grade, and_(_grade.c.scheme_code == _rec.c.grade_scheme, _grade.c.code == _rec.c.grade))
    )
    .where(
        _rec.c.organization_uscc == bindparam("uscc"),
        _in_force(bindparam("today", type_=Date)),
    )
    .order_by(_rec.c.effective_on.desc(), _rec.c.id.desc())
)


def public_records(conn: ReadSource, uscc: str, *, today: date) -> list[PublicRecordRow]:
    """Active public records of one organization that are on public display ``today``."""
    return [PublicRecordRow(*row) for row in _PUBLIC_RECORDS.rows(conn, uscc=uscc, today=today)]


_gram = table_of(OrganizationNameGram)
_SEARCH_COLUMNS = (_org.c.uscc, _org.c.org_code, _PUBLIC_NAME, _org.c.region_code, _org.c.status,
                   _org.c.masked_fields)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _listed(list_name: str, today: date) -> ColumnElement[bool]:
    """The organization (of the enclosing query's ``organization`` row) has an entry on the list in force."""
    return exists().where(_rec.c.organization_uscc == _org.c.uscc, _rec.c.kind == "list_entry",
                          _rec.c.list_name == list_name, _in_force(today))


def _black_listed(today: date) -> ColumnElement[bool]:
    black = _rec.alias("black")
    return exists().where(black.c.organization_uscc == _org.c.uscc, black.c.kind == "list_entry",
                          black.c.list_name == "black", _in_force(today, black))


def _on_list(list_name: str, today: date) -> ColumnElement[bool]:
    if list_name == "red":  # a black listing outweighs a red entry not yet ended
        return and_(_listed("red", today), ~_listed("black", today))
    return _listed(list_name, today)


def gram_count(conn: Connection, gram: str, *, cap: int) -> int:
    """How many organizations' names contain ``gram``, counting no further than ``cap``
    (an index-only range read)."""
    capped = select(_gram.c.uscc).where(_gram.c.gram == gram).limit(cap).subquery()
    return conn.execute(select(func.count()).select_from(capped)).scalar_one()


def _organization_filters(*, region: str | None, list_name: str | None,
                          today: date | None) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if region:
        filters.append(_org.c.region_code.like(f"{_like_escape(region)}%", escape="\\"))
    if list_name:
        assert today is not None, "a list filter needs the day it applies to"
        filters.append(_on_list(list_name, today))
    return filters


def search_by_name_statement(*, gram: str, text: str, after: str | None, limit: int, dialect: str,
                             region: str | None = None, list_name: str | None = None,
                             today: date | None = None) -> AnySelect:
    """Organizations whose folded name contains ``text``, read through the index of ``gram``
    (one of the text's pieces), in code order after ``after``.

    The gram's postings drive, in code order, and each candidate's row is fetched by primary key
    until the page is full. SQLite plans the plain join that way. PostgreSQL, estimating that
    few names match a long text, would rather scan the organization table; a LATERAL lookup
    fenced with LIMIT 1 (it is one row per code anyway) keeps the same shape there.
    """
    matches = [_org.c.search_name.like(f"%{_like_escape(text)}%", escape="\\"),
               *_organization_filters(region=region, list_name=list_name, today=today)]
    postings = [_gram.c.gram == gram] + ([_gram.c.uscc > after] if after is not None else [])
    if dialect == "postgresql":
        candidate = select(*_SEARCH_COLUMNS).where(_org.c.uscc == _gram.c.uscc, *matches).limit(1).lateral("candidate")
        return (select(*candidate.c).select_from(_gram.join(candidate, true())).where(*postings)
                .order_by(_gram.c.uscc).limit(limit))
    return (select(*_SEARCH_COLUMNS).select_from(_gram.join(_org, _org.c.uscc == _gram.c.uscc))
            .where(*postings, *matches).order_by(_gram.c.uscc).limit(limit))


def search_by_name(conn: Connection, *, gram: str, text: str, region: str | None, list_name: str | None,
                   today: date, after: str | None, limit: int) -> list[dict[str, Any]]:
    statement = search_by_name_statement(gram=gram, text=text, after=after, limit=limit, region=region,
                                         list_name=list_name, today=today, dialect=conn.dialect.name)
    return [dict(row) for row in conn.execute(statement).mappings()]


def search_by_code_prefix(conn: Connection, *, prefix: str, region: str | None, list_name: str | None,
                          today: date, after: str | None, limit: int) -> list[dict[str, Any]]:
    # A range on the primary key: prefix <= uscc < prefix + the highest code character.
    statement = (
        select(*_SEARCH_COLUMNS)
        .where(_org.c.uscc >= prefix, _org.c.uscc < prefix + "Z")
        .order_by(_org.c.uscc)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(_org.c.uscc > after)
    return _filtered(conn, statement, region=region, list_name=list_name, today=today)


def _filtered(conn: Connection, statement: AnySelect, *, region: str | None, list_name: str | None,
              today: date) -> list[dict[str, Any]]:
    statement = statement.where(*_organization_filters(region=region, list_name=list_name, today=today))
    return [dict(row) for row in conn.execute(statement).mappings()]


def list_statuses(conn: Connection, usccs: list[str], *, today: date) -> dict[str, str]:
    """red/black for those of ``usccs`` on a public list today (black outweighs red)."""
    if not usccs:
        return {}
    statement = select(_rec.c.organization_uscc, _rec.c.list_name).where(
        _rec.c.organization_uscc.in_(usccs), _rec.c.kind == "list_entry", _in_force(today))
    statuses: dict[str, str] = {}
    for uscc, list_name in conn.execute(statement):
        if statuses.get(uscc) != "black":
            statuses[uscc] = list_name
    return statuses


_dept = table_of(Department)

_LIST_COLUMNS = (
    _rec.c.id, _rec.c.organization_uscc, _PUBLIC_NAME, _org.c.region_code, _rec.c.list_name,
    _rec.c.department_code, _dept.c.name.label("department_name"), _rec.c.effective_on, _rec.c.ends_on,
    _rec.c.public_summary, _rec.c.masked_fields, _org.c.masked_fields.label("organization_masked_fields"),
)


def list_entries(conn: Connection, list_name: str, *, today: date, region: str | None = None,
                 department: str | None = None, since: date | None = None,
                 after: tuple[date, str] | None = None, limit: int) -> list[dict[str, Any]]:
    """Entries on a public list today, newest first; ``after`` = (effective_on, id) of the last
    entry of the previous page. Keyset order, so inserts between pages never shift a page."""
    statement = (
        select(*_LIST_COLUMNS)
        .select_from(_rec.join(_org, _org.c.uscc == _rec.c.organization_uscc)
                     .join(_dept, _dept.c.code == _rec.c.department_code))
        .where(_rec.c.list_name == list_name, _rec.c.kind == "list_entry", _in_force(today))
        .order_by(_rec.c.effective_on.desc(), _rec.c.id.desc())
        .limit(limit)
    )
    if list_name == "red":
        # A second guard: a red entry is refused while a black one is in force, and a black listing
        # ends red entries, but an entry that slipped past both must still not show a black-listed
        # organization on the red list.
        statement = statement.where(~_black_listed(today))
    if region:
        statement = statement.where(_org.c.region_code.like(f"{_like_escape(region)}%", escape="\\"))
    if department:
        statement = statement.where(_rec.c.department_code == department)
    if since:
        statement = statement.where(_rec.c.effective_on >= since)
    if after is not None:
        day, record_id = after
        statement = statement.where(or_(_rec.c.effective_on < day,
                                        and_(_rec.c.effective_on == day, _rec.c.id < record_id)))
    return [dict(row) for row in conn.execute(statement).mappings()]
