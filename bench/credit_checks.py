"""Credit checks for bidding and procurement: 1,000 single checks over HTTP against one bulk check
of the same 1,000 codes, and the single check's throughput against a trivial FastAPI app served
the same way (issue 18's performance goals), on one database, in one run.

N generated organizations (default 1,000,000); a share of them carry records as departments push
them (ratings of every grade, general and serious violations, black and red entries), among them
about half of the 1,000 bidders checked. The service runs with 2 processes; the checking system is
a public resources trading centre's client with the scope credit:check, one token for the run.

- A: the 1,000 codes checked one by one (GET /v1/organizations/{code}/credit-check), one after
  another on one connection; and again from CONCURRENCY threads sharing the client. B: one
  POST /v1/credit-checks of the same 1,000 codes. Rounds alternate; medians; goal B/A <= 0.2.
  Every bulk answer is compared with the single answers, code by code: both did the same work.
- wrk at 32 connections (within the department budget of 24 in flight per process, so the figure
  is throughput, not admission queueing) on single checks of random codes among the 1,000,
  against a trivial FastAPI app (one async endpoint answering a small JSON) under the same
  uvicorn settings and the same wrk; goal >= 0.5. /healthz of the service for reference.

    .venv/bin/python bench/credit_checks.py [--organizations 1000000] [--database-url postgresql+psycopg://...]

Loopback only; every loop is bounded in count. Prints a table and, last, one JSON line of results;
--publish also appends the table to bench/RESULTS.md.
"""

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import lookup  # noqa: E402
import report  # noqa: E402
from lookup import serve  # noqa: E402
from search import generate, load  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from cli.demo import ensure_departments  # noqa: E402
from db import migrations  # noqa: E402
from db.session import open_database, transaction  # noqa: E402
from service.access import clients  # noqa: E402
from service.access.actors import ALL_SCOPES  # noqa: E402
from service.batches import applying  # noqa: E402
from service.rules import reference  # noqa: E402

CHECKED = 1000
CONNECTIONS, THREADS = 32, 2
WORKERS = lookup.WORKERS  # server processes, the service's (lookup.serve) and the trivial app's
CHECKER_DEPARTMENT = "GDGGZY"  # a public resources trading centre: bidding and procurement
PUBLISHER = "GDAMR"
# Records as a provincial registry might hold them. Of the organizations drawn: RATED carry a
# rating, VIOLATING one to three violations (each SERIOUS at that share); about BLACK are on the
# black list (always with the serious violation behind it) and RED on the red list (only clean,
# well-graded ones). BACKGROUND: the share of all organizations drawn; BIDDER_SHARE: the share of
# the bidders checked (a bidder is more often rated than an average firm).
BACKGROUND, BIDDER_SHARE = 0.03, 0.5
RATED, VIOLATING, SERIOUS, BLACK, RED = 0.6, 0.35, 0.2, 0.035, 0.12
GRADES = (("AAA", 96, 0.12), ("AA", 88, 0.30), ("A", 78, 0.30), ("B", 66, 0.16), ("C", 52, 0.08), ("D", 30, 0.04))
TRIVIAL_APP = '''from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def root():
    return {"message": "Hello World"}
'''


def fresh(url: str) -> None:
    """An empty PostgreSQL schema (the database is the bench's own); then the migrations."""
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrations.upgrade(url)


def record_lines(code: str, rng: random.Random, serial: Callable[[], int]) -> list[dict[str, Any]]:
    """The records one organization carries, as batch lines (possibly none)."""
    lines: list[dict[str, Any]] = []
    grade = None
    if rng.random() < RATED:
        grade, score, _ = rng.choices(GRADES, weights=[w for *_, w in GRADES])[0]
        evaluated = date(2025, 6, 1) + timedelta(days=rng.randrange(450))
        lines.append({"type": "rating", "code": code, "grade": grade, "score": score, "standard": "GB/T 31863-2015",
                      "evaluated_on": evaluated.isoformat(),
                      "valid_until": (evaluated + timedelta(days=3 * 365)).isoformat()})
    serious = False
    if rng.random() < VIOLATING:
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            severity = "serious" if rng.random() < SERIOUS else "general"
            serious = serious or severity == "serious"
            decided = date(2024, 1, 1) + timedelta(days=rng.randrange(1000))
            lines.append({"type": "violation", "code": code, "decision_no": f"粤市监罚〔{decided.year}〕{serial()}号",
                          "decided_on": decided.isoformat(), "authority": "广东省市场监督管理局",
                          "category": "产品质量抽查不合格", "legal_basis": "《中华人民共和国产品质量法》第四十九条",
                          "penalty": "警告，罚款人民币5万元" if severity == "general" else "罚款人民币50万元",
                          "penalty_types": ["warning", "fine"] if severity == "general" else ["fine"],
                          "severity": severity, "fine_amount": "50000" if severity == "general" else "500000"})
    if serious and rng.random() < BLACK / (VIOLATING * SERIOUS):
        lines.append({"type": "list_entry", "code": code, "list": "black", "reason": "严重违法失信",
                      "legal_basis": "《市场监督管理严重违法失信名单管理办法》第二条",
                      "decision_no": f"粤市监列〔2026〕{serial()}号",
                      "effective_on": (date(2026, 1, 1) + timedelta(days=rng.randrange(300))).isoformat()})
    elif not serious and grade in ("AAA", "AA") and rng.random() < RED / (RATED * 0.42):
        lines.append({"type": "list_entry", "code": code, "list": "red", "reason": "质量诚信示范企业",
                      "legal_basis": "《广东省质量信用红名单管理办法》", "decision_no": f"粤市监红〔2026〕{serial()}号",
                      "effective_on": (date(2026, 1, 1) + timedelta(days=rng.randrange(300))).isoformat()})
    return lines


