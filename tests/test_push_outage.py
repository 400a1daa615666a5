"""Bulk push through an outage: the push command rides out a registry killed and restarted
mid-push, a batch still being applied says when to ask again (409 with Retry-After), a client
that drops mid-body is a client abort whose key resumes at once, and the command's exit codes."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import func, make_url, select
from typer.testing import CliRunner

from cli import push_client
from cli.main import cli
from db.session import transaction
from db.tables import Record
from service.access import clients
from service.batches import running
from tests import factories as f
from tests.database_state import counts
from tests.live_server import free_port, stop

HUAWEI = f.HUAWEI
NDJSON = {"content-type": "application/x-ndjson"}
ROOT = Path(__file__).resolve().parent.parent
PUSH = [sys.executable, "-c", "from cli.main import main; main()"]  # credit-registry, from this tree

# The server as `credit-registry serve` runs it (JSON logs through api.logs, the access log on), on
# a port chosen by the test so that a restarted server is found at the same address.
SERVE = ("import sys, uvicorn; from api import logs; logs.configure('info'); "
         "uvicorn.run('api.app:create_app', factory=True, host='127.0.0.1', port=int(sys.argv[1]), "
         "log_config=None, access_log=False, log_level='info')")


def _start(database_url: str, data_dir: Path, port: int, log: Path, **settings: str) -> subprocess.Popen:
    env = os.environ | {"REGISTRY_DATABASE_URL": database_url, "REGISTRY_DATA_DIR": str(data_dir),
                        "REGISTRY_ACCESS_LOG": "true", "REGISTRY_LOG_LEVEL": "info",
                        "REGISTRY_WEBHOOK_WORKER_IN_PROCESS": "false"} | settings
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-c", SERVE, str(port)], env=env, cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"server did not start: {log.read_text(errors='replace')[-2000:]}")


@contextmanager
def _server(database_url: str, data_dir: Path, port: int, log: Path, **settings: str) -> Iterator[subprocess.Popen]:
    process = _start(database_url, data_dir, port, log, **settings)
    try:
        yield process
    finally:
        stop(process)


def _importer(unit_of_work, clock):
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        return clients.create(session, "SZAMR", name="importer", scopes=["records:write"], now=clock.now())


def _ratings(count: int) -> list[str]:
    # Ratings: nothing but the batch tells one from a repeat, so a line entered twice is two records.
    lines = [json.dumps({"type": "organization", "code": HUAWEI, "name": "华为技术有限公司"}, ensure_ascii=False)]
    for n in range(count):
        fields = f.rating(evaluated_on=date(2015, 1, 1) + timedelta(days=n)).model_dump(mode="json",
                                                                                      exclude_none=True)
        lines.append(json.dumps({"type": "rating", "code": HUAWEI, **fields}, ensure_ascii=False))
    return lines


def _records(db) -> int:
    # Through the reader: counts() takes SQLite's write lock, so a poll would queue behind the
    # server's chunks and see them late.
    with db.reader.connect() as connection:
        return connection.execute(select(func.count()).select_from(Record)).scalar_one()


def _log_lines(log: Path) -> list[dict]:
    entries = []
    for text in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entries.append(json.loads(text))
        except ValueError:
            entries.append({"msg": text})  # not ours (a stray print): kept, so a traceback still shows
    return entries


class TestPushThroughAnOutage:
    def test_one_run_rides_out_a_registry_killed_and_restarted_mid_push(self, db, database_url, data_dir,
                                                                        unit_of_work, clock, tmp_path) -> None:
        made = _importer(unit_of_work, clock)
        ratings = 2500  # one batch of five chunks: a kill after the first lands inside the batch
        source = tmp_path / "ratings.ndjson"
        source.write_text("\n".join(_ratings(ratings)) + "\n", encoding="utf-8")
        port, log = free_port(), tmp_path / "server.log"
        # A resume wait of 15 s instead of 120: the killed server's batch is left running, and the
        # restarted one cannot know its request died; the client waits out the 409's Retry-After.
        # (Long enough that the client's first try after the restart falls inside it.)
        settings = {"REGISTRY_BATCH_RESUME_SECONDS": "15"}
        first = _start(database_url, data_dir, port, log, **settings)
        push = subprocess.Popen(
            [*PUSH, "push", str(source), "--url", f"http://127.0.0.1:{port}", "--client-id",
             made.client.client_id, "--client-secret", made.secret, "--batch-lines", "5000",
             "--give-up-after", "60"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ | {"COLUMNS": "200"})
        try:
            deadline = time.monotonic() + 60
            while _records(db) == 0 and push.poll() is None and time.monotonic() < deadline:  # a first chunk is in
                time.sleep(0.01)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            stored_at_kill = _records(db)
            assert 0 < stored_at_kill < ratings, stored_at_kill  # killed mid-push
            time.sleep(1)  # the outage: nothing listens on the port (and then while it starts)
            with _server(database_url, data_dir, port, log, **settings):
                output, _ = push.communicate(timeout=120)
        finally:
            if push.poll() is None:
                push.kill()
            if first.poll() is None:
                first.kill()
        text = output.decode(errors="replace")
        assert push.returncode == 0, text
        assert "no answer" in text and "retrying" in text  # it waited through the outage
        assert "409 Batch in progress; retrying" in text
        # The killed request left no log line; after the restart one 409, whose Retry-After the
        # client waited out to the second, then the resumed batch: no polling of a busy key.
        posts = [e["status"] for e in _log_lines(log) if e.get("path") == "/v1/batches"]
        assert posts == [409, 200], posts
        assert f"{ratings + 1} accepted, 0 duplicates, 0 rejected" in text, text
        assert counts(db)[0] == ratings  # every rating stored exactly once

    def test_it_gives_up_after_the_give_up_time_with_the_reason(self, tmp_path) -> None:
        source = tmp_path / "one.ndjson"
        source.write_text("{}\n", encoding="utf-8")
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["push", str(source), "--url", f"http://127.0.0.1:{free_port()}",
                                          "--client-id", "x", "--client-secret", "y", "--give-up-after", "2"])
        took = time.monotonic() - started
        assert result.exit_code == 2, result.output
        assert "gave up after 2 s of no answer" in result.output
        assert 1.5 < took < 10  # it kept trying for the give-up time, and no longer

    def test_bad_usage_exits_3(self, tmp_path) -> None:
        source = tmp_path / "one.ndjson"
        source.write_text("{}\n", encoding="utf-8")
        credentials = ["--client-id", "x", "--client-secret", "y"]
        for arguments in ([str(tmp_path / "missing.ndjson"), *credentials], [str(source)],
                          [str(source), *credentials, "--charset", "latin-1"],
                          [str(source), *credentials, "--give-up-after", "soon"],
                          [str(source), *credentials, "--no-such-option"]):
            result = CliRunner().invoke(cli, ["push", *arguments])
            assert result.exit_code == 3, (arguments, result.output)


    def test_the_token_and_the_results_pages_are_retried_while_the_database_is_busy(
            self, db, database_url, data_dir, unit_of_work, clock, tmp_path) -> None:
        made = _importer(unit_of_work, clock)
        # More lines than come back inline, the last one rejected: its result is on a page.
        lines = [*_ratings(1000), json.dumps({"type": "rating", "code": HUAWEI, "grade": ""})]
        source = tmp_path / "ratings.ndjson"
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        [batch] = push_client.batches(source, format_="ndjson", size=5000)
        waits: list[str] = []
        with _server(database_url, data_dir, free_port(), tmp_path / "server.log",
                     REGISTRY_DATABASE_WAIT_SECONDS="0.5") as server, _busy_for(database_url, 2.5):
            pusher = push_client.Pusher(_base(server), made.client.client_id, made.secret, give_up_after=30,
                                        on_wait=lambda what, reason, *_: waits.append(f"{what}: {reason}"))
            try:
                result = pusher.send(batch, source=source, content_type="application/x-ndjson", atomic=False)
                assert result["accepted"] == 1001 and result["rejected"] == 1
                assert any(w.startswith("token: 503") for w in waits), waits
                with _busy_for(database_url, 2.5):
                    problems = pusher.problems(result)
            finally:
                pusher.close()
        assert [p["line"] for p in problems] == [1002]
        assert any(w.startswith(f"results of batch {result['id']}: 503") for w in waits), waits


@contextmanager
def _busy_for(database_url: str, seconds: float) -> Iterator[None]:
    """Every audited call (the token endpoint, a results page) is refused with 503 while another
    client of the database holds what it needs; released after ``seconds`` from another thread."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(url.database, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
    else:
        other = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
        other.execute("LOCK TABLE audit_entry IN ACCESS EXCLUSIVE MODE")
    release = threading.Timer(seconds, other.rollback)
    release.start()
    try:
        yield
    finally:
        release.join()
        other.close()


