"""Crash safety: the real server and the real delivery worker as processes, killed with SIGKILL
at random moments while several clients write (single records and batches), then restarted.

After every trial:
- every acknowledged record is there (GET /v1/records lists it) and has its event in the feed;
- the event log has no gap and no repeat (sequence numbers 1..N once each, in the database and as
  the department reads them);
- every write is stored once: a write sent again with its Idempotency-Key gets its first answer,
  and the database holds one record per acknowledged write;
and at the end every event reached the webhook receiver on 127.0.0.1 at least once.

A write whose answer never came (the server died first) is in doubt: the client sends it again
with the same Idempotency-Key after the restart, as a real client must, and it must then be there
exactly once. Some acknowledged writes are sent again too: a client whose answer was lost cannot
tell it from a lost request.

The restart trial (``restart_run``, PostgreSQL only) restarts the database itself under traffic
(``pg_ctl restart -m fast`` and ``-m immediate``) while clients look organizations up, search and
write: every answer must be a 2xx or a 503 with Retry-After (never a 500), and the first request
of each kind sent after the database is back must succeed (pooled connections that died with the
old server are noticed and replaced, not handed to a caller).

Negative controls (``CONTROLS``): builds with one defect each, which the check made for it must
report, so that no check passes only because it cannot fail: a build that answers before it
commits, a worker that skips webhook sends, event numbers handed out without the counter's lock,
and a retried write inserted again.

    python -m tests.crash_harness --trials 20 [--database-url URL]...
    python -m tests.crash_harness --negative-control {NAME,all} [--database-url URL]...
    python -m tests.crash_harness --restart-cluster DIR --trials 5   (a cluster of scripts/pg-throwaway.sh)

A PostgreSQL ``--database-url`` is emptied before each run. The last line printed summarizes
trials, acknowledged writes, losses and status codes; a negative control prints one line saying
whether each database caught it.
"""

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from tests import live_traffic
from tests.database_state import empty_postgres

ROOT = Path(__file__).resolve().parent.parent
CLI = [str(Path(sys.executable).parent / "credit-registry")]
CLIENTS = 4


def _codes() -> list[str]:
    from service.codes import make_uscc

    return [make_uscc("91", "440300", f"CR{n:06d}") for n in range(8)]


# --- the defective builds (negative controls) ------------------------------------------------

def acknowledge_before_commit():
    """The app, except that a department write answers before it commits (0.3 s later, in
    another thread): exactly the bug this harness exists to catch."""
    from fastapi import Request
    from sqlmodel import Session

    from api.app import create_app
    from api.deps import get_session
    from api.request_audit import record_success

    app = create_app()

    def commit_later(session: Session) -> None:
        time.sleep(0.3)
        session.commit()
        session.close()

    def session_committed_after_the_answer(request: Request):
        if request.method == "GET":  # reads as usual: the harness checks through them
            yield from get_session(request)
            return
        session = Session(app.state.database.writer, expire_on_commit=False,
                          info={"sealer": app.state.database.sealer})  # as db.session.transaction gives it
        session.begin()
        yield session
        record_success(session, request)
        threading.Thread(target=commit_later, args=(session,), daemon=True).start()

    app.dependency_overrides[get_session] = session_committed_after_the_answer
    return app


SEQUENCE_CACHE = 100


def unlocked_sequence():
    """The app, except that event numbers are handed out by the process from a block of 100 it
    reserved once, as a sequence with a cache does, instead of taken from the counter row whose
    lock each writer holds until it commits. A writer that dies does not give its numbers back
    (nor, on PostgreSQL, do numbers follow commit order any more): the log gets gaps. On SQLite,
    where writers take turns, numbers taken inside the transaction cannot go wrong: they must come
    from outside it, as here, for the defect to exist at all."""
    from api.app import create_app
    from db.repositories.events import EventRepository

    take_locked = EventRepository.next_seqs
    cache_lock = threading.Lock()
    cached = range(0)

    def next_seqs(self: EventRepository, count: int) -> range:
        nonlocal cached
        with cache_lock:
            if len(cached) < count:
                cached = take_locked(self, max(count, SEQUENCE_CACHE))
            seqs, cached = cached[:count], cached[count:]
        return seqs

    EventRepository.next_seqs = next_seqs  # type: ignore[method-assign]
    return create_app()


