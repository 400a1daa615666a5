"""Bulk push end to end: `credit-registry push` of N NDJSON lines (one organization, then nine
violations of it, over and over) through POST /v1/batches to the service on SQLite, with every
line validated, versioned and evented; against the baseline of the same number of plain rows
written by sqlite3's executemany in the same run (what the disk and SQLite allow at best).

    .venv/bin/python bench/bulk.py [--lines 1000000]

Loopback only. Appends its table to bench/RESULTS.md.
"""

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import report  # noqa: E402
from lookup import serve  # noqa: E402

from service.codes import make_uscc  # noqa: E402

CLI = str(ROOT / ".venv/bin/credit-registry")


def write_file(path: Path, lines: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for n in range(lines):
            group, k = divmod(n, 10)
            code = make_uscc("91", "440300", f"B{group:07d}")
            if k == 0:
                row = {"type": "organization", "code": code, "name": f"深圳市测试{group}有限公司"}
            else:
                row = {"type": "violation", "code": code, "decision_no": f"深市监罚〔2026〕{group}-{k}号",
                       "decided_on": "2026-05-01", "authority": "深圳市市场监督管理局", "category": "产品质量抽查不合格",
                       "legal_basis": "《中华人民共和国产品质量法》第四十九条", "penalty": "警告，罚款人民币5万元",
                       "penalty_types": ["warning", "fine"], "severity": "general", "fine_amount": "50000"}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def check_queryable(path: str, base: str, lines: int) -> str:
    """Every pushed line is in the registry with its event, and organizations across the file
    answer the public lookup with all nine of their violations."""
    groups = lines // 10
    connection = sqlite3.connect(path)
    counts = {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
              for table in ("organization", "record", "event")}
    connection.close()
    wanted = {"organization": groups, "record": lines - groups, "event": lines}
    if counts != wanted:
        raise SystemExit(f"after the push the registry holds {counts}, expected {wanted}")
    sample = sorted({0, groups - 1, *random.Random(7).sample(range(groups), min(200, groups))})
    with httpx.Client(base_url=base, timeout=10) as client:
        for group in sample:
            code = make_uscc("91", "440300", f"B{group:07d}")
            response = client.get(f"/v1/public/organizations/{code}")
            shown = len(response.json()["records"]) if response.status_code == 200 else None
            if shown != 9:
                raise SystemExit(f"{code}: the public lookup answered {response.status_code} with {shown} records")
    return (f"afterwards: {counts['organization']:,} organizations, {counts['record']:,} records and "
            f"{counts['event']:,} events in the database; {len(sample)} organizations across the file "
            "looked up, each with its 9 violations")


def baseline(folder: str, lines: int) -> float:
    """Rows/s of plain inserts of the same count: sqlite3 executemany, WAL, one commit per 5,000."""
    connection = sqlite3.connect(f"{folder}/baseline.db")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("CREATE TABLE plain (id TEXT PRIMARY KEY, organization TEXT, decision_no TEXT, body TEXT)")
    started = time.perf_counter()
    for start in range(0, lines, 5000):
        rows = [(f"r{n:09d}", f"o{n // 10}", f"d{n}", '{"severity": "general"}')
                for n in range(start, min(lines, start + 5000))]
        connection.executemany("INSERT INTO plain VALUES (?, ?, ?, ?)", rows)
        connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return lines / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bulk.db"
        env = os.environ | {"REGISTRY_DATABASE_URL": url, "REGISTRY_DATA_DIR": folder}
        subprocess.run([CLI, "migrate"], env=env, check=True, capture_output=True)
        subprocess.run([CLI, "create-department", "SZAMR", "--name", "深圳市市场监督管理局", "--region", "440300"],
                       env=env, check=True, capture_output=True)
        made = json.loads(subprocess.run([CLI, "create-client", "SZAMR", "--scope", "records:write", "--json"],
                                         env=env, check=True, capture_output=True, text=True).stdout)
        source = Path(folder) / "records.ndjson"
        write_file(source, arguments.lines)
        server = serve(url, folder, 18433)
        try:
            started = time.perf_counter()
            pushed = subprocess.run([CLI, "push", str(source), "--url", "http://127.0.0.1:18433", "--client-id",
                                     made["client_id"], "--client-secret", made["client_secret"],
                                     "--batch-lines", "20000"], capture_output=True, text=True, timeout=3600)
            elapsed = time.perf_counter() - started
            if pushed.returncode == 0:
                queryable = check_queryable(f"{folder}/bulk.db", "http://127.0.0.1:18433", arguments.lines)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
        if pushed.returncode != 0:
            raise SystemExit(f"push failed: {pushed.stdout[-2000:]} {pushed.stderr[-2000:]}")
        plain = baseline(folder, arguments.lines)
    rate = arguments.lines / elapsed
    report.publish(f"Bulk push on SQLite, {arguments.lines:,} lines",
                   ["`credit-registry push` (batches of 20,000) to `serve` with 2 processes; lines are 1 organization "
                    "then 9 violations of it; every line validated, versioned, evented. Baseline: plain rows by "
                    "sqlite3 executemany in the same run.", pushed.stdout.strip().splitlines()[-1], queryable],
                   ["measure", "value", "baseline", "ratio", "goal"],
                   [["lines/s", f"{rate:,.0f}", f"{plain:,.0f} plain rows/s", f"{rate / plain:.3f}", ">= 30,000/s"]])


if __name__ == "__main__":
    main()
