"""The public read path: the hottest queries of the service, kept to two statements on one
connection with no ORM objects (see bench/ for what the ORM costs here).

Visibility is enforced here, in the query, so no caller can forget it: only public, active
records whose public window has begun and not ended are ever selected.
"""

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Date,
    Integer,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    true,
    tuple_,
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
                   _org.c.masked_fields, _org.c.search_name)


def like_escape(text: str) -> str:
    """``text`` taken literally inside a LIKE pattern (with ``escape="\\"``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


Today = date | BindParameter[date]


def _listed(list_name: str, today: Today) -> ColumnElement[bool]:
    """The organization (of the enclosing query's ``organization`` row) has an entry on the list in force."""
    return exists().where(_rec.c.organization_uscc == _org.c.uscc, _rec.c.kind == "list_entry",
                          _rec.c.list_name == list_name, _in_force(today))


def _black_listed(today: Today) -> ColumnElement[bool]:
    black = _rec.alias("black")
    return exists().where(black.c.organization_uscc == _org.c.uscc, black.c.kind == "list_entry",
                          black.c.list_name == "black", _in_force(today, black))


def _on_list(list_name: str, today: Today) -> ColumnElement[bool]:
    if list_name == "red":  # a black listing outweighs a red entry not yet ended
        return and_(_listed("red", today), ~_listed("black", today))
    return _listed(list_name, today)


_GRAM_COUNT = Prepared(select(func.count().label("postings")).select_from(
    select(_gram.c.uscc).where(_gram.c.gram == bindparam("gram")).limit(bindparam("cap", type_=Integer)).subquery()))


def gram_count(conn: Connection, gram: str, *, cap: int) -> int:
    """How many organizations' names contain ``gram``, counting no further than ``cap``
    (an index-only range read)."""
    return int(_GRAM_COUNT.rows(conn, gram=gram, cap=cap)[0][0])


@dataclass(frozen=True)
class SearchTerms:
    """What one search compares, already folded: the phases of its ranking are built from it."""

    text: str  # the folded query
    exact_code: str | None = None  # a whole USCC
    org_code: str | None = None  # a whole legacy code (9 characters, no hyphen)
    code_prefix: str | None = None  # the beginning of a USCC


def successor(text: str) -> str:
    """The least string after every string that starts with ``text`` (code-point order), so that
    ``text <= name < successor(text)`` is "name starts with text" as a range of an index."""
    for end in range(len(text) - 1, -1, -1):
        code_point = ord(text[end]) + 1
        if 0xD800 <= code_point <= 0xDFFF:  # surrogates are no characters a database stores
            code_point = 0xE000
        if code_point <= 0x10FFFF:
            return text[:end] + chr(code_point)
    return text + "\U0010ffff"  # only text made of U+10FFFF alone; never a folded name


SEARCH_PHASES = ("code", "code_prefix", "name_prefix", "name_part")


def search_phase_applies(phase: str, terms: SearchTerms) -> bool:
    if phase == "code":
        return bool(terms.exact_code or terms.org_code)
    return bool(terms.code_prefix) if phase == "code_prefix" else True


# The statements of the search take every value as a named parameter: a phase's statement is built
# and compiled once for each combination of what is given (``_phase_prepared``), because building
# them in SQLAlchemy per request cost more than the database took to run them (bench/RESULTS.md).
def _phase_match(phase: str, shape: frozenset[str]) -> ColumnElement[bool] | None:
    """Which organizations a phase of the ranking finds (None: the phase does not apply)."""
    if phase == "code":
        codes = ([_org.c.uscc == bindparam("exact_code")] if "exact_code" in shape else []) + \
                ([_org.c.org_code == bindparam("org_code")] if "org_code" in shape else [])
        return or_(*codes) if codes else None
    if phase == "code_prefix":
        if "code_prefix" not in shape:
            return None
        # A range on the primary key: prefix <= uscc < prefix + the highest code character.
        return and_(_org.c.uscc >= bindparam("code_prefix"), _org.c.uscc < bindparam("code_prefix_end"))
    if phase == "name_prefix":
        return and_(_org.c.search_name >= bindparam("text"), _org.c.search_name < bindparam("text_end"))
    return _org.c.search_name.like(bindparam("pattern"), escape="\\")


def _phase_filters(phase: str, shape: frozenset[str]) -> list[ColumnElement[bool]]:
    """The phase's match, and none of the earlier phases' (each organization on one page only)."""
    match = _phase_match(phase, shape)
    assert match is not None, f"the phase {phase} does not apply to this search"
    earlier = [m for p in SEARCH_PHASES[:SEARCH_PHASES.index(phase)] if (m := _phase_match(p, shape)) is not None]
    return [match, *(~m for m in earlier)]


def _organization_filters(shape: frozenset[str], list_name: str | None) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if "region" in shape:
        filters.append(_org.c.region_code.like(bindparam("region"), escape="\\"))
    if list_name:
        filters.append(_on_list(list_name, bindparam("today", type_=Date)))
    return filters


def _phase_select(phase: str, shape: frozenset[str], list_name: str | None, dialect: str) -> AnySelect:
    """One phase of the ranking, in its index's order, after ``after`` when given.

    - code: the whole USCC or legacy code, by the primary key and the legacy-code index;
    - code_prefix: a range of the primary key;
    - name_prefix: names that start with the text (the exact name first), a range of the
      (search_name, uscc) index in that order, from (``lower_name``, ``lower_code``) on a later page;
    - name_part: names that contain the text elsewhere, read through ``gram`` (see ``_by_name_part``).
    """
    filters = [*_phase_filters(phase, shape), *_organization_filters(shape, list_name)]
    limit = bindparam("limit", type_=Integer)
    if phase == "name_part":
        return _by_name_part(filters, after="after" in shape, limit=limit, dialect=dialect)
    if phase != "name_prefix":
        return (select(*_SEARCH_COLUMNS).where(*filters, *([_org.c.uscc > bindparam("after")] if "after" in shape else []))
                .order_by(_org.c.uscc).limit(limit))
    if "after" in shape:
        filters[0] = and_(tuple_(_org.c.search_name, _org.c.uscc) > tuple_(bindparam("lower_name", type_=_org.c.search_name.type),
                                                                      bindparam("lower_code", type_=_org.c.uscc.type)),
                          _org.c.search_name < bindparam("text_end"))
    return select(*_SEARCH_COLUMNS).where(*filters).order_by(_org.c.search_name, _org.c.uscc).limit(limit)


def _by_name_part(filters: list[ColumnElement[bool]], *, after: bool, limit: BindParameter[int],
                  dialect: str) -> AnySelect:
    """Organizations that pass ``filters`` (the whole text among them), read through the index
    of ``gram`` (one of the text's pieces), in code order after ``after``.

    The gram's postings drive, in code order, and each candidate's row is fetched by primary key
    until the page is full. SQLite plans the plain join that way. PostgreSQL, estimating that
    few names match a long text, would rather scan the organization table; a LATERAL lookup
    fenced with LIMIT 1 (it is one row per code anyway) keeps the same shape there.
    """
    postings = [_gram.c.gram == bindparam("gram")] + ([_gram.c.uscc > bindparam("after")] if after else [])
    if dialect == "postgresql":
        candidate = select(*_SEARCH_COLUMNS).where(_org.c.uscc == _gram.c.uscc, *filters).limit(1).lateral("candidate")
        return (select(*candidate.c).select_from(_gram.join(candidate, true())).where(*postings)
                .order_by(_gram.c.uscc).limit(limit))
    return (select(*_SEARCH_COLUMNS).select_from(_gram.join(_org, _org.c.uscc == _gram.c.uscc))
            .where(*postings, *filters).order_by(_gram.c.uscc).limit(limit))


@functools.cache
def _phase_prepared(phase: str, shape: frozenset[str], list_name: str | None, dialect: str) -> Prepared:
    return Prepared(_phase_select(phase, shape, list_name, dialect))


def _phase_values(phase: str, terms: SearchTerms, *, after: str | None, after_name: str | None, gram: str | None,
                  region: str | None, list_name: str | None, today: date | None) -> dict[str, Any]:
    values: dict[str, Any] = {"text": terms.text, "text_end": successor(terms.text),
                              "pattern": f"%{like_escape(terms.text)}%"}
    if terms.exact_code:
        values["exact_code"] = terms.exact_code
    if terms.org_code:
        values["org_code"] = terms.org_code
    if terms.code_prefix:
        values |= {"code_prefix": terms.code_prefix, "code_prefix_end": terms.code_prefix + "Z"}
    if region:
        values["region"] = f"{like_escape(region)}%"
    if list_name:
        assert today is not None, "a list filter needs the day it applies to"
        values["today"] = today
    if phase == "name_part":
        assert gram is not None, "the name_part phase reads a piece of the text"
        values["gram"] = gram
    if after is not None:
        values["after"] = after
        if phase == "name_prefix":
            # Start the index range at the last organization shown: the pair is the range's lower
            # bound, so a deep page reads no more than a first one. Renamed since to a name that no
            # longer starts with the text, it cannot say where it was: the phase starts again.
            values["lower_name"], values["lower_code"] = max((after_name or "", after), (terms.text, ""))
    return values


# Values that are always given: they do not change a statement's shape.
_ALWAYS = frozenset({"text", "text_end", "pattern", "gram", "today", "lower_name", "lower_code", "code_prefix_end"})


def _phase(phase: str, terms: SearchTerms, *, dialect: str, list_name: str | None,
           **given: Any) -> tuple[Prepared, dict[str, Any]]:
    values = _phase_values(phase, terms, list_name=list_name, **given)
    return _phase_prepared(phase, frozenset(values) - _ALWAYS, list_name, dialect), values


def search_phase_statement(phase: str, terms: SearchTerms, *, after: str | None, limit: int, dialect: str,
                           after_name: str | None = None, gram: str | None = None, region: str | None = None,
                           list_name: str | None = None, today: date | None = None) -> AnySelect:
    """A phase's statement with its values bound (for plans in tests and benchmarks)."""
    prepared, values = _phase(phase, terms, dialect=dialect, list_name=list_name, after=after, after_name=after_name,
                              gram=gram, region=region, today=today)
    return prepared.statement.params(**values, limit=limit)


_SEARCH_NAME = Prepared(select(_org.c.search_name).where(_org.c.uscc == bindparam("uscc")))
_SEARCH_KEYS = tuple(column.key for column in _SEARCH_COLUMNS)


def search_phase(conn: Connection, phase: str, terms: SearchTerms, *, gram: str | None, region: str | None,
                 list_name: str | None, today: date, after: str | None, limit: int) -> list[dict[str, Any]]:
    after_name = None
    if phase == "name_prefix" and after is not None:
        # The cursor carries the code only (short whatever the name); its name is read here.
        found = _SEARCH_NAME.first(conn, uscc=after)
        after_name = found[0] if found else None
    prepared, values = _phase(phase, terms, dialect=conn.dialect.name, list_name=list_name, after=after,
                              after_name=after_name, gram=gram, region=region, today=today)
    return [dict(zip(_SEARCH_KEYS, row, strict=True)) for row in prepared.rows(conn, **values, limit=limit)]


def gram_postings(conn: Connection, gram: str, *, limit: int) -> list[str]:
    """The first ``limit`` codes whose name contains ``gram`` (an index-only range read)."""
    return list(conn.execute(select(_gram.c.uscc).where(_gram.c.gram == gram).order_by(_gram.c.uscc)
                             .limit(limit)).scalars())


def search_names(conn: Connection, usccs: list[str]) -> list[tuple[str, str, str]]:
    """(code, public name, search name) of these organizations, by primary key."""
    if not usccs:
        return []
    statement = select(_org.c.uscc, _org.c.public_name, _org.c.search_name).where(_org.c.uscc.in_(usccs))
    return [(row[0], row[1], row[2]) for row in conn.execute(statement)]


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
        statement = statement.where(_org.c.region_code.like(f"{like_escape(region)}%", escape="\\"))
    if department:
        statement = statement.where(_rec.c.department_code == department)
    if since:
        statement = statement.where(_rec.c.effective_on >= since)
    if after is not None:
        day, record_id = after
        statement = statement.where(or_(_rec.c.effective_on < day,
                                        and_(_rec.c.effective_on == day, _rec.c.id < record_id)))
    return [dict(row) for row in conn.execute(statement).mappings()]