def insert_again_on_retry():
    """The app, except that a single write sent again with its Idempotency-Key is carried out
    again instead of answered from the stored first response: a retry stores a second record."""
    import api.idempotent
    from api.app import create_app

    api.idempotent.run_once = lambda session, *, produce, **_: (produce(), False)  # type: ignore[assignment]
    return create_app()


def worker_skipping_sends() -> None:
    """``credit-registry worker``, except that for about a third of the events it records the
    delivery as succeeded without sending anything."""
    import zlib

    from cli import main
    from service.sync.webhooks import delivery

    send = delivery.attempt

    def attempt(client, pending, secrets, policy, *, started_at):
        if zlib.crc32(pending.event_id.encode()) % 3 == 0:
            return delivery.Outcome(started_at, 0, status_code=200)
        return send(client, pending, secrets, policy, started_at=started_at)

    delivery.attempt = attempt
    main.worker()


def _python(function: str) -> list[str]:
    """The command that runs ``module:function`` in a new interpreter."""
    module, name = function.split(":")
    return [sys.executable, "-c", f"from {module} import {name}; {name}()"]


@dataclass(frozen=True)
class Build:
    """What the installation runs. A negative control also says how many trials it gets (it is
    caught in the first it can be: more only cost time) and the words of the problems that must
    be reported for it, each in at least one problem."""

    app: str = "api.app:create_app"
    worker: str | None = None  # ``module:function`` in place of ``credit-registry worker``
    trials: int = 20
    caught_by: tuple[str, ...] = ()

    def worker_command(self) -> list[str]:
        return _python(self.worker) if self.worker else [*CLI, "worker"]

    def caught(self, problems: list[str]) -> bool:
        return all(any(words in problem for problem in problems) for words in self.caught_by)


REAL_BUILD = Build()
CONTROLS = {
    "answer-before-commit": Build(app="tests.crash_harness:acknowledge_before_commit", trials=6,
                                  caught_by=("acknowledged records",)),
    "skip-webhook-sends": Build(worker="tests.crash_harness:worker_skipping_sends", trials=1,
                                caught_by=("never reached the webhook receiver",)),
    # The first trial's restart loses the rest of the block; the next writes show the gap.
    "unlocked-sequence": Build(app="tests.crash_harness:unlocked_sequence", trials=2,
                               caught_by=("the event log is not 1..N", "the feed is not 1..N")),
    "duplicate-insert": Build(app="tests.crash_harness:insert_again_on_retry", trials=2,
                              caught_by=("stored twice",)),
}


# --- processes -------------------------------------------------------------------------------

@dataclass
class Installation:
    database_url: str
    data_dir: Path
    factory: str
    port: int
    env: dict[str, str] = field(default_factory=dict)
    worker_command: list[str] = field(default_factory=lambda: [*CLI, "worker"])
    server: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        # Under pytest, what the server answers the public and both processes log are scanned at the
        # end of the session (tests/live_traffic.py); run alone, nothing is kept.
        with live_traffic.log_file("crash-server") as log:
            self.server = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", live_traffic.RECORDED_APP, "--host", "127.0.0.1",
                 "--port", str(self.port), "--log-level", "warning"],
                env=self.env | {live_traffic.INNER_FACTORY: self.factory}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        with live_traffic.log_file("crash-worker") as log:
            self.worker = subprocess.Popen(self.worker_command, env=self.env, cwd=ROOT, stdout=log,
                                           stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill(self, process: subprocess.Popen | None) -> None:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)

    def stop(self) -> None:
        running = [process for process in (self.server, self.worker) if process is not None and process.poll() is None]
        for process in running:  # both at once: each takes a while to shut down
            process.terminate()
        for process in running:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


# --- clients ---------------------------------------------------------------------------------

@dataclass
class Write:
    """One request as a client keeps it until it has an answer: sent again, unchanged, when the
    server died before answering."""
    key: str
    path: str
    body: bytes
    content_type: str


