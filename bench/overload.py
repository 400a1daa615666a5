"""Overload: the service (2 processes, SQLite, 10,000 organizations) under a mixed load of public
lookups and searches, department reads and writes. First the saturation rate: the most requests
served (2xx) per second at 64, 128 or 256 connections (wrk, 10 s each). Then 60 s of overload at
2,048 connections. wrk is closed-loop, so the overload cannot be set as a rate: each connection
sends its next request when the last is answered. 2,048 is 8x the most that served anything more,
and the run reports what was answered and refused. Then the recovery: how soon after the overload
ordinary requests are answered again at ordinary speed.

Passes when the overload got only 2xx, 429 and 503 (never a 5xx other than 503, never a request
left hanging past wrk's timeout), the service recovered within 10 s, and its logs hold no secret
(the suite's shapes, tests/live_traffic.py: the token sent with every department request is one).

    .venv/bin/python bench/overload.py [--seconds 60]

Loopback only. The last line printed sums it up; the table goes to bench/RESULTS.md.
"""

import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import report  # noqa: E402
from lookup import give_records, serve  # noqa: E402
from search import generate, load  # noqa: E402

from db import migrations  # noqa: E402
from db.session import open_database, transaction  # noqa: E402
from service.access import clients
from tests.live_traffic import SECRET_SHAPES  # noqa: E402

SATURATING, OVERLOAD = (64, 128, 256), 2048
TIMEOUT_SECONDS = 15

# Each wrk thread counts its answers by status; done() sums the threads' counts.
MIX = """
local codes = {%(codes)s}
local queries = {%(queries)s}
local auth = "Bearer %(token)s"
local threads = {}
local counter = 0
-- Decision numbers must not repeat across runs (saturation, then overload): a repeat is a 409.
local run = os.time() .. "-" .. math.random(1000000)

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

request = function()
  local roll = math.random(100)
  if roll <= 70 then
    return wrk.format("GET", "/v1/public/organizations/" .. codes[math.random(#codes)])
  elseif roll <= 85 then
    return wrk.format("GET", "/v1/public/organizations?q=" .. queries[math.random(#queries)])
  elseif roll <= 92 then
    return wrk.format("GET", "/v1/records?limit=20", {["Authorization"] = auth})
  else
    counter = counter + 1
    local body = '{"decision_no": "粤市监罚〔2026〕压测' .. run .. '-' .. id .. '-' .. counter .. '号", "decided_on": "2026-05-01", '
      .. '"authority": "广东省市场监督管理局", "category": "产品质量抽查不合格", "legal_basis": "产品质量法第四十九条", '
      .. '"penalty": "警告", "penalty_types": ["warning"], "severity": "minor"}'
    return wrk.format("POST", "/v1/organizations/" .. codes[math.random(#codes)] .. "/violations",
                      {["Authorization"] = auth, ["Content-Type"] = "application/json"}, body)
  end
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(total) do
    table.insert(parts, '"' .. status .. '": ' .. count)
  end
  io.write("STATUSES {" .. table.concat(parts, ", ") .. "}\\n")
  io.write(string.format("TIMEOUTS %%d\\n", summary.errors.timeout))
  io.write(string.format("ERRORS %%d %%d %%d\\n", summary.errors.connect, summary.errors.read, summary.errors.write))
end
"""


def wrk(base: str, script: Path, connections: int, seconds: int) -> dict:
    ran = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", f"--timeout={TIMEOUT_SECONDS}s",
                          "--latency", "-s", str(script), base], capture_output=True, text=True, timeout=seconds + 120)
    output = ran.stdout
    if "STATUSES" not in output:
        raise SystemExit(f"wrk failed: {output[-2000:]} {ran.stderr[-2000:]}")
    statuses = {int(k): v for k, v in json.loads(re.search(r"STATUSES (\{.*\})", output).group(1)).items()}  # type: ignore[union-attr]
    connect, read, write = map(int, re.search(r"ERRORS (\d+) (\d+) (\d+)", output).group(1, 2, 3))  # type: ignore[union-attr]
    return {"statuses": statuses, "timeouts": int(re.search(r"TIMEOUTS (\d+)", output).group(1)),  # type: ignore[union-attr]
            "socket_errors": connect + read + write, "rate": sum(statuses.values()) / seconds,
            "p99": re.search(r"\s99%\s+([\d.]+\w+)", output).group(1)}  # type: ignore[union-attr]


def served(run: dict) -> int:
    return sum(n for status, n in run["statuses"].items() if 200 <= status < 300)


