"""Webhook delivery: deliveries per second per worker to a loopback receiver, and the time from a
change's commit to its receipt (p50/p95), on SQLite or PostgreSQL.

Baselines, measured in the same run against the same receiver: plain HTTP POSTs of the same bodies
from as many threads as a worker has (what the receiver and loopback allow at best), and one POST's
round trip (the least a delivery can take). Results are printed and appended to bench/RESULTS.md.

    .venv/bin/python bench/webhooks.py [--deliveries 2000] [--database-url postgresql+psycopg://...]

Loopback only; every loop is bounded in count and time.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import report  # noqa: E402
from service.records.fields import ViolationFields  # noqa: E402
from sqlalchemy import text  # noqa: E402

from cli import demo
from db import migrations  # noqa: E402
from db.sealing import Sealer  # noqa: E402
from db.session import open_database, transaction  # noqa: E402
from service import codes
from service.organizations import master_data
from service.records import publishing
from service.rules.clock import SystemClock  # noqa: E402
from service.sync.webhooks import delivery, endpoints

# The bench's own secrets key: endpoints are made and signed for in this one process.
SEALER = Sealer(os.urandom(32))
ENDPOINTS = 4
UNIT = "SZAMR"
SUBSCRIBER = "SZTAX"


class Receiver:
    """Answers 200 at once and notes when each event (by seq) arrived."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                seq = json.loads(body).get("seq")
                if seq is not None:
                    receiver.arrived.setdefault(seq, time.perf_counter())
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def violation(serial: int) -> ViolationFields:
    return ViolationFields(decision_no=f"深市监罚〔2026〕{serial}号", decided_on=date(2026, 5, 1),
                           authority="深圳市市场监督管理局", category="产品质量抽查不合格",
                           legal_basis="《中华人民共和国产品质量法》第四十九条", penalty="警告",
                           penalty_types=["warning"], severity="general")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def setup(url: str, receiver: Receiver) -> str:
    migrations.upgrade(url)
    database = open_database(url, sealer=SEALER)
    now = SystemClock().now()
    uscc = codes.make_uscc("91", "440300", "00000001")
    with transaction(database) as session:
        demo.ensure_departments(session, now=now)
        master_data.register(session, uscc, master_data.OrganizationFields(name="深圳市基准测试有限公司"), now=now)
        for _ in range(ENDPOINTS):
            endpoints.create(session, SUBSCRIBER, endpoints.EndpointCreate(url=receiver.url), now=now,
                            allowed_hosts=frozenset({"127.0.0.1"}))
    database.dispose()
    return uscc


def publish(database, uscc: str, serial: int) -> tuple[int, float]:
    """Commit one violation; returns its event seq and the moment the commit returned."""
    with transaction(database) as session:
        record = publishing.publish(session, uscc, violation(serial), department_code=UNIT, now=SystemClock().now(),
                                 visibility="shared").record
        record_id = record.id
    committed = time.perf_counter()
    with database.reader.connect() as conn:
        seq = conn.execute(text("SELECT max(seq) FROM event WHERE record_id = :r"), {"r": record_id}).scalar_one()
    return seq, committed


def start_workers(database, count: int, policy: delivery.DeliveryPolicy) -> tuple[threading.Event, list]:
    stop = threading.Event()
    threads = [threading.Thread(target=delivery.run, daemon=True, kwargs=dict(
        unit_of_work=lambda: transaction(database), owner=f"bench-{n}", policy=policy, stop=stop,
        clock=SystemClock(), idle_seconds=0.25)) for n in range(count)]
    for thread in threads:
        thread.start()
    return stop, threads


def unfinished(database) -> int:
    with database.reader.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM webhook_delivery WHERE status <> 'succeeded'")).scalar_one()