@dataclass
class Ledger:
    acknowledged: set[str] = field(default_factory=set)
    # The records each write was answered with (a single write by its key, a batch line as
    # key#line), over every time it was sent: one each, or it was stored twice.
    answers: dict[str, set[str]] = field(default_factory=dict)
    singles: dict[str, Write] = field(default_factory=dict)  # acknowledged single writes, to send again
    in_doubt: list[Write] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def settle(self, write: Write, response: httpx.Response) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code >= 500:
                self.problems.append(f"{write.path} answered {response.status_code}")
                return
            if response.status_code >= 400:
                self.problems.append(f"{write.path} answered {response.status_code}: {response.text[:300]}")
                return
            body = response.json()
            if "results" not in body:
                self._answered(write.key, body["id"])
                self.singles[write.key] = write
                return
            # Every line of these batches is new: anything but "accepted" (a duplicate after a
            # resend, say) means the batch was applied twice or lost its place.
            for result in body["results"]:
                if result["outcome"] == "accepted":
                    self._answered(f"{write.key}#{result['line']}", result["record_id"])
            refused = [r for r in body["results"] if r["outcome"] != "accepted"]
            if refused or body["status"] != "completed" or body["accepted"] != 10:
                self.problems.append(f"batch {body['id']}: {body['status']}, {body['accepted']} accepted, "
                                     f"e.g. {refused[:1]}")

    def _answered(self, write: str, record_id: str) -> None:
        self.answers.setdefault(write, set()).add(record_id)
        self.acknowledged.add(record_id)

    def doubt(self, write: Write) -> None:
        with self.lock:
            self.statuses["no answer"] += 1
            self.in_doubt.append(write)


def _violation(number: str) -> dict:
    return {"decision_no": f"深市监罚〔2026〕{number}号", "decided_on": "2026-05-01", "authority": "深圳市市场监督管理局",
            "category": "产品质量抽查不合格", "legal_basis": "《中华人民共和国产品质量法》第四十九条",
            "penalty": "警告，罚款人民币5万元", "penalty_types": ["warning", "fine"], "severity": "general",
            "fine_amount": "50000"}


def _disclosure(number: str) -> dict:
    # No decision number, so no natural key: only the Idempotency-Key keeps a retry from storing it twice.
    return {"kind": "commitment", "title": f"质量诚信承诺书（{number}）", "body": "本企业承诺严格遵守产品质量法律法规。",
            "published_on": "2026-05-01"}


def _writes(rng: random.Random, prefix: str, codes: list[str]) -> Iterator[Write]:
    serial = 0
    while True:
        serial += 1
        key = f"{prefix}-{serial}"
        # A client's first write is a disclosure, so that each trial has some to send again.
        if (draw := rng.random() if serial > 1 else 0.6) < 0.7:
            kind, body = ("violations", _violation(key)) if draw < 0.55 else ("disclosures", _disclosure(key))
            yield Write(key, f"/v1/organizations/{rng.choice(codes)}/{kind}", json.dumps(body).encode(),
                        "application/json")
        else:
            lines = [json.dumps({"type": "violation", "code": rng.choice(codes), **_violation(f"{key}-{n}")},
                                ensure_ascii=False) for n in range(10)]
            yield Write(key, "/v1/batches", ("\n".join(lines) + "\n").encode(), "application/x-ndjson")


def _send(http: httpx.Client, write: Write, headers: dict[str, str]) -> httpx.Response:
    return http.post(write.path, content=write.body,
                     headers=headers | {"Idempotency-Key": write.key, "Content-Type": write.content_type})


def _client(base: str, headers: dict[str, str], writes: Iterator[Write], ledger: Ledger,
            stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=30) as http:
        while not stop.is_set():
            write = next(writes)
            try:
                response = _send(http, write, headers)
            except httpx.TransportError:
                ledger.doubt(write)
                return  # the server is gone; the trial restarts it
            ledger.settle(write, response)


def _resend_in_doubt(base: str, headers: dict[str, str], ledger: Ledger) -> None:
    with ledger.lock:
        pending, ledger.in_doubt = ledger.in_doubt, []
    with httpx.Client(base_url=base, timeout=60) as http:
        for write in pending:
            for _ in range(40):
                response = _send(http, write, headers)
                if response.status_code == 409:  # the cut-short batch, until its silence shows it is
                    time.sleep(0.25)
                    continue
                ledger.settle(write, response)
                break
            else:  # still being applied after 10 s: reported, not left out of the ledger
                ledger.settle(write, response)


