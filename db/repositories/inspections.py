"""Spot checks (监督抽查) as the public reads them: the product search index and its queries.

Only public, active results are ever in ``inspection_product``: the service keeps it in the
transaction of each write (service.public.inspections.follow), so the queries here need no
visibility rule of their own beyond reading that table. What they return of a result is its
masked public summary and the producer's public name, nothing else.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Date,
    Integer,
    bindparam,
    delete,
    func,
    or_,
    select,
    true,
)
from sqlmodel import Session

from db.inserts import insert_rows
from db.prepared import AnySelect, Prepared
from db.repositories.public import like_escape
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


# A filter's condition on the product index, each with its value as a named parameter, so that
# one statement per combination of filters is compiled once and reused (see ``_prepared``).
_FILTERS: dict[str, ColumnElement[bool]] = {
    "result": _product.c.result == bindparam("result"),
    "region": _product.c.region_code.like(bindparam("region"), escape="\\"),
    "published_from": _product.c.published_on >= bindparam("published_from", type_=Date),
    "published_to": _product.c.published_on <= bindparam("published_to", type_=Date),
    "producer": _product.c.organization_uscc == bindparam("producer"),
    "category": _product.c.product_category == bindparam("category"),
}


def _values(filters: Filters, after: str | None) -> dict[str, Any]:
    """The parameters of a page's statement: the filters given, the cursor, the date bounds on
    ``sort_key`` (it begins with the publication date, so they bound the range read instead of
    being checked row by row along all of it)."""
    values: dict[str, Any] = {name: getattr(filters, name) for name in _FILTERS if getattr(filters, name)}
    if "region" in values:
        values["region"] = f"{like_escape(values['region'])}%"
    if after is not None:
        values["after"] = after
    if filters.published_from:
        values["key_from"] = filters.published_from.isoformat()
    if filters.published_to and filters.published_to < date.max:
        values["key_before"] = (filters.published_to + timedelta(days=1)).isoformat()
    return values


def _sort_key_range(column: Any, shape: frozenset[str]) -> list[ColumnElement[bool]]:
    bounds = {"after": column < bindparam("after"), "key_from": column >= bindparam("key_from"),
              "key_before": column < bindparam("key_before")}
    return [bound for name, bound in bounds.items() if name in shape]


_COLUMNS = (_product.c.record_id, _product.c.sort_key, _product.c.organization_uscc, _product.c.region_code,
            _product.c.result, _product.c.published_on, _rec.c.department_code, _rec.c.version,
            _rec.c.public_summary, _rec.c.masked_fields, _org.c.public_name.label("producer_name"),
            _org.c.masked_fields.label("producer_masked_fields"))
_JOINED = (_product.join(_rec, _rec.c.id == _product.c.record_id)
           .join(_org, _org.c.uscc == _product.c.organization_uscc))


def browse_statement(shape: frozenset[str]) -> AnySelect:
    """Without a query: the newest results first, read backwards along ``sort_key``."""
    filters = [condition for name, condition in _FILTERS.items() if name in shape]
    statement = select(*_COLUMNS).select_from(_JOINED).where(*filters, *_sort_key_range(_product.c.sort_key, shape))
    return statement.order_by(_product.c.sort_key.desc()).limit(bindparam("limit", type_=Integer))


def search_statement(shape: frozenset[str], *, dialect: str) -> AnySelect:
    """Results whose folded product name or brand contains the query (``pattern``), read through
    the postings of ``gram`` (one of its pieces) newest first, each candidate confirmed by primary
    key until the page is full; PostgreSQL is held to that shape with a LATERAL lookup, as the name
    search is (db.repositories.public.search_by_name_statement)."""
    pattern: BindParameter[str] = bindparam("pattern")
    matches = [or_(_product.c.search_name.like(pattern, escape="\\"),
                   _product.c.search_brand.like(pattern, escape="\\")),
               *(condition for name, condition in _FILTERS.items() if name in shape)]
    postings = [_gram.c.gram == bindparam("gram"), *_sort_key_range(_gram.c.sort_key, shape)]
    if dialect == "postgresql":
        candidate = (select(*_COLUMNS).select_from(_JOINED)
                     .where(_product.c.record_id == _gram.c.record_id, *matches).limit(1).lateral("candidate"))
        return (select(*candidate.c).select_from(_gram.join(candidate, true())).where(*postings)
                .order_by(_gram.c.sort_key.desc()).limit(bindparam("limit", type_=Integer)))
    return (select(*_COLUMNS).select_from(_gram.join(_JOINED, _product.c.record_id == _gram.c.record_id))
            .where(*postings, *matches).order_by(_gram.c.sort_key.desc()).limit(bindparam("limit", type_=Integer)))


@functools.cache
def _prepared(searching: bool, shape: frozenset[str], dialect: str) -> Prepared:
    """The page statement for one combination of filters, built and compiled once: building the
    LATERAL search in SQLAlchemy cost more per request than PostgreSQL took to run it (bench/
    RESULTS.md, product search). At most 2 x 2^9 shapes exist."""
    return Prepared(search_statement(shape, dialect=dialect) if searching else browse_statement(shape))


def _page(filters: Filters, *, gram: str | None, text: str | None, after: str | None,
          dialect: str) -> tuple[Prepared, dict[str, Any]]:
    values = _values(filters, after)
    searching = gram is not None and text is not None
    if searching:
        values |= {"gram": gram, "pattern": f"%{like_escape(text or '')}%"}
    return _prepared(searching, frozenset(values) - {"gram", "pattern"}, dialect), values


def page_statement(filters: Filters, *, gram: str | None, text: str | None, after: str | None, limit: int,
                   dialect: str) -> AnySelect:
    """The statement a page runs, its parameters bound (for plans in tests and benchmarks)."""
    prepared, values = _page(filters, gram=gram, text=text, after=after, dialect=dialect)
    return prepared.statement.params(**values, limit=limit)


_KEYS = tuple(column.key for column in _COLUMNS)


def search(conn: Connection, filters: Filters, *, gram: str | None, text: str | None, after: str | None,
           limit: int) -> list[dict[str, Any]]:
    """A page of the index: through the postings of ``gram`` when there is a query (``text``, its
    folded whole), else the newest first; after ``after`` (a sort key)."""
    prepared, values = _page(filters, gram=gram, text=text, after=after, dialect=conn.dialect.name)
    return [dict(zip(_KEYS, row, strict=True)) for row in prepared.rows(conn, **values, limit=limit)]


_GRAM_COUNT = Prepared(select(func.count().label("postings")).select_from(
    select(_gram.c.sort_key).where(_gram.c.gram == bindparam("gram")).limit(bindparam("cap", type_=Integer)).subquery()))


def gram_count(conn: Connection, gram: str, *, cap: int) -> int:
    """How many searchable products' names or brands contain ``gram``, counting no further than ``cap``."""
    return int(_GRAM_COUNT.rows(conn, gram=gram, cap=cap)[0][0])


def one(conn: Connection, record_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(*_COLUMNS).select_from(_JOINED)
                       .where(_product.c.record_id == record_id)).mappings().first()
    return dict(row) if row else None


def newest_failed(conn: Connection, *, limit: int) -> list[dict[str, Any]]:
    return search(conn, Filters(result="fail"), gram=None, text=None, after=None, limit=limit)