def give_records(url: str, all_codes: list[str], checked: list[str]) -> dict[str, int]:
    """Records for BACKGROUND of all organizations and BIDDER_SHARE of the checked ones, pushed
    through the service as a department's batch is (validated, versioned, evented); then the
    checking system: its department and client. Counts by kind."""
    rng = random.Random(18)
    counter = iter(range(1, 10**9))
    chosen = set(rng.sample(all_codes, int(len(all_codes) * BACKGROUND)))
    chosen |= set(rng.sample(checked, int(len(checked) * BIDDER_SHARE)))
    lines = [line for code in sorted(chosen) for line in record_lines(code, rng, lambda: next(counter))]
    database = open_database(url)
    now = datetime.now(UTC)
    try:
        with transaction(database) as session:
            ensure_departments(session, now=now)
            reference.add_department(session, code=CHECKER_DEPARTMENT, name="广东省公共资源交易中心",
                                     name_en="Guangdong Public Resources Trading Centre", kind="public_resources",
                                     region_code="440000", now=now)
        for start in range(0, len(lines), 1000):
            with transaction(database) as session:
                results = applying.apply_lines(session, list(enumerate(lines[start:start + 1000], start + 1)),
                                               department_code=PUBLISHER, scopes=ALL_SCOPES, now=now)
            refused = [r for r in results if r.outcome != "accepted"]
            if refused:
                raise SystemExit(f"could not give the organizations records: {refused[0]}")
    finally:
        database.dispose()
    counts: dict[str, int] = {}
    for line in lines:
        kind = line["list"] + "_entry" if line["type"] == "list_entry" else line["type"]
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def checking_client(url: str) -> tuple[str, str]:
    database = open_database(url)
    try:
        with transaction(database) as session:
            made = clients.create(session, CHECKER_DEPARTMENT, name="tendering platform", scopes=["credit:check"],
                                  now=datetime.now(UTC))
            return made.client.client_id, made.secret
    finally:
        database.dispose()