def _resend_acknowledged(base: str, headers: dict[str, str], ledger: Ledger, rng: random.Random) -> None:
    """Two acknowledged single writes of each kind sent again with their keys, across the
    restart: each must be answered with its first record and store nothing new."""
    with ledger.lock:
        by_kind: dict[str, list[Write]] = {}
        for write in ledger.singles.values():
            by_kind.setdefault(write.path.rsplit("/", 1)[1], []).append(write)
    with httpx.Client(base_url=base, timeout=60) as http:
        for writes in by_kind.values():
            for write in rng.sample(writes, min(2, len(writes))):
                ledger.settle(write, _send(http, write, headers))


# --- checks ----------------------------------------------------------------------------------

def _feed(http: httpx.Client, headers: dict[str, str]) -> list[dict]:
    events, after = [], None
    while True:
        page = http.get("/v1/events", params={"limit": 1000, **({"after": after} if after else {})},
                        headers=headers).json()
        events += page["data"]
        after = page["next_cursor"]
        if not page["has_more"]:
            return events


def _listed(http: httpx.Client, headers: dict[str, str]) -> list[str]:
    """The ids of the records the department lists (every one it wrote), page by page."""
    ids, cursor = [], None
    while True:
        page = http.get("/v1/records", params={"limit": 200, **({"cursor": cursor} if cursor else {})},
                        headers=headers).json()
        ids += [record["id"] for record in page["items"]]
        if not (cursor := page["next_cursor"]):
            return ids


def _query(database_url: str, sql: str) -> list[tuple]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def _first_gap(seqs: list[int]) -> str:
    for expected, seq in enumerate(seqs, start=1):
        if seq != expected:
            return f", {seq} where {expected} belongs"
    return ""


def check(installation: Installation, headers: dict[str, str], ledger: Ledger) -> list[str]:
    """What is wrong, in words (empty: nothing)."""
    problems = []
    seqs = [seq for seq, in _query(installation.database_url, "SELECT seq FROM event ORDER BY seq")]
    (ids,), = _query(installation.database_url, "SELECT count(DISTINCT id) FROM event")
    if seqs != list(range(1, len(seqs) + 1)) or ids != len(seqs):
        problems.append(f"the event log is not 1..N once each: {len(seqs)} rows, {ids} ids, last {seqs[-1:]}"
                        f"{_first_gap(seqs)}")
    with httpx.Client(base_url=installation.base, timeout=30) as http:
        listed = _listed(http, headers)
        events = _feed(http, headers)
        published = {e["data"].get("record_id") for e in events if e["type"].endswith(".published")}
        feed_seqs = [e["seq"] for e in events]
        # The department sees every event here (public records, organization data): its feed is the log.
        if feed_seqs != list(range(1, len(feed_seqs) + 1)):
            problems.append(f"the feed is not 1..N in order as the department reads it: {len(feed_seqs)} events, "
                            f"last {feed_seqs[-1:]}{_first_gap(feed_seqs)}")
    missing = sorted(ledger.acknowledged - set(listed))
    if missing:
        problems.append(f"{len(missing)} acknowledged records lost, e.g. {missing[:3]}")
    twice = sorted(write for write, record_ids in ledger.answers.items() if len(record_ids) > 1)
    if twice or len(listed) > len(ledger.answers):
        problems.append(f"writes stored twice: {len(listed)} records for {len(ledger.answers)} acknowledged writes; "
                        f"{len(twice)} sent again were answered with another record, e.g. {twice[:3]}")
    without_event = ledger.acknowledged - published - set(missing)
    if without_event:
        problems.append(f"{len(without_event)} acknowledged records have no event in the feed")
    return problems


# --- the run ---------------------------------------------------------------------------------

