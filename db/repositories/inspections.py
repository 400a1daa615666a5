"""Spot checks (监督抽查) as the public reads them: the product search index and its queries.

Only public, active results are ever in ``inspection_product``: the service keeps it in the
transaction of each write (service.public.inspections.follow), so the queries here need no
visibility rule of their own beyond reading that table. What they return of a result is its
masked public summary and the producer's public name, nothing else.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, func, or_, select, true
from sqlmodel import Session

from db.inserts import insert_rows
from db.prepared import AnySelect
from db.tables import InspectionProduct, InspectionProductGram, Organization, Record, table_of

_product = table_of(InspectionProduct)
_gram = table_of(InspectionProductGram)
_rec = table_of(Record)
_org = table_of(Organization)


def indexable(session: Session, record_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Of these records, the spot checks the public may find (public and active), with what the
    index is built from: the masked summary and the producer's region."""
    if not record_ids:
        return []
    statement = (select(_rec.c.id, _rec.c.organization_uscc, _rec.c.effective_on, _rec.c.public_summary,
                        _org.c.region_code)
                 .select_from(_rec.join(_org, _org.c.uscc == _rec.c.organization_uscc))
                 .where(_rec.c.id.in_(sorted(set(record_ids))), _rec.c.kind == "inspection",
                        _rec.c.visibility == "public", _rec.c.status == "active"))
    return [dict(row) for row in session.execute(statement).mappings()]


def replace(session: Session, record_ids: Sequence[str], products: list[dict[str, Any]],
            grams: list[dict[str, Any]]) -> None:
    """The index entries of these records replaced by ``products`` and their ``grams`` (none: gone)."""
    ids = sorted(set(record_ids))
    session.execute(delete(_gram).where(_gram.c.record_id.in_(ids)))
    session.execute(delete(_product).where(_product.c.record_id.in_(ids)))
    insert_rows(session, InspectionProduct, products)
    insert_rows(session, InspectionProductGram, grams)


@dataclass(frozen=True)
class Filters:
    """The product search's filters, each already in the form the columns hold."""

    result: str | None = None
    region: str | None = None  # a division-code prefix
    published_from: date | None = None
    published_to: date | None = None
    producer: str | None = None  # USCC
    category: str | None = None  # folded


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(filters: Filters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.result:
        found.append(_product.c.result == filters.result)
    if filters.region:
        found.append(_product.c.region_code.like(f"{_like_escape(filters.region)}%", escape="\\"))
    if filters.published_from:
        found.append(_product.c.published_on >= filters.published_from)
    if filters.published_to:
        found.append(_product.c.published_on <= filters.published_to)
    if filters.producer:
        found.append(_product.c.organization_uscc == filters.producer)
    if filters.category:
        found.append(_product.c.product_category == filters.category)
    return found


_COLUMNS = (_product.c.record_id, _product.c.sort_key, _product.c.organization_uscc, _product.c.region_code,
            _product.c.result, _product.c.published_on, _rec.c.department_code, _rec.c.version,
            _rec.c.public_summary, _rec.c.masked_fields, _org.c.public_name.label("producer_name"),
            _org.c.masked_fields.label("producer_masked_fields"))
_JOINED = (_product.join(_rec, _rec.c.id == _product.c.record_id)
           .join(_org, _org.c.uscc == _product.c.organization_uscc))


def _sort_key_range(column: Any, filters: Filters, after: str | None) -> list[ColumnElement[bool]]:
    """The part of the index a page may come from: ``sort_key`` begins with the publication date,
    so the date filters bound the range read instead of being checked row by row along all of it."""
    bounds: list[ColumnElement[bool]] = [column < after] if after is not None else []
    if filters.published_from:
        bounds.append(column >= filters.published_from.isoformat())
    if filters.published_to and filters.published_to < date.max:
        bounds.append(column < (filters.published_to + timedelta(days=1)).isoformat())
    return bounds


def browse_statement(filters: Filters, *, after: str | None, limit: int) -> AnySelect:
    """Without a query: the newest results first, read backwards along ``sort_key``."""
    statement = select(*_COLUMNS).select_from(_JOINED).where(*_conditions(filters),
                                                             *_sort_key_range(_product.c.sort_key, filters, after))
    return statement.order_by(_product.c.sort_key.desc()).limit(limit)


def search_statement(filters: Filters, *, gram: str, text: str, after: str | None, limit: int,
                     dialect: str) -> AnySelect:
    """Results whose folded product name or brand contains ``text``, read through the postings of
    ``gram`` (one of its pieces) newest first, each candidate confirmed by primary key until the
    page is full; PostgreSQL is held to that shape with a LATERAL lookup, as the name search is
    (db.repositories.public.search_by_name_statement)."""
    pattern = f"%{_like_escape(text)}%"
    matches = [or_(_product.c.search_name.like(pattern, escape="\\"),
                   _product.c.search_brand.like(pattern, escape="\\")), *_conditions(filters)]
    postings = [_gram.c.gram == gram, *_sort_key_range(_gram.c.sort_key, filters, after)]
    if dialect == "postgresql":
        candidate = (select(*_COLUMNS).select_from(_JOINED)
                     .where(_product.c.record_id == _gram.c.record_id, *matches).limit(1).lateral("candidate"))
        return (select(*candidate.c).select_from(_gram.join(candidate, true())).where(*postings)
                .order_by(_gram.c.sort_key.desc()).limit(limit))
    return (select(*_COLUMNS).select_from(_gram.join(_JOINED, _product.c.record_id == _gram.c.record_id))
            .where(*postings, *matches).order_by(_gram.c.sort_key.desc()).limit(limit))


def search(conn: Connection, filters: Filters, *, gram: str | None, text: str | None, after: str | None,
           limit: int) -> list[dict[str, Any]]:
    if gram is None or text is None:
        statement = browse_statement(filters, after=after, limit=limit)
    else:
        statement = search_statement(filters, gram=gram, text=text, after=after, limit=limit,
                                     dialect=conn.dialect.name)
    return [dict(row) for row in conn.execute(statement).mappings()]


def gram_count(conn: Connection, gram: str, *, cap: int) -> int:
    """How many searchable products' names or brands contain ``gram``, counting no further than ``cap``."""
    capped = select(_gram.c.sort_key).where(_gram.c.gram == gram).limit(cap).subquery()
    return int(conn.execute(select(func.count()).select_from(capped)).scalar_one())


def one(conn: Connection, record_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(*_COLUMNS).select_from(_JOINED)
                       .where(_product.c.record_id == record_id)).mappings().first()
    return dict(row) if row else None


def newest_failed(conn: Connection, *, limit: int) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(browse_statement(Filters(result="fail"), after=None,
                                                               limit=limit)).mappings()]
