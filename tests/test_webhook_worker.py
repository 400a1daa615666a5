"""The delivery worker as it runs in production: threads, per-endpoint caps over several workers,
a whole-attempt deadline, the address check at connect time, and a worker process killed with
SIGKILL mid-delivery whose job another process takes over after the lease."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace

import pytest
from sqlmodel import select

from db.session import transaction
from db.tables import WebhookDelivery
from service.sync.webhooks import delivery
from tests.webhook_receivers import FAST, TrickleReceiver, push_violation, run_until_idle, waiting_deliveries


def running_workers(db, policy, owners, clock):
    """Start ``run`` loops (one per owner) in threads; returns the function that stops them."""
    stop = threading.Event()
    threads = [threading.Thread(target=delivery.run, daemon=True,
                                kwargs=dict(unit_of_work=lambda: transaction(db), owner=owner, policy=policy,
                                            stop=stop, clock=clock, idle_seconds=0.05))
               for owner in owners]
    for thread in threads:
        thread.start()

    def halt() -> None:
        stop.set()
        for thread in threads:
            thread.join(10)

    return halt


def wait_until(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_slow_receiver_does_not_hold_up_the_others(client, parties, db, clock, hooked, receivers) -> None:
    slow, quick = receivers(delay=0.5), receivers()
    hooked(slow.url)
    for _ in range(6):  # a backlog for the slow endpoint, due before anything for the quick one
        push_violation(client, parties)
    hooked(quick.url)
    push_violation(client, parties)

    policy = replace(FAST, threads=4, per_endpoint=2)
    halt = running_workers(db, policy, ["worker-1", "worker-2"], clock)  # two workers share the cap
    try:
        started = time.monotonic()
        quick.wait_for(1)
        assert time.monotonic() - started < 0.45  # before the slow receiver answered anything
        wait_until(lambda: len(slow.received) == 7 and not waiting_deliveries(db))
    finally:
        halt()
    assert slow.max_in_flight == 2  # its cap, over both workers, and used
    assert len({headers["webhook-id"] for headers, _ in slow.received}) == 7


def test_the_deadline_covers_the_whole_attempt(client, parties, db, clock, hooked, receivers) -> None:
    trickle = receivers(0.4, kind=TrickleReceiver)  # 38 bytes, 0.4 s each: 15 s in all, each read quick
    endpoint_id, _, headers = hooked(trickle.url)
    push_violation(client, parties)
    with delivery.http_client(FAST) as http:
        started = time.monotonic()
        delivery.deliver_due(lambda: transaction(db), http, owner="w", policy=FAST, clock=clock)
        assert time.monotonic() - started < FAST.attempt_seconds + 1.0
    log = client.get(f"/v1/webhooks/endpoints/{endpoint_id}/deliveries", headers=headers).json()
    assert log[0]["attempt_log"][0]["error"] == "timeout"


@pytest.fixture
def resolver(monkeypatch):
    """DNS for made-up names, answered in turn (the last answer repeats); real DNS for the rest."""
    answers: dict[str, list[str]] = {}
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        address = answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0]
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, asked


def test_dns_that_changes_to_loopback_after_saving_is_refused_at_connect(client, parties, db, clock, hooked,
                                                                         receivers, resolver) -> None:
    receiver = receivers()
    answers, _ = resolver
    answers["rebind.example"] = ["93.184.216.34", "127.0.0.1"]  # public when saved, loopback when sent
    endpoint_id, _, headers = hooked(f"http://rebind.example:{receiver.port}/hooks")
    push_violation(client, parties)
    with delivery.http_client(FAST) as http:
        delivery.deliver_due(lambda: transaction(db), http, owner="w", policy=FAST, clock=clock)
    assert receiver.received == []
    log = client.get(f"/v1/webhooks/endpoints/{endpoint_id}/deliveries", headers=headers).json()
    assert log[0]["attempt_log"][0]["error"] == "blocked_destination"


def test_the_connection_goes_to_the_address_that_was_checked(clock, receivers, resolver) -> None:
    # A second lookup would get 127.0.0.2, where nothing listens: only one lookup may happen.
    receiver = receivers()
    answers, asked = resolver
    answers["pinned.example"] = ["127.0.0.1", "127.0.0.2"]
    policy = replace(FAST, allowed_hosts=FAST.allowed_hosts | {"pinned.example"})
    with delivery.http_client(policy) as http:
        outcome = delivery.test_ping(http, endpoint_id="whe_x", url=f"http://pinned.example:{receiver.port}/",
                                             secrets=["whsec_" + "A" * 32], policy=policy, now=clock.now())
    assert outcome.status_code == 200 and asked == ["pinned.example"]
    assert len(receiver.received) == 1


def _worker_process(database_url: str, data_dir) -> subprocess.Popen:
    environment = os.environ | {
        "REGISTRY_DATABASE_URL": database_url, "REGISTRY_DATA_DIR": str(data_dir), "REGISTRY_ENVIRONMENT": "test",
        "REGISTRY_WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1"]', "REGISTRY_WEBHOOK_ATTEMPT_SECONDS": "1",
        "REGISTRY_WEBHOOK_LEASE_SECONDS": "1", "REGISTRY_WEBHOOK_POLL_SECONDS": "0.1",
    }
    return subprocess.Popen([sys.executable, "-c", "from cli.main import main; main()", "worker"], env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_killed_worker_process_is_taken_over_after_its_lease(client, parties, db, database_url, data_dir,
                                                               hooked, receivers) -> None:
    receiver = receivers(hold=1)  # the first request is never answered while the worker lives
    hooked(receiver.url)
    push_violation(client, parties)
    first = _worker_process(database_url, data_dir)
    try:
        receiver.wait_for(1, seconds=20)
        first.send_signal(signal.SIGKILL)  # mid-delivery: claimed, sent, no answer yet
        first.wait(10)
        [held] = waiting_deliveries(db)
        assert held.status == "sending" and held.attempts == 0

        second = _worker_process(database_url, data_dir)
        try:
            receiver.wait_for(2, seconds=20)
            wait_until(lambda: not waiting_deliveries(db))
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(20) == 0, second.stderr.read().decode()[-2000:] if second.stderr else ""
    finally:
        if first.poll() is None:
            first.kill()
    (first_headers, first_body), (second_headers, second_body) = receiver.received
    assert first_headers["webhook-id"] == second_headers["webhook-id"]  # the receiver can tell it is the same
    assert json.loads(first_body) == json.loads(second_body)
    with transaction(db) as session:
        sent = session.exec(select(WebhookDelivery)).one()
    assert sent.status == "succeeded" and sent.attempts == 1 and sent.lease_owner is None


def test_a_worker_round_survives_a_receiver_that_resets(client, parties, db, clock, hooked, receivers) -> None:
    # Nothing listening: a connection error is an attempt like any other, retried on the schedule.
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    endpoint_id, _, headers = hooked(f"http://127.0.0.1:{port}/hooks")
    push_violation(client, parties)
    run_until_idle(db, clock)
    log = client.get(f"/v1/webhooks/endpoints/{endpoint_id}/deliveries", headers=headers).json()
    assert log[0]["status"] == "failed"
    assert [a["error"] for a in log[0]["attempt_log"]] == ["transport: ConnectError"] * 3