@dataclass
class Summary:
    trials: int
    acknowledged: int
    lost: int
    problems: list[str]
    statuses: Counter
    delivered: bool | None  # None: not waited for (a negative control caught before)

    def line(self) -> str:
        codes = ", ".join(f"{code}: {count}" for code, count in sorted(self.statuses.items(), key=str))
        delivered = {True: "yes", False: "NO", None: "not checked"}[self.delivered]
        return (f"crash trials: {self.trials}, acknowledged writes: {self.acknowledged}, lost: {self.lost}, "
                f"problems: {len(self.problems)}, every event delivered: {delivered}, status codes: {codes}")


def prepare_installation() -> None:
    """``credit-registry migrate``, ``create-department`` and ``create-client --json`` as an
    operator runs them, in one process (three would pay the app's imports three times); prints
    the client's JSON."""
    from typer.testing import CliRunner

    from cli.main import cli

    for arguments in (["migrate"], ["create-department", "SZAMR", "--name", "深圳市市场监督管理局", "--region", "440300"],
                      ["create-client", "SZAMR", "--scope", "records:write", "--scope", "records:read", "--scope",
                       "webhooks:manage", "--json"]):
        result = CliRunner().invoke(cli, arguments)
        if result.exit_code != 0:
            sys.exit(f"credit-registry {' '.join(arguments)}: {result.output}{result.exception or ''}")
    print(result.stdout)


def _setup(installation: Installation, receiver: Any) -> dict[str, str]:
    """The department, its client subscribed to ``receiver``, and the organizations; starts the
    installation and returns the client's headers."""
    prepared = subprocess.run(_python("tests.crash_harness:prepare_installation"), env=installation.env, cwd=ROOT,
                              capture_output=True, text=True)
    if prepared.returncode != 0:
        raise RuntimeError(prepared.stderr)
    made = json.loads(prepared.stdout)
    installation.start()
    with httpx.Client(base_url=installation.base, timeout=30) as http:
        token = http.post("/v1/auth/token", data={"grant_type": "client_credentials", **made}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = http.post("/v1/webhooks/endpoints", json={"url": receiver.url}, headers=headers)
        assert created.status_code == 201, created.text
        for code in _codes():
            http.put(f"/v1/organizations/{code}", json={"name": f"深圳市崩溃测试{code[-4:]}有限公司"},
                     headers=headers).raise_for_status()
    return headers


def run(database_url: str, data_dir: Path, *, trials: int, seed: int = 1, control: str | None = None,
        delivery_seconds: float = 90) -> Summary:
    """``trials`` kills and restarts of the real build, or of the negative control named ``control``
    (CONTROLS), which stops once the checks made for its defect have reported it."""
    from tests.live_server import free_port
    from tests.webhook_receivers import Receiver

    rng = random.Random(seed)
    env = os.environ | {
        "REGISTRY_DATABASE_URL": database_url, "REGISTRY_DATA_DIR": str(data_dir), "REGISTRY_ACCESS_LOG": "false",
        "REGISTRY_LOG_LEVEL": "warning", "REGISTRY_WEBHOOK_WORKER_IN_PROCESS": "false",
        "REGISTRY_WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1"]', "REGISTRY_WEBHOOK_LEASE_SECONDS": "2",
        "REGISTRY_WEBHOOK_POLL_SECONDS": "0.1", "REGISTRY_BATCH_RESUME_SECONDS": "2", "PYTHONPATH": str(ROOT)}
    build = CONTROLS[control] if control else REAL_BUILD
    installation = Installation(database_url, data_dir, build.app, free_port(), env, build.worker_command())
    ledger, problems, ran = Ledger(), [], 0
    codes = _codes()
    receiver = Receiver()
    try:
        headers = _setup(installation, receiver)
        for trial in range(trials):
            stop = threading.Event()
            clients = [threading.Thread(target=_client, daemon=True, args=(
                installation.base, headers, _writes(random.Random(rng.random()), f"t{trial}c{n}", codes), ledger, stop))
                for n in range(CLIENTS)]
            for client in clients:
                client.start()
            time.sleep(rng.uniform(0.3, 2.0))
            victims = [installation.server, installation.worker]
            rng.shuffle(victims)
            installation.kill(victims[0])
            time.sleep(rng.uniform(0, 0.3))
            installation.kill(victims[1])
            stop.set()
            for client in clients:
                client.join(60)
            installation.start()
            ran += 1
            _resend_in_doubt(installation.base, headers, ledger)
            _resend_acknowledged(installation.base, headers, ledger, rng)
            found = ledger.problems + check(installation, headers, ledger)
            ledger.problems = []
            problems += [f"trial {trial + 1}: {p}" for p in found]
            if control and build.caught(problems):
                break  # caught: that is all a negative control has to show
        delivered = None
        if not (control and build.caught(problems)):
            undelivered = _undelivered(installation, headers, receiver, delivery_seconds)
            problems += [undelivered] if undelivered else []
            delivered = not undelivered
    finally:
        installation.stop()
        receiver.close()
    lost = sum(int(p.split(": ", 1)[1].split()[0]) for p in problems if "acknowledged records lost" in p)
    return Summary(ran, len(ledger.acknowledged), lost, problems, ledger.statuses, delivered)


