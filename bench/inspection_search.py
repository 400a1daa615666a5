"""Product search over spot-check results (监督抽查) at scale: N generated public results (default
1,000,000) of N/20 producers, on SQLite or PostgreSQL, rows written straight into the tables
(executemany / COPY) as the service would have written them (record, product index, pieces).

Prints, for 2-, 3- and 4-character queries of product names and brands, and for a 2-character
query with filters (result=fail, a province): the query plans (each must read an index, never scan
a table), p50/p95 of a first page of 20 at the database against a LIKE '%q%' scan of the product
table (the baseline of the same run), and p50/p95 through HTTP against the real server next to its
trivial /healthz answered by the same process (the HTTP baseline). Appends the table to
bench/RESULTS.md with the machine, date and commit.

    .venv/bin/python bench/inspection_search.py --inspections 1000000 [--database-url postgresql+psycopg://...]

Loopback only; every loop is bounded in count.
"""

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import report  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from cli.demo import BRAND_CHARS, CITIES  # noqa: E402
from db import migrations  # noqa: E402
from db.repositories import inspections as queries  # noqa: E402
from service import codes  # noqa: E402
from service.public import inspections, name_index  # noqa: E402

TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, tzinfo=UTC).isoformat()
CATEGORIES = {
    "电线电缆": ("聚氯乙烯绝缘电缆", "橡皮绝缘软电线", "架空绝缘电缆", "控制电缆", "同轴电缆"),
    "电器附件": ("移动式插座", "墙壁开关", "转换器", "延长线插座", "断路器"),
    "家用电器": ("电热水壶", "电饭锅", "电吹风", "电磁炉", "空气净化器", "电暖器"),
    "儿童用品": ("塑胶玩具", "毛绒玩具", "儿童自行车", "童装", "儿童安全座椅"),
    "食品相关产品": ("不锈钢餐具", "塑料保鲜盒", "一次性纸杯", "陶瓷碗", "玻璃水杯"),
    "建筑材料": ("防水卷材", "瓷砖", "人造板", "建筑涂料", "钢筋"),
    "日用消费品": ("洗发水", "牙膏", "卫生纸", "皮鞋", "羽绒服", "床上用品"),
}
PREFIXES = ("", "", "家用", "便携式", "多功能", "智能", "节能", "加厚", "新型", "高端")


