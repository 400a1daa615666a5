"""Spot-check results (监督抽查) for the public: the product search, one result, the export, and
the newest failures.

The search reads ``inspection_product``, a projection of the public, active results that
``follow`` keeps in the transaction of every write (publishing, correction, withdrawal, any
status change): a withdrawn result is gone from the search when its withdrawal commits, and a
corrected one is found by its new name only. It is built from the masked public summary, so no
personal data typed into a product name, a brand or a failed item can be found or shown.

Product name and brand are indexed by their pieces with the organization search's own folding
(service.public.name_index), and queried the same way: the rarest piece's postings, each
candidate confirmed against the whole query. Results come newest published first.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection
from sqlmodel import Session

from db.repositories import inspections as queries
from db.repositories import public as public_queries
from service import codes
from service.cursors import decode_cursor, encode_cursor
from service.errors import InvalidQuery, NotFound
from service.public import name_index
from service.regions import province_of, region_prefix

EXPORT_BATCH = 1000
FREQUENCIES = name_index.GramFrequencies()


class InspectionNotFound(NotFound):
    title = "Spot check not found"


def sort_key(published_on: date, record_id: str) -> str:
    """Newest first when read backwards: the publication date, then the record id (creation order)."""
    return published_on.isoformat() + record_id


def index_rows(row: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A public spot check's index entry and its pieces, from its masked summary."""
    summary = row["public_summary"]
    key = sort_key(row["effective_on"], row["id"])
    name = name_index.fold(summary["product_name"])
    brand = name_index.fold(summary["brand"]) if summary.get("brand") else None
    product = {"record_id": row["id"], "sort_key": key, "organization_uscc": row["organization_uscc"],
               "region_code": row["region_code"], "product_category": name_index.fold(summary["product_category"]),
               "result": summary["result"], "published_on": row["effective_on"], "search_name": name,
               "search_brand": brand}
    pieces = name_index.grams(summary["product_name"]) | (name_index.grams(summary["brand"]) if brand else set())
    return product, [{"gram": gram, "sort_key": key, "record_id": row["id"]} for gram in sorted(pieces)]


def follow(session: Session, record_ids: Sequence[str]) -> None:
    """Bring the product search up to date with these records as they now stand, in the writing
    transaction: public, active spot checks (re)indexed from their current version, every other
    record (withdrawn, restricted, not a spot check) absent."""
    if not record_ids:
        return
    session.flush()  # the record as this transaction just wrote it (a Core read does not flush)
    products, grams = [], []
    for row in queries.indexable(session, record_ids):
        product, pieces = index_rows(row)
        products.append(product)
        grams += pieces
    queries.replace(session, record_ids, products, grams)


@dataclass(frozen=True)
class FailedItem:
    item: str
    measured: str
    required: str
    unit: str | None = None


@dataclass(frozen=True)
class PublicInspection:
    """A spot-check result as the public sees it: its masked summary and the producer."""

    id: str
    product_name: str
    brand: str | None
    model: str | None
    batch: str | None
    product_category: str
    result: str
    failed_items: list[FailedItem]
    producer: str
    producer_name: str
    region_code: str
    province_zh: str | None
    province_en: str | None
    authority: str
    plan_level: str
    plan_no: str
    report_no: str
    testing_body: str
    standards: list[str]
    sampled_on: date
    published_on: date
    department: str
    version: int
    masked_fields: list[str] = field(default_factory=list)  # "producer_name" for the producer's name


@dataclass(frozen=True)
class InspectionPage:
    items: list[PublicInspection]
    next_cursor: str | None


def _inspection(row: dict[str, Any]) -> PublicInspection:
    s = row["public_summary"]
    province = province_of(row["region_code"])
    masked = list(row["masked_fields"] or [])
    if "name" in (row["producer_masked_fields"] or []):
        masked.append("producer_name")
    return PublicInspection(
        id=row["record_id"], product_name=s["product_name"], brand=s.get("brand"), model=s.get("model"),
        batch=s.get("batch"), product_category=s["product_category"], result=s["result"],
        failed_items=[FailedItem(i["item"], i["measured"], i["required"], i.get("unit"))
                      for i in s.get("failed_items") or []],
        producer=row["organization_uscc"], producer_name=row["producer_name"], region_code=row["region_code"],
        province_zh=province[0] if province else None, province_en=province[1] if province else None,
        authority=s["authority"], plan_level=s["plan_level"], plan_no=s["plan_no"], report_no=s.get("report_no") or "",
        testing_body=s["testing_body"], standards=list(s.get("standards") or []),
        sampled_on=date.fromisoformat(s["sampled_on"]), published_on=row["published_on"],
        department=row["department_code"], version=row["version"], masked_fields=masked,
    )