# --- the database restarted under traffic (PostgreSQL) ------------------------------------------

RESTART_KINDS = ("lookup", "search", "write")


@dataclass
class RestartSummary:
    restarts: int = 0
    statuses: Counter = field(default_factory=Counter)  # (kind, status) -> answers
    # Seconds from the database being back (pg_ctl -w returned) to each kind's first 2xx, worst per restart.
    first_success: list[float] = field(default_factory=list)
    # Answers other than 2xx to requests sent after the database was back (goal: none).
    failed_after_back: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(n for (_, status), n in self.statuses.items() if isinstance(status, int) and status >= 500
                   and status != 503)

    def line(self) -> str:
        codes = ", ".join(f"{kind} {status}: {n}" for (kind, status), n in sorted(self.statuses.items(), key=str))
        worst = max(self.first_success, default=float("nan"))
        return (f"database restarts: {self.restarts}, 500s: {self.server_errors}, failed after the database was "
                f"back: {sum(self.failed_after_back.values())}, first success after it was back: worst "
                f"{worst:.3f} s, problems: {len(self.problems)}, answers: {codes}")


def _restart_traffic(base: str, headers: dict[str, str], kind: str, summary: RestartSummary, lock: threading.Lock,
                     answers: list[tuple[float, str, int | str]], stop: threading.Event, once: bool = False) -> None:
    code = _codes()[0]
    serial = 0
    with httpx.Client(base_url=base, timeout=30) as http:
        while once or not stop.is_set():
            once = False
            serial += 1
            sent = time.monotonic()
            try:
                if kind == "lookup":
                    response = http.get(f"/v1/public/organizations/{code}")
                elif kind == "search":
                    response = http.get("/v1/public/organizations", params={"q": "崩溃测试"})
                else:
                    key = f"restart-{threading.get_ident()}-{serial}"
                    response = http.post(f"/v1/organizations/{code}/violations", json=_violation(key),
                                         headers=headers | {"Idempotency-Key": key})
                status: int | str = response.status_code
                if status == 503 and "retry-after" not in response.headers:
                    summary.problems.append(f"{kind}: 503 without Retry-After")
                if status == 503 and not response.headers.get("content-type", "").startswith("application/problem+json"):
                    summary.problems.append(f"{kind}: 503 not as problem+json")
            except httpx.TransportError as error:
                status = type(error).__name__
            with lock:
                summary.statuses[kind, status] += 1
                answers.append((sent, kind, status))
            if status != 200 and status != 201:
                time.sleep(0.02)  # as a client would, not a busy loop against a database that is down


