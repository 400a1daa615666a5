"""Overload answers 503 with Retry-After at once, never a 500 or an endless wait: past the
in-flight cap of a process, and when the database does not give a lock within
``database_wait_seconds``. (The 60-second run at twice the saturation rate is `make overload`.)"""

import asyncio
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.middleware.overload import Budget, budget_of
from service.access import clients
from tests import factories as f
from tests.conftest import LOG_LINES
from tests.database_state import audit_statuses, counts, write_lock_held_elsewhere
from tests.live_server import live_server

PROBLEM = "application/problem+json"


def department_client(unit_of_work, clock, scope: str):
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        return clients.create(session, "SZAMR", name="overload", scopes=[scope], now=clock.now())


def poller_token(base: str, made) -> str:
    return httpx.post(f"{base}/v1/auth/token", data={"grant_type": "client_credentials", "client_id":
                      made.client.client_id, "client_secret": made.secret}).json()["access_token"]


def long_polls(base: str, token: str, count: int, wait: int, statuses: list[int] | None = None) -> list[threading.Thread]:
    def poll() -> None:
        response = httpx.get(f"{base}/v1/events", params={"wait": wait}, headers={"Authorization": f"Bearer {token}"},
                             timeout=10)
        if statuses is not None:
            statuses.append(response.status_code)

    polls = [threading.Thread(target=poll) for _ in range(count)]
    for thread in polls:
        thread.start()
    return polls


