"""Name search at scale: N generated organizations (default 1,000,000), 2-, 3- and 4-character
Chinese queries (and the 2-character ones typed in traditional characters), on SQLite or PostgreSQL.

Prints, for each query length: the query plans of the ranked search's name phases (names that
start with the query, then names that contain it; each must read an index, never scan a table),
p50/p95 of the whole ranked search at the database (every statement a first page of 20 needs)
against a LIKE '%q%' scan of the same table (the baseline, measured in the same run), and p50/p95
through HTTP against the real server next to its trivial /healthz answered by the same process
(the HTTP baseline). Also the cost of folding a name (traditional to simplified and the rest)
against the NFKC and lower-casing it replaced, over the generated names.
Appends the tables to bench/RESULTS.md with the machine, date and commit.

    .venv/bin/python bench/search.py --organizations 1000000 [--database-url postgresql+psycopg://...]

Loopback only; every loop is bounded in count.
"""

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import opencc  # noqa: E402
import report  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from cli.demo import BRAND_CHARS, CITIES, INDUSTRIES, SUFFIXES  # noqa: E402
from db import migrations  # noqa: E402
from db.repositories import public as public_queries  # noqa: E402
from service import codes  # noqa: E402
from service.public import name_index, organizations  # noqa: E402

TODAY = date(2026, 6, 15)


def generate(count: int, seed: int = 11) -> list[tuple[str, str, str]]:
    """(uscc, name, region) for ``count`` organizations, names like real ones: city + brand + trade."""
    rng = random.Random(seed)
    rows, seen = [], set()
    serial = 0
    while len(rows) < count:
        serial += 1
        region, city = rng.choice(CITIES)
        uscc = codes.make_uscc("91", region, f"{serial:08d}")
        brand = "".join(rng.sample(BRAND_CHARS, rng.choice((2, 3, 4))))
        name = f"{city}市{brand}{rng.choice(INDUSTRIES)[0]}{rng.choice(SUFFIXES)}"
        if uscc not in seen:
            seen.add(uscc)
            rows.append((uscc, name, region))
    return rows


def load(url: str, rows: list[tuple[str, str, str]]) -> float:
    started = time.perf_counter()
    now = datetime(2026, 6, 15, tzinfo=UTC).isoformat()
    # Generated names hold no personal data: the public name is the name.
    orgs = sorted((u, u[8:17], n, n, name_index.fold(n), r, "operating", True, now, now) for u, n, r in rows)
    grams = sorted((g, u) for u, n, _ in rows for g in name_index.grams(n))
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        columns = ("(uscc, org_code, name, public_name, search_name, region_code, status, check_digit_valid, "
                   "created_at, updated_at)")
        if url.startswith("sqlite"):
            cursor.executemany(f"INSERT INTO organization {columns} VALUES (?,?,?,?,?,?,?,?,?,?)", orgs)
            cursor.executemany("INSERT INTO organization_name_gram (gram, uscc) VALUES (?,?)", grams)
        else:
            with cursor.copy(f"COPY organization {columns} FROM STDIN") as copy:
                for row in orgs:
                    copy.write_row(row)
            with cursor.copy("COPY organization_name_gram (gram, uscc) FROM STDIN") as copy:
                for row in grams:
                    copy.write_row(row)
        raw.commit()
        if url.startswith("sqlite"):
            cursor.execute("ANALYZE")
            raw.commit()
        else:
            # Vacuumed as well: otherwise autovacuum takes up the freshly copied tables in the middle
            # of the measurement (a run of 2026-11-28 had /healthz's p95 double during one query set).
            raw.driver_connection.autocommit = True
            raw.driver_connection.execute("VACUUM ANALYZE")
            raw.driver_connection.execute("CHECKPOINT")  # and their pages written now, not during the first query set
    finally:
        raw.close()
        engine.dispose()
    return time.perf_counter() - started


def terms(rows, length: int, count: int, rng: random.Random) -> list[str]:
    """Natural queries: a window of a real name, inside its city + brand part."""
    picked = []
    while len(picked) < count:
        name = rng.choice(rows)[1]
        core = name[: len(name) - 4]
        if len(core) >= length:
            start = rng.randrange(0, len(core) - length + 1)
            picked.append(core[start:start + length])
    return picked


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def database_timings(url: str, queries: list[str]) -> tuple[list[float], list[float], list[float], str]:
    """(ranked search cold, warm, LIKE scan, plans). Cold: the first time each name piece is seen
    by this process (its frequency is counted); warm: the same queries again, counts cached."""
    engine = create_engine(url)
    passes: list[list[float]] = [[], []]
    scanned, plans = [], []
    with engine.connect() as conn:
        name_index.FREQUENCIES._counts.clear()
        for timings in passes:
            for q in queries:
                started = time.perf_counter()
                organizations.search(conn, q, today=TODAY, limit=20)
                timings.append(time.perf_counter() - started)
        for q in queries:
            query = name_index.parse_query(q)
            started = time.perf_counter()
            conn.execute(text("SELECT uscc FROM organization WHERE search_name LIKE :p ORDER BY uscc LIMIT 21"),
                         {"p": f"%{query.text}%"}).all()
            scanned.append(time.perf_counter() - started)
        query = name_index.parse_query(queries[0])
        terms = public_queries.SearchTerms(query.text)
        gram = name_index.GramFrequencies().rarest(
            query.grams, lambda g, cap: public_queries.gram_count(conn, g, cap=cap))
        explain = "EXPLAIN QUERY PLAN " if url.startswith("sqlite") else "EXPLAIN "
        for phase in ("name_prefix", "name_part"):
            statement = public_queries.search_phase_statement(phase, terms, gram=gram, after=None, limit=21,
                                                              dialect=conn.dialect.name)
            compiled = statement.compile(conn, compile_kwargs={"literal_binds": True})
            plans.append(f"{phase}: " + " | ".join(str(row[-1]) for row in conn.execute(text(explain + str(compiled)))))
    engine.dispose()
    return passes[0], passes[1], scanned, "; ".join(plans)