def restart_run(database_url: str, data_dir: Path, cluster_dir: Path, *, restarts: int = 2,
                modes: tuple[str, ...] = ("fast", "immediate"), seed: int = 1,
                clients_per_kind: int = 2) -> RestartSummary:
    """Restart the PostgreSQL cluster of ``scripts/pg-throwaway.sh`` in ``cluster_dir`` (which
    serves ``database_url``) ``restarts`` times, alternating ``modes``, under lookups, searches and
    department writes from ``clients_per_kind`` clients each."""
    from tests.live_server import free_port
    from tests.webhook_receivers import Receiver

    rng = random.Random(seed)
    empty_postgres(database_url)  # a cluster of its own: setup creates the department
    env = os.environ | {
        "REGISTRY_DATABASE_URL": database_url, "REGISTRY_DATA_DIR": str(data_dir), "REGISTRY_ACCESS_LOG": "false",
        "REGISTRY_LOG_LEVEL": "warning", "REGISTRY_WEBHOOK_WORKER_IN_PROCESS": "false",
        "REGISTRY_WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1"]', "REGISTRY_WEBHOOK_POLL_SECONDS": "0.1",
        "REGISTRY_PUBLIC_RATE_PER_MINUTE": "1000000", "REGISTRY_PUBLIC_RATE_BURST": "100000", "PYTHONPATH": str(ROOT)}
    installation = Installation(database_url, data_dir, "api.app:create_app", free_port(), env)
    summary, lock, answers = RestartSummary(), threading.Lock(), []
    receiver = Receiver()
    stop = threading.Event()
    try:
        headers = _setup(installation, receiver)
        clients = [threading.Thread(target=_restart_traffic, daemon=True,
                                    args=(installation.base, headers, kind, summary, lock, answers, stop))
                   for kind in RESTART_KINDS for _ in range(clients_per_kind)]
        for client in clients:
            client.start()
        for number in range(restarts):
            time.sleep(rng.uniform(0.5, 1.5))
            mode = modes[number % len(modes)]
            subprocess.run([str(ROOT / "scripts" / "pg-throwaway.sh"), "restart", str(cluster_dir), mode],
                           check=True, capture_output=True)
            back = time.monotonic()
            summary.restarts += 1
            # Each kind's first success after the database is back (every client has sent at least once).
            deadline = back + 30
            while time.monotonic() < deadline:
                with lock:
                    after = [(sent, kind, status) for sent, kind, status in answers if sent >= back]
                firsts = {kind: min((sent for sent, k, status in after if k == kind and status in (200, 201)),
                                    default=None) for kind in RESTART_KINDS}
                if all(first is not None for first in firsts.values()):
                    summary.first_success.append(max(firsts.values()) - back)
                    break
                time.sleep(0.05)
            else:
                summary.problems.append(f"restart {number + 1} ({mode}): no success within 30 s of the database being back")
            time.sleep(0.5)
            with lock:
                for sent, kind, status in answers:
                    if sent >= back and status not in (200, 201):
                        summary.failed_after_back[kind, status] += 1
                answers.clear()
        stop.set()
        for client in clients:
            client.join(60)
        # Once more with no traffic while the database is down: every pooled connection is then
        # dead when the first requests come, and those must still succeed.
        for mode in modes:
            subprocess.run([str(ROOT / "scripts" / "pg-throwaway.sh"), "restart", str(cluster_dir), mode],
                           check=True, capture_output=True)
            summary.restarts += 1
            for kind in RESTART_KINDS:
                quiet = threading.Event()
                quiet.set()  # one request, then stop
                first: list[tuple[float, str, int | str]] = []
                _restart_traffic(installation.base, headers, kind, summary, lock, first, quiet, once=True)
                if first[0][2] not in (200, 201):
                    summary.failed_after_back[kind, first[0][2]] += 1
    finally:
        stop.set()
        installation.stop()
        receiver.close()
    if summary.server_errors:
        summary.problems.append(f"{summary.server_errors} answers were server errors other than 503")
    if summary.failed_after_back:
        summary.problems.append(f"requests sent after the database was back failed: {dict(summary.failed_after_back)}")
    return summary


def _undelivered(installation: Installation, headers: dict[str, str], receiver, seconds: float) -> str:
    """The problem, if any, once the receiver has every event of the feed, or the registry has
    nothing left to send, or ``seconds`` have passed."""
    with httpx.Client(base_url=installation.base, timeout=30) as http:
        wanted = {event["id"] for event in _feed(http, headers)}
    deadline = time.monotonic() + seconds
    while True:
        # Read before the receiver's log: a delivery is recorded as done only after the receiver has it.
        (unsettled,), = _query(installation.database_url,
                               "SELECT count(*) FROM webhook_delivery WHERE status IN ('pending', 'sending')")
        got = set()
        for _, body in list(receiver.received):
            with contextlib.suppress(ValueError):  # cut off mid-send by a kill; it is sent again whole
                got.add(json.loads(body)["id"])
        if wanted <= got:
            return ""
        if not unsettled:
            return (f"{len(wanted - got)} of {len(wanted)} events never reached the webhook receiver, "
                    "though the registry has nothing left to send")
        if time.monotonic() > deadline:
            return (f"{len(wanted - got)} of {len(wanted)} events never reached the webhook receiver "
                    f"within {seconds:g} s ({unsettled} deliveries still to do)")
        time.sleep(0.5)