def analyze(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def token(base: str, client_id: str, secret: str) -> str:
    response = httpx.post(f"{base}/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                          "client_secret": secret}, timeout=10)
    response.raise_for_status()
    return str(response.json()["access_token"])


def singles(client: httpx.Client, codes: list[str], concurrency: int) -> tuple[float, dict[str, Any]]:
    """(seconds, answers by code) for one credit check per code, ``concurrency`` at a time."""
    def check(code: str) -> tuple[str, Any]:
        response = client.get(f"/v1/organizations/{code}/credit-check")
        if response.status_code != 200:
            raise SystemExit(f"a single check of {code} answered {response.status_code}: {response.text[:300]}")
        return code, response
    started = time.perf_counter()
    if concurrency == 1:
        answered = [check(code) for code in codes]
    else:
        with ThreadPoolExecutor(concurrency) as pool:
            answered = list(pool.map(check, codes))
    elapsed = time.perf_counter() - started
    return elapsed, {code: response.json() for code, response in answered}


def bulk(client: httpx.Client, codes: list[str]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = client.post("/v1/credit-checks", json={"codes": codes, "purpose": "招标投标资格审查 (bench)"})
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"the bulk check answered {response.status_code}: {response.text[:300]}")
    answer = response.json()
    if answer["found"] != len(codes):
        raise SystemExit(f"the bulk check found {answer['found']} of {len(codes)}")
    return elapsed, {item["input"]: item["check"] for item in answer["results"]}


def same_answers(single: dict[str, Any], many: dict[str, Any]) -> None:
    differing = [code for code in single if single[code] != many[code]]
    if differing:
        raise SystemExit(f"{len(differing)} codes answer differently one by one and in bulk, e.g. {differing[0]}:\n"
                         f"{single[differing[0]]}\n{many[differing[0]]}")


def serve_trivial(folder: str, port: int, output: Any) -> subprocess.Popen:
    """The trivial app with the service's uvicorn settings (cli.main.serve)."""
    Path(folder, "trivial_app.py").write_text(TRIVIAL_APP)
    code = (f"import uvicorn; uvicorn.run('trivial_app:app', host='127.0.0.1', port={port}, workers={WORKERS}, "
            f"log_config=None, access_log=False, log_level='warning', proxy_headers=False, app_dir={folder!r})")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=output, stderr=output, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.3)
    os.killpg(process.pid, signal.SIGTERM)
    raise SystemExit("the trivial app did not start")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(30)


def wrk(url: str, seconds: int, script: str | None = None) -> tuple[float, dict[str, float]]:
    """bench/lookup.py's wrk run, at this bench's connections."""
    lookup.CONNECTIONS, lookup.THREADS = CONNECTIONS, THREADS
    return lookup.wrk(url, seconds, script)


def wrk_script(folder: str, codes: list[str], bearer: str) -> str:
    script = Path(folder) / "credit-check.lua"
    script.write_text("codes = {" + ",".join(f'"{c}"' for c in codes) + "}\n"
                      f'wrk.headers["Authorization"] = "Bearer {bearer}"\n'
                      "request = function()\n"
                      "  return wrk.format(nil, '/v1/organizations/' .. codes[math.random(#codes)] .. '/credit-check')\n"
                      "end\n")
    return str(script)


def measure(url: str, folder: str, organizations: int, rounds: int, concurrency: int, seconds: int,
            port: int) -> dict[str, Any]:
    started = time.perf_counter()
    fresh(url)
    rows = generate(organizations)
    load(url, rows)
    all_codes = [uscc for uscc, _, _ in rows]
    checked = random.Random(5).sample(all_codes, CHECKED)
    counts = give_records(url, all_codes, checked)
    client_id, secret = checking_client(url)
    analyze(url)
    loaded = time.perf_counter() - started
    print(f"loaded {organizations:,} organizations and {sum(counts.values()):,} records {counts} in {loaded:.0f} s",
          flush=True)

    log = open(Path(folder) / "server.log", "wb")  # noqa: SIM115 (closed below, after the servers)
    server = serve(url, folder, port, output=log)
    base = f"http://127.0.0.1:{port}"
    try:
        bearer = token(base, client_id, secret)
        headers = {"Authorization": f"Bearer {bearer}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60,
                          limits=httpx.Limits(max_connections=concurrency)) as client:
            # Warm both processes and the caches on other codes than the measured ones.
            warm = random.Random(6).sample(all_codes, 200)
            bulk(client, warm)
            singles(client, warm, concurrency)
            a_seq, a_conc, b = [], [], []
            for n in range(rounds):
                elapsed, single = singles(client, checked, 1)
                a_seq.append(elapsed)
                elapsed, many = bulk(client, checked)
                b.append(elapsed)
                elapsed, _ = singles(client, checked, concurrency)
                a_conc.append(elapsed)
                if n == 0:
                    same_answers(single, many)
                print(f"round {n + 1}: A {a_seq[-1]:.2f} s one by one, {a_conc[-1]:.2f} s at {concurrency}; "
                      f"B {b[-1]:.3f} s", flush=True)
        shown = {"black": sum(c["black_listed"] for c in many.values()),
                 "red": sum(c["red_listed"] for c in many.values()),
                 "rated": sum(c["grade"] is not None for c in many.values()),
                 "with measures": sum(bool(c["measures"]) for c in many.values()),
                 "with active violations": sum(c["active_violations"] > 0 for c in many.values())}
        bearer = token(base, client_id, secret)  # a fresh token: wrk runs past the first one's minutes on 1M
        script = wrk_script(folder, checked, bearer)
        wrk(f"{base}/healthz", 2)
        wrk(base, 3, script)
        healthz = wrk(f"{base}/healthz", seconds)
        check = wrk(base, seconds, script)
    finally:
        stop(server)
    trivial_server = serve_trivial(folder, port + 1, log)
    try:
        wrk(f"http://127.0.0.1:{port + 1}/", 2)
        trivial = wrk(f"http://127.0.0.1:{port + 1}/", seconds)
    finally:
        stop(trivial_server)
        log.close()
    return {"loaded": loaded, "counts": counts, "shown": shown, "a_seq": a_seq, "a_conc": a_conc, "b": b,
            "check": check, "trivial": trivial, "healthz": healthz}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--organizations", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="", help="a PostgreSQL to fill (emptied first); default SQLite")
    parser.add_argument("--rounds", type=int, default=3, help="of A and B, alternating")
    parser.add_argument("--concurrency", type=int, default=8, help="threads for A's concurrent pass")
    parser.add_argument("--seconds", type=int, default=10, help="of each wrk run")
    parser.add_argument("--port", type=int, default=18441)
    parser.add_argument("--publish", action="store_true", help="append the table to bench/RESULTS.md")
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        subprocess.run([str(ROOT / "scripts/ensure-wrk.sh")], check=True)
    if arguments.organizations < CHECKED:
        raise SystemExit(f"--organizations must be at least {CHECKED}")
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as folder:
        url = arguments.database_url or f"sqlite:///{folder}/credit.db"
        result = measure(url, folder, arguments.organizations, arguments.rounds, arguments.concurrency,
                         arguments.seconds, arguments.port)
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    a_seq, a_conc, b = (statistics.median(result[k]) for k in ("a_seq", "a_conc", "b"))
    (check_rps, check_latency), (trivial_rps, _), (healthz_rps, _) = (result[k] for k in ("check", "trivial",
                                                                                         "healthz"))
    rows = [
        ("B/A: one bulk check of 1,000 codes / 1,000 single checks one by one",
         f"{b:.3f} s / {a_seq:.2f} s", f"{b / a_seq:.3f}", "<= 0.2"),
        (f"B/A with the single checks {arguments.concurrency} at a time",
         f"{b:.3f} s / {a_conc:.2f} s", f"{b / a_conc:.3f}", ""),
        ("single check rps / trivial FastAPI app rps (wrk)", f"{check_rps:,.0f} / {trivial_rps:,.0f}",
         f"{check_rps / trivial_rps:.2f}", ">= 0.5"),
        ("single check rps / the service's own /healthz rps (wrk)", f"{check_rps:,.0f} / {healthz_rps:,.0f}",
         f"{check_rps / healthz_rps:.2f}", ""),
        ("single check p50 / p99 under wrk (ms)", f"{check_latency['50%']:.1f} / {check_latency['99%']:.1f}", "", ""),
    ]
    notes = [f"{arguments.organizations:,} organizations on {backend}, {sum(result['counts'].values()):,} records "
             f"({', '.join(f'{k} {v:,}' for k, v in sorted(result['counts'].items()))}); of the 1,000 checked: "
             + ", ".join(f"{k} {v}" for k, v in result["shown"].items()) + ". "
             f"Service with {WORKERS} processes; a credit:check client's token; medians of {arguments.rounds} "
             f"alternating rounds; wrk -t{THREADS} -c{CONNECTIONS} -d{arguments.seconds}s, random codes among the "
             "1,000; the trivial app under the same uvicorn settings."]
    header = ["measure", "value", "ratio", "goal"]
    if arguments.publish:
        report.publish(f"Credit checks on {backend}, {arguments.organizations:,} organizations", notes, header, rows)
    else:
        print("\n".join([*notes, "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header),
                         *("| " + " | ".join(row) + " |" for row in rows)]))
    print(json.dumps({
        "bench": "credit_checks", "database": backend, "organizations": arguments.organizations,
        "records": result["counts"], "checked": result["shown"] | {"codes": CHECKED}, "load_seconds":
        round(result["loaded"], 1), "single_sequential_s": round(a_seq, 3), "single_concurrent_s": round(a_conc, 3),
        "concurrency": arguments.concurrency, "bulk_s": round(b, 4), "bulk_vs_single": round(b / a_seq, 4),
        "bulk_vs_single_concurrent": round(b / a_conc, 4),
        "rounds": {k: [round(x, 4) for x in result[k]] for k in ("a_seq", "a_conc", "b")},
        "single_rps": round(check_rps, 1), "trivial_rps": round(trivial_rps, 1), "healthz_rps": round(healthz_rps, 1),
        "single_vs_trivial": round(check_rps / trivial_rps, 3),
        "single_vs_healthz": round(check_rps / healthz_rps, 3), "single_latency_ms": check_latency,
        "goals": {"bulk_vs_single<=0.2": b / a_seq <= 0.2, "single_vs_trivial>=0.5": check_rps / trivial_rps >= 0.5},
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