def _base(server: subprocess.Popen) -> str:
    return f"http://127.0.0.1:{server.args[-1]}"


class TestBatchInProgress:
    def test_409_says_when_the_key_may_resume(self, client, parties, clock) -> None:
        a = parties["a"].headers
        body = "\n".join(_ratings(3)) + "\n"
        keyed = a | NDJSON | {"Idempotency-Key": "in-flight-1"}
        in_progress = _start_in_flight(client, parties, clock, key="in-flight-1")  # a request applying it now
        busy = client.post("/v1/batches", headers=keyed, content=body)
        assert busy.status_code == 409 and busy.headers["content-type"] == "application/problem+json"
        assert busy.json()["type"] == "/problems/batch-in-progress"
        assert busy.headers["retry-after"] == "120"  # REGISTRY_BATCH_RESUME_SECONDS of silence from now
        clock.advance(seconds=100)
        assert client.post("/v1/batches", headers=keyed, content=body).headers["retry-after"] == "20"
        clock.advance(seconds=21)
        resumed = client.post("/v1/batches", headers=keyed, content=body)
        assert resumed.status_code == 200 and resumed.json()["id"] == in_progress


def _start_in_flight(client, parties, clock, *, key: str) -> str:
    database = client.app.state.database
    batch, _, _ = running.start(lambda: transaction(database), department_code="SZAMR",
                             client_id=parties["a"].client_id, scopes=frozenset({"records:write"}), key=key,
                             format="ndjson", atomic=False, now=clock.now())
    return batch.id