def _run_on(url: str, **options: Any) -> tuple[str, Summary]:
    """``run`` on a new SQLite file (``url`` 'sqlite') or on the PostgreSQL ``url``, emptied first;
    returns the database's name with the summary."""
    with tempfile.TemporaryDirectory() as folder:
        if url == "sqlite":
            url = f"sqlite:///{folder}/crash.db"
        else:
            empty_postgres(url)
        return url.split(":")[0].split("+")[0], run(url, Path(folder) / "data", **options)


def _run_controls(names: list[str], urls: list[str], *, trials: int | None, seed: int) -> bool:
    """Each negative control on each database, one line per control; True if all were caught."""
    all_caught = True
    for name in names:
        build, verdicts, evidence = CONTROLS[name], [], ""
        for url in urls:
            backend, summary = _run_on(url, trials=trials or build.trials, seed=seed, control=name,
                                       delivery_seconds=30)
            if build.caught(summary.problems):
                verdicts.append(f"{backend} caught in trial {summary.trials}")
                evidence = evidence or next(p for p in summary.problems if build.caught_by[0] in p)
            else:
                all_caught = False
                verdicts.append(f"{backend} NOT CAUGHT in {summary.trials} trials ({summary.line()})")
        print(f"negative control {name}, seed {seed}: {', '.join(verdicts)}" + (f": {evidence[:160]}" if evidence else ""),
              flush=True)
    return all_caught


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, help="Default: 20; a negative control's own (it is caught at once)")
    parser.add_argument("--database-url", action="append", default=[],
                        help="Repeat for each database; 'sqlite' (the default) is a new SQLite file")
    parser.add_argument("--negative-control", nargs="?", const="answer-before-commit", choices=[*CONTROLS, "all"],
                        help="Instead: run this build with one defect (all: each), which must be caught")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--restart-cluster", type=Path,
                        help="Instead: restart this scripts/pg-throwaway.sh cluster --trials times under traffic")
    arguments = parser.parse_args()
    if arguments.restart_cluster:
        url = "postgresql+psycopg://registry@127.0.0.1:{}/registry".format(
            (arguments.restart_cluster / "port").read_text().strip())
        with tempfile.TemporaryDirectory() as folder:
            restarted = restart_run(url, Path(folder) / "data", arguments.restart_cluster,
                                    restarts=arguments.trials or REAL_BUILD.trials, seed=arguments.seed)
        for problem in restarted.problems:
            print(problem)
        print(f"postgresql, seed {arguments.seed}: {restarted.line()}")
        sys.exit(1 if restarted.problems else 0)
    urls = arguments.database_url or ["sqlite"]
    if arguments.negative_control:
        names = list(CONTROLS) if arguments.negative_control == "all" else [arguments.negative_control]
        sys.exit(0 if _run_controls(names, urls, trials=arguments.trials, seed=arguments.seed) else 1)
    summaries = []
    for url in urls:
        backend, summary = _run_on(url, trials=arguments.trials or REAL_BUILD.trials, seed=arguments.seed)
        for problem in summary.problems:
            print(problem)
        print(f"{backend}, seed {arguments.seed}: {summary.line()}")
        summaries.append(summary)
    total = Summary(sum(s.trials for s in summaries), sum(s.acknowledged for s in summaries),
                    sum(s.lost for s in summaries), [p for s in summaries for p in s.problems],
                    sum((s.statuses for s in summaries), Counter()), all(s.delivered for s in summaries))
    print(total.line())
    sys.exit(0 if not total.problems and total.delivered else 1)


if __name__ == "__main__":
    main()