def throughput(url: str, uscc: str, receiver: Receiver, deliveries: int, workers: int,
               policy: delivery.DeliveryPolicy, serial_start: int) -> float:
    """Deliveries per second per worker, draining a backlog of ``deliveries``."""
    database = open_database(url, sealer=SEALER)
    for n in range(deliveries // ENDPOINTS):
        publish(database, uscc, serial_start + n)
    receiver.arrived.clear()
    started = time.perf_counter()
    stop, threads = start_workers(database, workers, policy)
    deadline = started + 600
    while unfinished(database):  # every endpoint's copy, each succeeded
        if time.perf_counter() > deadline:
            raise SystemExit("deliveries did not finish in 10 minutes")
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    stop.set()
    for thread in threads:
        thread.join(30)
    database.dispose()
    return deliveries / elapsed / workers


def raw_posts(receiver: Receiver, count: int, threads: int) -> float:
    """The baseline: the same bodies POSTed from ``threads`` threads, nothing else."""
    body = json.dumps({"type": "bench", "data": {"x": "y" * 200}}).encode()
    with httpx.Client() as client, ThreadPoolExecutor(threads) as pool:
        started = time.perf_counter()
        list(pool.map(lambda _: client.post(receiver.url, content=body), range(count)))
        return count / (time.perf_counter() - started)


def latency(url: str, uscc: str, receiver: Receiver, changes: int, serial_start: int,
            policy: delivery.DeliveryPolicy) -> list[float]:
    """Milliseconds from commit to receipt, one change at a time every 50 ms, worker idle between."""
    database = open_database(url, sealer=SEALER)
    receiver.arrived.clear()
    stop, threads = start_workers(database, 1, policy)
    committed: dict[int, float] = {}
    for n in range(changes):
        seq, at = publish(database, uscc, serial_start + n)
        committed[seq] = at
        time.sleep(0.05)
    deadline = time.perf_counter() + 60
    while any(seq not in receiver.arrived for seq in committed) and time.perf_counter() < deadline:
        time.sleep(0.01)
    stop.set()
    for thread in threads:
        thread.join(30)
    database.dispose()
    return [(receiver.arrived[seq] - at) * 1000 for seq, at in committed.items() if seq in receiver.arrived]


def round_trip_ms(receiver: Receiver, count: int = 200) -> list[float]:
    with httpx.Client() as client:
        samples = []
        for _ in range(count):
            started = time.perf_counter()
            client.post(receiver.url, content=b"{}")
            samples.append((time.perf_counter() - started) * 1000)
        return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=200, help="changes timed commit-to-receipt")
    parser.add_argument("--database-url", default="")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database_url or f"sqlite:///{folder}/bench.db"
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        receiver = Receiver()
        uscc = setup(url, receiver)
        policy = delivery.DeliveryPolicy(allowed_hosts=frozenset({"127.0.0.1"}))
        baseline = raw_posts(receiver, arguments.deliveries, policy.threads)
        one = throughput(url, uscc, receiver, arguments.deliveries, 1, policy, 1_000_000)
        two = throughput(url, uscc, receiver, arguments.deliveries, 2, policy, 2_000_000)
        waits = latency(url, uscc, receiver, arguments.changes, 3_000_000, policy)
        trips = round_trip_ms(receiver)

    rows = [
        ("deliveries/s, 1 worker", f"{one:,.0f}", f"{baseline:,.0f} raw POSTs/s", f"{one / baseline:.2f}"),
        ("deliveries/s per worker, 2 workers (threads of one process)", f"{two:,.0f}", f"{baseline:,.0f} raw POSTs/s", f"{two / baseline:.2f}"),
        ("commit to receipt p50 (ms)", f"{statistics.median(waits):.0f}",
         f"{statistics.median(trips):.1f} ms round trip", f"{statistics.median(waits) / statistics.median(trips):.0f}x"),
        ("commit to receipt p95 (ms)", f"{percentile(waits, 0.95):.0f}",
         f"{percentile(trips, 0.95):.1f} ms round trip", f"{percentile(waits, 0.95) / percentile(trips, 0.95):.0f}x"),
    ]
    report.publish(f"Webhooks on {backend}",
                   [f"{arguments.deliveries} deliveries over {ENDPOINTS} endpoints; {policy.threads} threads per "
                    f"worker, {policy.per_endpoint} per endpoint; workers poll every 0.25 s when idle; "
                    f"{len(waits)}/{arguments.changes} changes timed."],
                   ["measure", "value", "baseline (same run)", "ratio"], rows)


if __name__ == "__main__":
    main()