class TestClientAbort:
    def test_a_client_gone_mid_body_is_logged_as_an_abort_and_its_key_resumes_at_once(
            self, db, database_url, data_dir, unit_of_work, clock, tmp_path) -> None:
        made = _importer(unit_of_work, clock)
        lines = _ratings(running.CHUNK_LINES + 300)
        body = ("\n".join(lines) + "\n").encode()
        half = ("\n".join(lines[:running.CHUNK_LINES + 100]) + "\n").encode()  # a whole chunk and some
        port, log, key = free_port(), tmp_path / "server.log", "aborted-upload-1"
        # The default resume wait (120 s): only the server marking the batch cut short lets the
        # same key go on at once.
        with _server(database_url, data_dir, port, log):
            base = f"http://127.0.0.1:{port}"
            token = httpx.post(f"{base}/v1/auth/token", data={"grant_type": "client_credentials", "client_id":
                               made.client.client_id, "client_secret": made.secret}).json()["access_token"]
            with socket.create_connection(("127.0.0.1", port)) as raw:
                raw.sendall((f"POST /v1/batches HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                             f"Content-Type: application/x-ndjson\r\nIdempotency-Key: {key}\r\n"
                             f"Content-Length: {len(body)}\r\n\r\n").encode() + half)
                deadline = time.monotonic() + 20
                while _records(db) < running.CHUNK_LINES - 1 and time.monotonic() < deadline:
                    time.sleep(0.05)  # the first chunk is applied and committed
                assert counts(db)[0] == running.CHUNK_LINES - 1  # the organization line is no record
            deadline = time.monotonic() + 10  # the server hears the close and answers for it
            while not any(e.get("status") == 499 for e in _log_lines(log)) and time.monotonic() < deadline:
                time.sleep(0.05)
            resumed = httpx.post(f"{base}/v1/batches", headers={"Authorization": f"Bearer {token}",
                                                                "Idempotency-Key": key} | NDJSON,
                                 content=body, timeout=30)
            assert resumed.status_code == 200, resumed.text  # at once: no 409, no 120 s wait
            assert resumed.json()["accepted"] == len(lines) and resumed.json()["status"] == "completed"
        assert counts(db)[0] == len(lines) - 1  # every rating once
        entries = _log_lines(log)
        posts = [e for e in entries if e.get("logger") == "registry.access" and e.get("path") == "/v1/batches"]
        assert [e["status"] for e in posts] == [499, 200], posts
        assert not any("exc" in e or "Traceback" in e.get("msg", "") for e in entries), entries
        assert not any(e.get("status") == 500 or e.get("level") == "error" for e in entries), entries
        assert any("client aborted" in e.get("msg", "") for e in entries)
