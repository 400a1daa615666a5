"""The public lookup, the hottest path: requests per second and latency under wrk at 64
connections against the service with 2 worker processes, next to /healthz served by the same
processes the same way (the baseline: what the framework and the machine allow at best); the peak
memory of each worker; and the lookup's latency at 10,000 against N organizations.

    .venv/bin/python bench/lookup.py [--organizations 1000000] [--seconds 10]

Loopback only; wrk runs for a bounded time. Appends its table to bench/RESULTS.md.
"""

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import report  # noqa: E402
from search import generate, load  # noqa: E402

from cli.demo import ensure_departments  # noqa: E402
from db import migrations  # noqa: E402
from db.session import open_database, transaction  # noqa: E402
from service.access.actors import ALL_SCOPES  # noqa: E402
from service.batches import applying

CONNECTIONS, THREADS, WORKERS = 64, 2, 2


def serve(url: str, data_dir: str, port: int, output=subprocess.DEVNULL) -> subprocess.Popen:
    """The service with WORKERS processes; ``output``: where its stdout and stderr go."""
    env = os.environ | {"REGISTRY_DATABASE_URL": url, "REGISTRY_DATA_DIR": data_dir, "REGISTRY_ACCESS_LOG": "false",
                        "REGISTRY_LOG_LEVEL": "warning", "REGISTRY_WEBHOOK_WORKER_IN_PROCESS": "false",
                        "REGISTRY_PUBLIC_RATE_PER_MINUTE": "100000000", "REGISTRY_PUBLIC_RATE_BURST": "100000000"}
    process = subprocess.Popen([str(ROOT / ".venv/bin/credit-registry"), "serve", "--no-migrate", "--port", str(port),
                                "--workers", str(WORKERS)], env=env, stdout=output, stderr=output,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the server did not start")


def wrk(url: str, seconds: int, script: str | None = None) -> tuple[float, dict[str, float]]:
    """(requests/s, {"50%": ms, ...}) from wrk --latency."""
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", script]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = {}
    for share, value, unit in re.findall(r"\s(50|75|90|99)%\s+([\d.]+)(us|ms|s)\b", output):
        latency[f"{share}%"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"{errors.group(1)} requests failed during the run:\n{output}")
    return rps, latency


def peak_rss_mb(process: subprocess.Popen) -> float:
    """The largest peak resident memory (VmHWM) among the server's processes."""
    peaks = []
    for pid in [process.pid, *map(int, subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True,
                                                      text=True).stdout.split())]:
        status = Path(f"/proc/{pid}/status").read_text()
        peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)  # type: ignore[union-attr]
    return max(peaks)


def give_records(url: str, codes: list[str]) -> None:
    """A rating and two violations for each looked-up organization, through the service as a
    department would push them: a lookup then reads, joins and shows real records."""
    database = open_database(url)
    now = datetime.now(UTC)
    try:
        with transaction(database) as session:
            ensure_departments(session, now=now)
        for start in range(0, len(codes), 500):
            lines = []
            for code in codes[start:start + 500]:
                lines.append({"type": "rating", "code": code, "grade": "AA", "score": 91.5, "standard": "GB/T 31863-2015",
                              "evaluated_on": "2026-03-01", "valid_until": "2029-02-28"})
                lines += [{"type": "violation", "code": code, "decision_no": f"粤市监罚〔2026〕{code}-{k}号",
                           "decided_on": "2026-05-01", "authority": "广东省市场监督管理局", "category": "产品质量抽查不合格",
                           "legal_basis": "《中华人民共和国产品质量法》第四十九条", "penalty": "警告，罚款人民币5万元",
                           "penalty_types": ["warning", "fine"], "severity": "general", "fine_amount": "50000"}
                          for k in (1, 2)]
            with transaction(database) as session:
                results = applying.apply_lines(session, list(enumerate(lines, 1)), department_code="GDAMR",
                                           scopes=ALL_SCOPES, now=now)
            refused = [r for r in results if r.outcome != "accepted"]
            if refused:
                raise SystemExit(f"could not give the organizations records: {refused[0]}")
    finally:
        database.dispose()


def measure(size: int, seconds: int, folder: str, port: int) -> dict:
    url = f"sqlite:///{folder}/lookup-{size}.db"
    migrations.upgrade(url)
    rows = generate(size)
    load(url, rows)
    codes = [uscc for uscc, _, _ in random.Random(5).sample(rows, min(2000, len(rows)))]
    give_records(url, codes)
    script = Path(folder) / f"lookup-{size}.lua"
    script.write_text("codes = {" + ",".join(f'"{c}"' for c in codes) + "}\n"
                      "request = function()\n"
                      "  return wrk.format(nil, '/v1/public/organizations/' .. codes[math.random(#codes)])\n"
                      "end\n")
    server = serve(url, folder, port)
    try:
        base = f"http://127.0.0.1:{port}"
        wrk(f"{base}/healthz", 2)  # warm both workers
        wrk(base, 2, str(script))
        healthz = wrk(f"{base}/healthz", seconds)
        lookup = wrk(base, seconds, str(script))
        rss = peak_rss_mb(server)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    return {"size": size, "healthz": healthz, "lookup": lookup, "rss": rss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organizations", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        small = measure(10_000, arguments.seconds, folder, 18431)
        large = measure(arguments.organizations, arguments.seconds, folder, 18432)
    healthz_rps, healthz_latency = large["healthz"]
    rps, latency = large["lookup"]
    growth = large["lookup"][1]["50%"] / small["lookup"][1]["50%"]
    rows = [
        ("lookup rps vs /healthz", f"{rps:,.0f} / {healthz_rps:,.0f}", f"{rps / healthz_rps:.2f}", ">= 0.60"),
        ("lookup p50 / p99 (ms)", f"{latency['50%']:.1f} / {latency['99%']:.1f}",
         f"/healthz {healthz_latency['50%']:.1f} / {healthz_latency['99%']:.1f}", "p99 <= 30"),
        ("peak RSS of a server process (MB)", f"{large['rss']:.0f}", "", "<= 200"),
        (f"lookup p50 at {large['size']:,} vs 10,000", f"{large['lookup'][1]['50%']:.1f} / "
         f"{small['lookup'][1]['50%']:.1f} ms", f"{growth:.2f}x", "<= 1.2x"),
    ]
    report.publish(f"Public lookup on SQLite, {large['size']:,} organizations",
                   [f"wrk -t{THREADS} -c{CONNECTIONS} -d{arguments.seconds}s, {WORKERS} server processes, "
                    "random codes from 2,000 organizations with a rating and two violations each."], ["measure", "value", "ratio / baseline", "goal"], rows)


if __name__ == "__main__":
    main()
