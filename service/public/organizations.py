"""What the public sees of an organization (domain.md §5).

The profile is built from two queries on one read connection. Which records qualify (public,
active, on display today) is decided in ``db.repositories.public``; what of them may be shown was
decided when they were written: each record's public summary (``record_fields.public_summary``)
and the organization's public name and legal representative, personal data masked. Internal
notes, contacts and the unmasked text never leave the registry through this path.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, cast

from sqlalchemy import Connection

from db.prepared import ReadSource
from db.repositories import public as public_queries
from service import codes
from service.cursors import decode_cursor_parts, encode_cursor
from service.errors import InvalidQuery, OrganizationNotFound
from service.organizations.master_data import STATUS_LABELS
from service.public import name_index
from service.regions import province_of, region_prefix


@dataclass(frozen=True)
class PublicGrade:
    scheme: str
    code: str
    label_zh: str | None
    label_en: str | None
    evaluated_on: date
    valid_until: date | None
    department: str
    record_id: str


@dataclass(frozen=True)
class PublicRecord:
    id: str
    kind: str
    department: str
    version: int
    effective_on: date
    ends_on: date | None
    summary: dict[str, Any]
    under_objection: bool
    masked_fields: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Organization:
    """What every public answer says of an organization before anything else."""

    code: str
    org_code: str
    name: str
    region_code: str
    province_zh: str | None
    province_en: str | None
    status: str


@dataclass(frozen=True)
class PublicProfile(_Organization):
    status_zh: str
    status_en: str
    legal_representative: str | None
    check_digit_valid: bool
    grade: PublicGrade | None
    list_status: str
    records: list[PublicRecord] = field(default_factory=list)
    as_of: date | None = None
    masked_fields: list[str] = field(default_factory=list)


def _current_grade(rows: list[public_queries.PublicRecordRow]) -> PublicGrade | None:
    ratings = [row for row in rows if row.kind == "rating"]
    if not ratings:
        return None
    # Rows come newest first; the latest evaluation in force is the organization's grade.
    latest = ratings[0]
    return PublicGrade(
        scheme=latest.summary["scheme"],
        code=latest.summary["grade"],
        label_zh=latest.grade_label_zh,
        label_en=latest.grade_label_en,
        evaluated_on=latest.effective_on,
        valid_until=latest.ends_on - timedelta(days=1) if latest.ends_on else None,  # ends_on: the day after
        department=latest.department_code,
        record_id=latest.id,
    )


def _list_status(rows: list[public_queries.PublicRecordRow]) -> str:
    lists = {row.list_name for row in rows if row.kind == "list_entry"}
    # Black overrides red: a black listing ends red entries, but a red one entered later
    # (against the rules, or before the sweep) must never make a blacklisted company look good.
    return "black" if "black" in lists else "red" if "red" in lists else "none"


def profile(conn: ReadSource, code: str, *, today: date) -> PublicProfile:
    """The public profile of the organization with any form of this USCC or legacy code."""
    parsed = codes.parse_code(code)
    if parsed.kind == "uscc":
        organization = public_queries.organization_by_uscc(conn, parsed.value)
    else:
        organization = public_queries.organization_by_org_code(conn, parsed.value)
    if organization is None:
        raise OrganizationNotFound(f"no organization is registered under {parsed.value}")
    rows = public_queries.public_records(conn, organization["uscc"], today=today)
    province = province_of(organization["region_code"])
    status_zh, status_en = STATUS_LABELS.get(organization["status"], (organization["status"],) * 2)
    return PublicProfile(
        code=organization["uscc"],
        org_code=codes.display_org_code(organization["org_code"]),
        name=organization["name"],
        region_code=organization["region_code"],
        province_zh=province[0] if province else None,
        province_en=province[1] if province else None,
        status=organization["status"],
        status_zh=status_zh,
        status_en=status_en,
        legal_representative=organization["legal_representative"],
        check_digit_valid=bool(organization["check_digit_valid"]),
        grade=_current_grade(rows),
        list_status=_list_status(rows),
        records=[
            PublicRecord(row.id, row.kind, row.department_code, row.version, row.effective_on, row.ends_on,
                         row.summary, bool(row.under_objection), row.masked_fields or [])
            for row in rows
        ],
        as_of=today,
        masked_fields=organization["masked_fields"] or [],
    )


Match = Literal["code", "code_prefix", "name", "name_prefix", "name_part"]


@dataclass(frozen=True)
class SearchHit(_Organization):
    list_status: str
    masked_fields: list[str] = field(default_factory=list)
    # Why it was found, in rank order: the whole code, the beginning of the code, the whole name,
    # the beginning of the name, a part of the name.
    match: Match = "name_part"


@dataclass(frozen=True)
class SearchPage:
    items: list[SearchHit]
    next_cursor: str | None
    # Close public names when the search found nothing (its first page is empty): "did you mean".
    suggestions: list[str] = field(default_factory=list)


def _hit(row: dict[str, Any], list_status: str, match: Match) -> SearchHit:
    province = province_of(row["region_code"])
    return SearchHit(row["uscc"], codes.display_org_code(row["org_code"]), row["name"], row["region_code"],
                     province[0] if province else None, province[1] if province else None, row["status"],
                     list_status, [name for name in row["masked_fields"] or [] if name == "name"], match)


def _search_terms(query: name_index.SearchQuery) -> public_queries.SearchTerms:
    # A code prefix needs a digit: every USCC has some, and "ab" is a name more likely than a code.
    prefix = query.code_prefix if query.code_prefix and any(c.isdigit() for c in query.code_prefix) else None
    return public_queries.SearchTerms(query.text, query.exact_code, query.org_code, prefix)


def _decode_position(cursor: str | None) -> tuple[str, str | None]:
    """(phase, code of the last organization shown in it); the first page starts the first phase."""
    parts = decode_cursor_parts(cursor, size=2)
    if parts is None:
        return public_queries.SEARCH_PHASES[0], None
    phase, after = parts
    if phase not in public_queries.SEARCH_PHASES or not isinstance(after, str):
        raise InvalidQuery("the cursor is not one this service issued; start again without it", param="cursor")
    return phase, after


def search(conn: Connection, q: str, *, today: date, region: str | None = None, list_name: str | None = None,
           cursor: str | None = None, limit: int = 50) -> SearchPage:
    """Organizations by code or name, ranked: the whole code, the beginning of the code, the whole
    name, names that start with the query, then names that contain it; ``cursor`` continues after
    the previous page (it carries the phase of the ranking and the position in it)."""
    query = name_index.parse_query(q)
    terms = _search_terms(query)
    phase, after = _decode_position(cursor)
    region = region_prefix(region) if region else None
    found: list[tuple[str, dict[str, Any]]] = []
    for current in public_queries.SEARCH_PHASES[public_queries.SEARCH_PHASES.index(phase):]:
        if not public_queries.search_phase_applies(current, terms):
            continue
        gram = None
        if current == "name_part":
            gram = name_index.FREQUENCIES.rarest(
                query.grams, lambda g, cap: public_queries.gram_count(conn, g, cap=cap))
        rows = public_queries.search_phase(conn, current, terms, gram=gram, region=region, list_name=list_name,
                                           today=today, after=after if current == phase else None,
                                           limit=limit + 1 - len(found))
        found += [(current, row) for row in rows]
        if len(found) > limit:
            break
    page = found[:limit]
    statuses = public_queries.list_statuses(conn, [row["uscc"] for _, row in page], today=today)
    next_cursor = encode_cursor(page[-1][0], page[-1][1]["uscc"]) if len(found) > limit else None
    items = [_hit(row, statuses.get(row["uscc"], "none"), _match(current, row, terms)) for current, row in page]
    suggestions = _suggestions(conn, query) if not items and cursor is None else []
    return SearchPage(items, next_cursor, suggestions)


def _match(phase: str, row: dict[str, Any], terms: public_queries.SearchTerms) -> Match:
    if phase == "name_prefix" and row["search_name"] == terms.text:
        return "name"
    return cast(Match, phase)


def _suggestions(conn: Connection, query: name_index.SearchQuery) -> list[str]:
    """Close public names for a search that found nothing, read from the name-piece index in
    bounded amounts (never a scan): the first postings of the query's rarest pieces that exist."""
    counts = {piece: name_index.SUGGESTION_FREQUENCIES.count(
        piece, lambda g, cap: public_queries.gram_count(conn, g, cap=cap))
              for piece in name_index.suggestion_pieces(query)}
    # Counts are cached a while: one that was 0 is read last, not left out (a name may have come since).
    pieces = sorted(counts, key=lambda piece: (counts[piece] == 0, counts[piece], piece))
    shared: dict[str, int] = {}
    for piece in pieces[:name_index.SUGGESTION_PIECES]:
        for uscc in public_queries.gram_postings(conn, piece, limit=name_index.SUGGESTION_POSTINGS):
            shared[uscc] = shared.get(uscc, 0) + 1
    candidates = sorted(shared, key=lambda uscc: (-shared[uscc], uscc))[:name_index.SUGGESTION_CANDIDATES]
    return name_index.closest_names(query, [(public, folded) for _, public, folded
                                            in public_queries.search_names(conn, candidates)])