def test_past_the_in_flight_cap_a_request_waits_briefly_then_is_refused(db, database_url, tmp_path, unit_of_work,
                                                                         clock) -> None:
    made = department_client(unit_of_work, clock, "records:read")
    with live_server(database_url, tmp_path / "data", REGISTRY_MAX_IN_FLIGHT_DEPARTMENT="2",
                     REGISTRY_ADMISSION_WAIT_SECONDS="0.5") as base:
        token = poller_token(base, made)
        # Two long polls fill the department budget: the next department request waits its 0.5 s
        # for a place, then is refused; public requests and health checks still answer.
        polls = long_polls(base, token, 2, wait=3)
        time.sleep(1.0)
        started = time.monotonic()
        refused = httpx.get(f"{base}/v1/events", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert refused.status_code == 503 and 0.5 <= time.monotonic() - started < 1.5
        assert refused.headers["content-type"] == PROBLEM and refused.headers["retry-after"] == "2"
        assert "capacity" in refused.json()["detail"]
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        assert httpx.get(f"{base}/v1/public/lists/black", timeout=10).status_code == 200
        for poll in polls:
            poll.join(10)
        assert httpx.get(f"{base}/v1/events", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200


def test_a_request_that_finds_the_budget_full_gets_the_next_free_place(db, database_url, tmp_path, unit_of_work,
                                                                        clock) -> None:
    made = department_client(unit_of_work, clock, "records:read")
    # A short body idle limit too: a long poll waiting past it (its body long complete) is no stall.
    with live_server(database_url, tmp_path / "data", REGISTRY_MAX_IN_FLIGHT_DEPARTMENT="1",
                     REGISTRY_ADMISSION_WAIT_SECONDS="5", REGISTRY_BODY_IDLE_SECONDS="0.5") as base:
        token = poller_token(base, made)
        polled: list[int] = []
        polls = long_polls(base, token, 1, wait=2, statuses=polled)
        time.sleep(0.5)
        started = time.monotonic()
        admitted = httpx.get(f"{base}/v1/events", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        waited = time.monotonic() - started
        polls[0].join(10)
    assert admitted.status_code == 200 and polled == [200]
    assert 1.0 <= waited < 4.5  # the long poll's remaining ~1.5 s, not refused, not the whole 5 s


def test_a_body_that_stops_arriving_is_refused_and_frees_its_place(db, database_url, tmp_path) -> None:
    with live_server(database_url, tmp_path / "data", REGISTRY_BODY_IDLE_SECONDS="1",
                     REGISTRY_MAX_IN_FLIGHT_DEPARTMENT="1") as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as stalled:
            # Promises 100 bytes, sends 10, then nothing: it holds the department's only place. The
            # clock starts before the send: the server's idle second runs from the moment the bytes
            # arrive, which can be before sendall returns (CI once measured 0.9998 s after it).
            started = time.monotonic()
            stalled.sendall(b"POST /v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
                            b"grant_type")
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                piece = stalled.recv(4096)
                if not piece:
                    break
                answer += piece
            waited = time.monotonic() - started
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer
        assert b"content-type: application/problem+json" in head.lower()
        assert "stalled" in json.loads(body)["detail"]
        assert 1 <= waited < 5
        # Its place is free again: the next department request gets in (and is refused for its content).
        assert httpx.post(f"{base}/v1/auth/token", data={"grant_type": "client_credentials"},
                          timeout=10).status_code in (400, 401)


def test_places_go_to_waiters_in_the_order_they_came() -> None:
    async def scenario() -> tuple[list[str], bool]:
        budget, order = Budget(1), []
        assert await budget.admit(0)

        async def request(name: str) -> None:
            assert await budget.admit(5)
            order.append(name)
            await asyncio.sleep(0.01)
            budget.release()

        waiters = []
        for name in ("first", "second", "third"):
            waiters.append(asyncio.create_task(request(name)))
            await asyncio.sleep(0.01)
        # Arrives just as the place frees: it still queues behind those already waiting.
        newcomer = asyncio.create_task(request("newcomer"))
        budget.release()
        await asyncio.gather(*waiters, newcomer)
        full = Budget(1)
        await full.admit(0)
        refused = [not await full.admit(0.001) for _ in range(200)]
        return order, await full.admit(0), all(refused) and len(full.waiting) <= 2

    order, admitted_without_waiting, refusals_left_no_trace = asyncio.run(scenario())
    assert order == ["first", "second", "third", "newcomer"]
    assert admitted_without_waiting is False  # a full budget and no wait: refused
    assert refusals_left_no_trace  # waiters that gave up while nothing was released do not pile up


@pytest.mark.parametrize(("method", "path", "budget"), [
    ("GET", f"/v1/public/organizations/{f.HUAWEI}", "lookup"),
    ("HEAD", f"/v1/public/organizations/{f.HUAWEI}", "lookup"),
    ("GET", "/v1/public/organizations", "public"),  # the name search runs on the thread pool
    ("POST", "/v1/public/objections", "public"),
    ("GET", "/lists/black", "public"),
    ("GET", "/docs", "public"),  # not the department's places
    ("GET", "/no/such/page", "public"),
    ("GET", "/v1/records", "department"),
    ("POST", "/v1/auth/token", "department"),
])
def test_each_request_counts_against_the_budget_of_where_it_runs(method, path, budget) -> None:
    assert budget_of(method, path) == budget


def test_a_write_that_cannot_get_its_lock_in_time_is_a_503_and_writes_nothing(db, settings, clock, parties) -> None:
    app = create_app(settings.model_copy(update={"database_wait_seconds": 0.5}), clock=clock)
    headers = parties["a"].headers
    with TestClient(app, raise_server_exceptions=False) as client:
        client.put(f"/v1/organizations/{f.HUAWEI}", headers=headers, json={"name": "华为技术有限公司"})
        before, audited_before = counts(db), audit_statuses(db)
        body = f.violation().model_dump(mode="json", exclude_none=True)
        with write_lock_held_elsewhere(settings.database_url):
            started = time.monotonic()
            response = client.post(f"/v1/organizations/{f.HUAWEI}/violations", headers=headers, json=body)
            waited = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == PROBLEM and response.headers["retry-after"] == "2"
        assert "nothing was changed" in response.json()["detail"]
        assert waited < 5
        assert counts(db) == before
        # The refused call is accounted for: its audit entry is tried briefly (PostgreSQL takes it:
        # the audit table is not locked); on SQLite the lock is still held, so the log names it.
        audited = audit_statuses(db)[len(audited_before):]
        logged = any("not audited (database busy)" in line and response.headers["x-request-id"] in line
                     for line in LOG_LINES)
        assert (audited == [] and logged) if db.is_sqlite else (audited == [503] and not logged)
        again = client.post(f"/v1/organizations/{f.HUAWEI}/violations", headers=headers, json=body)
        assert again.status_code == 201  # the lock gone, the same request goes through


def test_a_write_waits_at_most_the_database_wait_in_all_for_its_turn_and_the_lock(db, database_url, tmp_path,
                                                                                 unit_of_work, clock) -> None:
    """On SQLite a write first waits for its process's turn, then for the file lock against other
    processes: one budget for both, so a refused write never waited twice the setting."""
    if not db.is_sqlite:
        pytest.skip("the turn gate is SQLite's")
    made = department_client(unit_of_work, clock, "records:write")
    wait = 2.0
    body = f.violation().model_dump(mode="json", exclude_none=True)
    with live_server(database_url, tmp_path / "data", REGISTRY_DATABASE_WAIT_SECONDS=str(wait)) as base:
        headers = {"Authorization": f"Bearer {poller_token(base, made)}"}
        assert httpx.put(f"{base}/v1/organizations/{f.HUAWEI}", headers=headers,
                         json={"name": "华为技术有限公司"}).status_code in (200, 201)

        def post() -> tuple[int, float]:
            started = time.monotonic()
            response = httpx.post(f"{base}/v1/organizations/{f.HUAWEI}/violations", headers=headers, json=body,
                                  timeout=20)
            return response.status_code, time.monotonic() - started

        with write_lock_held_elsewhere(database_url), ThreadPoolExecutor(2) as pool:
            first = pool.submit(post)
            time.sleep(0.5)  # the second queues behind the first, which holds the turn while it waits
            second = pool.submit(post)
            outcomes = [first.result(), second.result()]
    assert [status for status, _ in outcomes] == [503, 503]
    # Waiting its full budget for the turn and again for the lock, the second took wait + 1.5 s.
    assert all(waited < wait + 0.9 for _, waited in outcomes), outcomes