def generate(count: int, seed: int = 19) -> list[dict]:
    """``count`` public spot checks of ``count // 20`` producers, a quarter of them failed."""
    rng = random.Random(seed)
    producers = []
    for serial in range(1, max(count // 20, 1) + 1):
        region, city = rng.choice(CITIES)
        brand = "".join(rng.sample(BRAND_CHARS, rng.choice((2, 2, 3))))
        producers.append((codes.make_uscc("91", region, f"{serial:08d}"), f"{city}市{brand}制造有限公司", region,
                          brand))
    rows = []
    start = date(2022, 1, 1)
    for serial in range(count):
        uscc, _, region, brand = rng.choice(producers)
        category = rng.choice(list(CATEGORIES))
        product = rng.choice(PREFIXES) + rng.choice(CATEGORIES[category])
        published = start + timedelta(days=rng.randrange((TODAY - start).days))
        failed = rng.random() < 0.25
        summary = {"product_name": product, "brand": brand, "model": "标准型", "batch": f"{published:%Y%m}",
                   "product_category": category, "result": "fail" if failed else "pass",
                   "failed_items": [{"item": "标志和说明", "measured": "不符合", "required": "符合",
                                     "unit": None}] if failed else [],
                   "authority": "市场监督管理局", "plan_level": "provincial", "plan_no": f"抽〔{published.year}〕1号",
                   "report_no": f"B{serial:09d}", "testing_body": "产品质量监督检验研究院",
                   "standards": ["GB/T 2828.1-2012"], "sampled_on": (published - timedelta(days=30)).isoformat(),
                   "published_on": published.isoformat()}
        rows.append({"id": f"rec_{serial:026d}", "organization_uscc": uscc, "effective_on": published,
                     "public_summary": summary, "region_code": region})
    return [{"producers": producers}, *rows]


def load(url: str, generated: list[dict]) -> float:
    started = time.perf_counter()
    producers, rows = generated[0]["producers"], generated[1:]
    orgs = [(u, u[8:17], n, n, name_index.fold(n), r, "operating", True, NOW, NOW) for u, n, r, _ in producers]
    records, products, grams = [], [], []
    for row in rows:
        summary = json.dumps(row["public_summary"], ensure_ascii=False)
        records.append((row["id"], "inspection", row["organization_uscc"], "BENCH", "public", "active", 1,
                        row["public_summary"]["report_no"], row["effective_on"], summary, summary, NOW, NOW))
        product, pieces = inspections.index_rows(row)
        products.append(tuple(product.values()))
        grams += [(p["gram"], p["sort_key"], p["record_id"]) for p in pieces]
    grams.sort()
    product_columns = "(" + ", ".join(inspections.index_rows(rows[0])[0]) + ")"
    org_columns = ("(uscc, org_code, name, public_name, search_name, region_code, status, check_digit_valid, "
                   "created_at, updated_at)")
    record_columns = ("(id, kind, organization_uscc, department_code, visibility, status, version, decision_no, "
                      "effective_on, details, public_summary, created_at, updated_at)")
    department = ("BENCH", "基准测试部门", "market_regulation", "440300", NOW)
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        tables = (("department (code, name, kind, region_code, created_at)", [department]),
                  (f"organization {org_columns}", orgs), (f"record {record_columns}", records),
                  (f"inspection_product {product_columns}", products),
                  ("inspection_product_gram (gram, sort_key, record_id)", grams))
        for table, values in tables:
            if url.startswith("sqlite"):
                marks = ",".join("?" * len(values[0]))
                cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
            else:
                with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)
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


def terms(rows: list[dict], length: int, count: int, rng: random.Random) -> list[str]:
    """Natural queries: a window of a product name or a brand (2 characters: often the brand)."""
    picked: list[str] = []
    while len(picked) < count:
        summary = rng.choice(rows)["public_summary"]
        text_ = rng.choice((summary["product_name"], summary["brand"]))
        if len(text_) >= length:
            start = rng.randrange(0, len(text_) - length + 1)
            picked.append(text_[start:start + length])
    return picked


FILTERED = {"result": "fail", "region": "440000"}


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds (as bench/search.py reports them)."""
    ordered = sorted(samples)
    middle = len(ordered) // 2
    p50 = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return p50 * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def database_timings(url: str, queries_: list[str], params: dict) -> tuple[list[float], list[float], str]:
    """(search, LIKE scan, plan) for a first page of 20, warm piece counts (a second pass)."""
    engine = create_engine(url)
    timings, scanned = [], []
    with engine.connect() as conn:
        filters = inspections.filters_of(conn, result=params.get("result"), region=params.get("region"))
        for q in queries_:  # first pass: piece counts
            inspections.search(conn, q, filters, limit=20)
        for q in queries_:
            started = time.perf_counter()
            inspections.search(conn, q, filters, limit=20)
            timings.append(time.perf_counter() - started)
        for q in queries_:
            started = time.perf_counter()
            conn.execute(text("SELECT record_id FROM inspection_product WHERE search_name LIKE :p OR search_brand "
                              "LIKE :p ORDER BY sort_key DESC LIMIT 21"), {"p": f"%{name_index.fold(q)}%"}).all()
            scanned.append(time.perf_counter() - started)
        query = name_index.parse_query(queries_[0])
        gram = name_index.GramFrequencies().rarest(query.grams, lambda g, cap: queries.gram_count(conn, g, cap=cap))
        statement = queries.page_statement(filters, gram=gram, text=query.text, after=None, limit=21,
                                           dialect=conn.dialect.name)
        compiled = statement.compile(conn, compile_kwargs={"literal_binds": True})
        explain = "EXPLAIN QUERY PLAN " if url.startswith("sqlite") else "EXPLAIN "
        plan = " | ".join(str(row[-1]).strip() for row in conn.execute(text(explain + str(compiled))))
    engine.dispose()
    return timings, scanned, plan


def http_timings(url: str, data_dir: str, sets: list[tuple[list[str], dict]]) -> list[tuple[list[float], list[float]]]:
    """Per query set, (search warm, /healthz) through a real server process started for the run."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = os.environ | {"REGISTRY_DATABASE_URL": url, "REGISTRY_DATA_DIR": data_dir, "REGISTRY_ACCESS_LOG": "false",
                        "REGISTRY_PUBLIC_RATE_PER_MINUTE": "1000000", "REGISTRY_PUBLIC_RATE_BURST": "100000"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host",
                               "127.0.0.1", "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env)
    results = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for _ in range(150):
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            for queries_, params in sets:
                searched, trivial = [], []
                for round_ in range(2):  # the first round counts the pieces and fills the caches' way
                    for q in queries_:
                        started = time.perf_counter()
                        answer = client.get("/v1/public/inspections", params={"q": q, "limit": 20, **params})
                        assert answer.status_code == 200, answer.text
                        elapsed = time.perf_counter() - started
                        started = time.perf_counter()
                        client.get("/healthz")
                        if round_:
                            searched.append(elapsed)
                            trivial.append(time.perf_counter() - started)
                results.append((searched, trivial))
        return results
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inspections", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200, help="per query set")
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
    generated = generate(arguments.inspections)
    seconds = load(url, generated)
    rows = generated[1:]
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"{backend}: loaded {len(rows):,} spot checks of {len(generated[0]['producers']):,} producers "
          f"in {seconds:.1f} s")

    rng = random.Random(5)
    sets = [(f"{n} characters", terms(rows, n, arguments.queries, rng), {}) for n in (2, 3, 4)]
    sets.append(("2 characters, result=fail, region=440000", sets[0][1], FILTERED))
    over_http = http_timings(url, workdir, [(q, p) for _, q, p in sets])
    table, plans = [], []
    for (label, queries_, params), (http, trivial) in zip(sets, over_http, strict=True):
        timings, scanned, plan = database_timings(url, queries_, params)
        (d50, d95), (s50, s95) = percentiles(timings), percentiles(scanned)
        (h50, h95), (t50, t95) = percentiles(http), percentiles(trivial)
        table.append([label, f"{d50:.2f} / {d95:.2f}", f"{s50:.2f} / {s95:.2f}", f"{s50 / d50:.0f}x",
                      f"{h50:.2f} / {h95:.2f}", f"{t50:.2f} / {t95:.2f}", f"{h50 / t50:.2f}"])
        plans.append(f"- {label} (`{queries_[0]}`): {plan}")
    load_average = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    report.publish(f"Product search (spot checks), {len(rows):,} results, {backend}",
                   ["p50 / p95 in ms of a first page of 20, newest published first; piece counts warm (each query "
                    "was asked once before). Goal: HTTP p95 <= 10 ms at 1,000,000 results.",
                    f"Load average at the end of the run: {load_average} (other work shared the 2 cores)."],
                   ["query", "db search", "db LIKE scan", "scan / search (p50)", "HTTP search", "HTTP /healthz",
                    "search / healthz (p50)"], table, ["", "Plans:", *plans])


if __name__ == "__main__":
    main()