def recovery(base: str, code: str, ordinary_ms: float) -> float:
    """Seconds until 20 lookups in a row are answered 200 within 5x their ordinary time."""
    started, streak = time.monotonic(), 0
    with httpx.Client(base_url=base, timeout=TIMEOUT_SECONDS) as http:
        while streak < 20:
            if time.monotonic() - started > 60:
                return float("inf")
            sent = time.perf_counter()
            try:
                ok = http.get(f"/v1/public/organizations/{code}").status_code == 200
            except httpx.TransportError:
                ok = False
            fast = (time.perf_counter() - sent) * 1000 <= 5 * ordinary_ms
            streak = streak + 1 if ok and fast else 0
            if not (ok and fast):
                time.sleep(0.05)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--organizations", type=int, default=10_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/overload.db"
        migrations.upgrade(url)
        rows = generate(arguments.organizations)
        load(url, rows)
        codes = [uscc for uscc, _, _ in random.Random(5).sample(rows, 2000)]
        give_records(url, codes)
        database = open_database(url)
        with transaction(database) as session:
            made = clients.create(session, "GDAMR", name="overload", scopes=["records:read", "records:write"],
                                  now=datetime.now(UTC))
        database.dispose()
        queries = sorted({name[3:5] for _, name, _ in rows[:500]})
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        log = Path(folder) / "server.log"
        with log.open("wb") as output:
            server = serve(url, folder, port, output)
        try:
            base = f"http://127.0.0.1:{port}"
            token = httpx.post(f"{base}/v1/auth/token", data={"grant_type": "client_credentials", "client_id":
                               made.client.client_id, "client_secret": made.secret}).json()["access_token"]
            script = Path(folder) / "mix.lua"
            script.write_text(MIX % {"codes": ",".join(f'"{c}"' for c in codes),
                                     "queries": ",".join(f'"{quote(q)}"' for q in queries), "token": token})
            with httpx.Client(base_url=base) as http:
                samples = []
                for code in codes[:50]:
                    sent = time.perf_counter()
                    http.get(f"/v1/public/organizations/{code}")
                    samples.append((time.perf_counter() - sent) * 1000)
            ordinary_ms = statistics.median(samples)
            saturated = max((wrk(base, script, connections, 10) | {"connections": connections}
                             for connections in SATURATING), key=served)
            overloaded = wrk(base, script, OVERLOAD, arguments.seconds)
            recovered = recovery(base, codes[0], ordinary_ms)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        logged = log.read_text(errors="replace").splitlines()
    leaks = [line for line in logged if SECRET_SHAPES.search(line)]
    allowed = {s for s in overloaded["statuses"] if 200 <= s < 300 or s in (429, 503)}
    wrong = {s: n for s, n in overloaded["statuses"].items() if s not in allowed}
    passed = not wrong and overloaded["timeouts"] == 0 and recovered <= 10 and not leaks
    codes_text = ", ".join(f"{s}: {n:,}" for s, n in sorted(overloaded["statuses"].items()))
    saturation = served(saturated) / 10
    rows_ = [
        (f"saturation (best of {', '.join(map(str, SATURATING))} connections: {saturated['connections']}, 10 s)",
         f"{saturation:,.0f} served/s", f"p99 {saturated['p99']}",
         ", ".join(f"{s}: {n:,}" for s, n in sorted(saturated["statuses"].items()))),
        (f"overload ({OVERLOAD} connections, {arguments.seconds} s)",
         f"{overloaded['rate']:,.0f} answers/s, {served(overloaded) / arguments.seconds:,.0f} served/s",
         f"answers {overloaded['rate'] / saturation:.1f}x saturation; p99 {overloaded['p99']}", codes_text),
        ("requests left hanging past 15 s", str(overloaded["timeouts"]), "", "goal 0"),
        ("recovery (20 ordinary lookups in a row)", f"{recovered:.1f} s", f"ordinary lookup {ordinary_ms:.1f} ms",
         "goal <= 10 s"),
    ]
    report.publish("Overload on SQLite, 2 server processes",
                   ["Mix: 70% public lookups, 15% name searches, 7% department record lists, 8% department "
                    "writes. Served: answered 2xx. wrk is closed-loop: the overload is 2,048 connections each "
                    "sending its next request as soon as the last is answered, not a set rate."],
                   ["phase", "rate", "compared", "status codes"], rows_)
    print(f"overload: {'PASS' if passed else 'FAIL'}; saturation {saturation:,.0f} served/s; "
          f"{arguments.seconds} s at {OVERLOAD} connections {overloaded['rate']:,.0f} answers/s "
          f"({overloaded['rate'] / saturation:.1f}x); status codes {codes_text}; "
          f"timeouts {overloaded['timeouts']}; recovered in {recovered:.1f} s; "
          f"{len(logged)} log lines, {len(leaks)} with a secret{': ' + leaks[0][:200] if leaks else ''}")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