def _producer(conn: Connection, producer: str | None) -> str | None:
    """The producer filter as a USCC; a legacy code is looked up (one nobody holds matches nothing)."""
    if not producer:
        return None
    parsed = codes.parse_code(producer)
    if parsed.kind == "uscc":
        return parsed.value
    found = public_queries.organization_by_org_code(conn, parsed.value)
    return found["uscc"] if found else "-"  # no USCC looks like this: an empty answer


def filters_of(conn: Connection, *, result: str | None = None, region: str | None = None,
               published_from: date | None = None, published_to: date | None = None, producer: str | None = None,
               category: str | None = None) -> queries.Filters:
    if published_from and published_to and published_from > published_to:
        raise InvalidQuery("from must be on or before to", param="from")
    folded = name_index.fold(category).strip() if category else None
    return queries.Filters(result=result, region=region_prefix(region) if region else None,
                           published_from=published_from, published_to=published_to,
                           producer=_producer(conn, producer), category=folded or None)


def _rows(conn: Connection, query: name_index.SearchQuery | None, filters: queries.Filters, *, after: str | None,
          limit: int) -> list[dict[str, Any]]:
    if query is None:
        return queries.search(conn, filters, gram=None, text=None, after=after, limit=limit)
    gram = FREQUENCIES.rarest(query.grams, lambda g, cap: queries.gram_count(conn, g, cap=cap))
    return queries.search(conn, filters, gram=gram, text=query.text, after=after, limit=limit)


def _parse(q: str | None) -> name_index.SearchQuery | None:
    return name_index.parse_query(q) if q is not None and q.strip() else None


def search(conn: Connection, q: str | None, filters: queries.Filters, *, cursor: str | None = None,
           limit: int = 50) -> InspectionPage:
    """Spot checks whose product name or brand contains ``q`` (two or more characters; none: all),
    with the filters, newest published first; ``cursor`` continues after the previous page."""
    query = _parse(q)
    rows = _rows(conn, query, filters, after=decode_cursor(cursor), limit=limit + 1)
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1]["sort_key"]) if len(rows) > limit else None
    return InspectionPage([_inspection(row) for row in page], next_cursor)


def one(conn: Connection, record_id: str) -> PublicInspection:
    """One public, active spot check; any other (withdrawn, restricted, not one) is not found."""
    row = queries.one(conn, record_id)
    if row is None:
        raise InspectionNotFound(f"no public spot check {record_id}")
    return _inspection(row)


def export(connect: Callable[[], Any], q: str | None, filters: queries.Filters) -> Iterator[PublicInspection]:
    """Every match, newest first, read in batches so memory stays flat; ``connect`` opens a read
    connection (a context manager) per batch. The query is checked before the first byte."""
    query = _parse(q)

    def batches() -> Iterator[PublicInspection]:
        after: str | None = None
        while True:
            with connect() as conn:
                rows = _rows(conn, query, filters, after=after, limit=EXPORT_BATCH)
            yield from (_inspection(row) for row in rows)
            if len(rows) < EXPORT_BATCH:
                return
            after = rows[-1]["sort_key"]
    return batches()


def newest_failed(conn: Connection, limit: int, today: date) -> list[PublicInspection]:
    """The latest failed spot checks on public display (for the home page). Results have no end
    of display, so ``today`` only keeps one published later (a test clock set back) out."""
    return [_inspection(row) for row in queries.newest_failed(conn, limit=limit + 10)
            if row["published_on"] <= today][:limit]


# Columns of the export, in order (CSV header and NDJSON keys alike).
EXPORT_FIELDS = tuple(PublicInspection.__dataclass_fields__)