def folding_cost(rows: list[tuple[str, str, str]]) -> tuple[float, float, float]:
    """Microseconds per name: fold (NFKC, lower case, traditional to simplified, variants), the NFKC and
    lower-casing it replaced (the baseline), and fold over the same names in traditional characters."""
    import unicodedata

    names = [name for _, name, _ in rows[:200_000]]
    traditional = [opencc.OpenCC("s2t").convert(name) for name in names[:20_000]]
    name_index.fold("".join(traditional))  # the characters met once, as a running server has
    started = time.perf_counter()
    for name in names:
        name_index.fold(name)
    folded = (time.perf_counter() - started) / len(names) * 1e6
    started = time.perf_counter()
    for name in names:
        unicodedata.normalize("NFKC", name).lower()
    baseline = (time.perf_counter() - started) / len(names) * 1e6
    started = time.perf_counter()
    for name in traditional:
        name_index.fold(name)
    return folded, baseline, (time.perf_counter() - started) / len(traditional) * 1e6


def http_timings(url: str, data_dir: str, queries: list[str]) -> tuple[list[float], list[float], list[float]]:
    """(search cold, search warm, /healthz) through a real server process started for the run."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = os.environ | {"REGISTRY_DATABASE_URL": url, "REGISTRY_DATA_DIR": data_dir, "REGISTRY_ACCESS_LOG": "false",
                        "REGISTRY_PUBLIC_RATE_PER_MINUTE": "1000000", "REGISTRY_PUBLIC_RATE_BURST": "100000"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host",
                               "127.0.0.1", "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(100):
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            cold, warm, trivial = [], [], []
            for searched in (cold, warm):
                for q in queries:
                    started = time.perf_counter()
                    assert client.get("/v1/public/organizations", params={"q": q, "limit": 20}).status_code == 200
                    searched.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    client.get("/healthz")
                    trivial.append(time.perf_counter() - started)
        return cold, warm, trivial
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--organizations", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200, help="per query length")
    parser.add_argument("--database-url", default="", help="a PostgreSQL to fill (emptied first); default SQLite")
    arguments = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="registry-bench-")
    url = arguments.database_url or f"sqlite:///{workdir}/bench.db"
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrations.upgrade(url)
    rows = generate(arguments.organizations)
    seconds = load(url, rows)
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"{backend}: loaded {len(rows):,} organizations in {seconds:.1f} s")

    rng = random.Random(5)
    rows_out: list[list[str]] = []
    plans = []
    to_traditional = opencc.OpenCC("s2t")
    query_sets = [(f"{length} characters", terms(rows, length, arguments.queries, rng)) for length in (2, 3, 4)]
    query_sets.append(("2 characters, traditional", [to_traditional.convert(q) for q in query_sets[0][1]]))
    for label, queries in query_sets:
        cold, warm, scanned, plan = database_timings(url, queries)
        http_cold, http_warm, trivial = http_timings(url, workdir, queries)
        (c50, c95), (w50, w95), (s50, s95) = percentiles(cold), percentiles(warm), percentiles(scanned)
        (hc50, hc95), (hw50, hw95), (t50, t95) = percentiles(http_cold), percentiles(http_warm), percentiles(trivial)
        rows_out.append([label, f"{c50:.2f} / {c95:.2f}", f"{w50:.2f} / {w95:.2f}",
                         f"{s50:.2f} / {s95:.2f}", f"{s50 / w50:.0f}x", f"{hc50:.2f} / {hc95:.2f}",
                         f"{hw50:.2f} / {hw95:.2f}", f"{t50:.2f} / {t95:.2f}", f"{hw50 / t50:.2f}"])
        plans.append(f"- {label} (`{queries[0]}`): {plan}")
    folded, baseline, traditional = folding_cost(rows)
    load_average = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    report.publish(f"Ranked name search, {len(rows):,} organizations, {backend}",
                   ["p50 / p95 in ms of a first page of 20, ranked (exact name, names that start with the query, "
                    "then names that contain it). Cold: a name piece's frequency is counted the first time a process "
                    "meets it; warm: the same queries again.",
                    f"Load average at the end of the run: {load_average} (other work shared the 2 cores)."],
                   ["query", "db ranked cold", "db ranked warm", "db LIKE scan", "scan / warm ranked (p50)",
                    "HTTP search cold", "HTTP search warm", "HTTP /healthz", "warm search / healthz (p50)"],
                   rows_out, ["", f"Folding a name: {folded:.2f} µs (traditional-character names: {traditional:.2f} µs) "
                                  f"against {baseline:.2f} µs for the NFKC and lower-casing it replaced "
                                  f"({folded / baseline:.1f}x), over {min(len(rows), 200_000):,} generated names.",
                              "", "Plans:", *plans])


if __name__ == "__main__":
    main()
