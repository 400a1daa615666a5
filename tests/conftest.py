"""Fixture strategy.

Every database test runs once per backend: SQLite (always, a temporary file) and PostgreSQL (when
``TEST_DATABASE_URL`` is set; ``make test`` starts a throwaway cluster and sets it). The schema is
built by the real Alembic migrations once per backend per run. Tests use the real app over HTTP
(``TestClient``) and real transactions that really commit; between tests every table is emptied
and the seed rows the migrations and defaults create are put back. Nothing of our own storage is
mocked.

With ``REQUIRE_POSTGRES=1`` (CI) a missing PostgreSQL fails the run instead of skipping.
"""

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text
from sqlmodel import Session

from api.app import create_app
from api.logs import JsonFormatter
from api.settings import Settings
from db import migrations
from db.sealing import Sealer, decode_key
from db.session import Database, open_database, transaction
from db.tables import metadata
from service.access import clients
from service.rules import reference
from tests import live_traffic
from tests.database_state import empty_postgres
from tests.webhook_receivers import hooked, receivers  # noqa: F401 (fixtures for the webhook tests)

# The suite creates about a thousand API clients: at the server's scrypt cost their hashing alone
# took minutes. Same code path at a sixteenth of the cost (each hash carries its own parameters).
clients.SCRYPT_N = 2**10

# A fixed moment: 2026-06-15 10:00 China Standard Time.
FIXED_NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)


class MovableClock:
    """The service's clock, set by the test."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def _database_of_this_worker(url: str) -> str:
    """Parallel workers (pytest-xdist) each get a database of their own on the cluster, created on
    first use: they empty tables between tests and must not empty each other's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    shared = make_url(url)
    name = f"{shared.database}_{worker}"
    engine = create_engine(shared, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return shared.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'registry.db'}"
    else:
        url = os.environ.get("TEST_DATABASE_URL", "")
        if not url:
            if os.environ.get("REQUIRE_POSTGRES") == "1":
                pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
            pytest.skip("TEST_DATABASE_URL not set: PostgreSQL tests skipped")
        url = _database_of_this_worker(url)
        empty_postgres(url)
    migrations.upgrade(url)
    return url


# One secrets key for the whole run, so every app, live server and worker of the tests (they read
# REGISTRY_SECRETS_KEY) opens the webhook secrets the others sealed. Tests of the key set their own.
TEST_SECRETS_KEY = "dGVzdC1zZWNyZXRzLWtleS1vZi10aGUtcmVnaXN0cnk="
os.environ.setdefault("REGISTRY_SECRETS_KEY", TEST_SECRETS_KEY)


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    database = open_database(database_url, sealer=Sealer(decode_key(os.environ["REGISTRY_SECRETS_KEY"])))
    yield database
    database.dispose()


def _empty_all_tables(database: Database) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with database.writer.begin() as conn:
        if database.is_sqlite:
            # The append-only triggers refuse deletes: lift them for the wipe, then put them back.
            triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
            for name, _ in triggers:
                conn.execute(text(f"DROP TRIGGER {name}"))
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            for _, sql in triggers:
                conn.execute(text(sql))
        else:  # TRUNCATE does not fire row triggers
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        # The migrations' seed rows: the event sequence starts again at 1, nothing pruned.
        conn.execute(text("INSERT INTO event_counter (name, value) VALUES ('event', 0), ('purged_through', 0)"))


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def db(database: Database, clock: MovableClock) -> Database:
    """A migrated database with no data but the defaults (grade scheme, rule set)."""
    _empty_all_tables(database)
    with transaction(database) as session:
        reference.ensure_defaults(session, now=clock.now())
    return database


@pytest.fixture
def unit_of_work(db: Database) -> Callable[[], AbstractContextManager[Session]]:
    """``with unit_of_work() as session:`` runs a real transaction that commits at the end."""
    return lambda: transaction(db)


@pytest.fixture
def data_dir(tmp_path):
    """The installation's data directory (its signing keys live here), new for each test."""
    return tmp_path / "data"


@pytest.fixture
def cli_env(db, database_url, data_dir, monkeypatch):
    """The environment a command-line run reads: the test's database and data directory."""
    from api.settings import get_settings

    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def settings(database_url: str, data_dir) -> Settings:
    # A rate limit no ordinary test reaches; the rate-limit tests build their own app.
    return Settings(database_url=database_url, data_dir=data_dir, access_log=True, environment="test",
                    public_rate_per_minute=100_000, public_rate_burst=10_000, public_filing_per_minute=100_000,
                    public_filing_burst=10_000, webhook_worker_in_process=False,
                    webhook_allowed_hosts=["127.0.0.1"])


# Every public response the suite produces, scanned for personal data when the session ends.
PUBLIC_RESPONSES: list[tuple[str, str]] = []

# Every log line the suite produces (access log included), scanned for secrets when the session
# ends: prefixed secrets and tokens by their shape, ticket secrets by the values handed out.
LOG_LINES: list[str] = []
TICKET_SECRETS: set[str] = set()
SECRET_SHAPES = live_traffic.SECRET_SHAPES


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        LOG_LINES.append(self.format(record))


logging.getLogger().addHandler(_LogCapture())
logging.getLogger("registry").setLevel(logging.DEBUG)


# The session's own: its server processes record what they answer and log here (tests/live_traffic.py).
os.environ[live_traffic.TRAFFIC_DIR] = tempfile.mkdtemp(prefix="registry-live-traffic-")
# A ticket's secret as the filing shows it: in the JSON answer, or on the page after the form.
_FILED_SECRET = re.compile(r'"secret":\s*"([^"]+)"|data-testid="secret"><code>([^<]+)</code>')


def record_public_response(path: str, body: str) -> None:
    PUBLIC_RESPONSES.append((path, body))
    TICKET_SECRETS.update(secret for found in _FILED_SECRET.findall(body) for secret in found if secret)


@pytest.fixture
def app(db: Database, settings: Settings, clock: MovableClock):
    app = create_app(settings, clock=clock)
    app.add_middleware(live_traffic.PublicBodies, sink=record_public_response)
    return app


# What the scans found in each parallel worker (pytest-xdist), reported by the controller: a
# worker's own exit status does not reach the run's.
WORKER_FINDINGS: list[dict[str, list]] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for path, body in live_traffic.answers():
        record_public_response(f"live {path}", body)
    LOG_LINES.extend(live_traffic.log_lines())
    shutil.rmtree(os.environ[live_traffic.TRAFFIC_DIR], ignore_errors=True)
    findings = {"personal data": _personal_data_in_public_responses(), "secrets": _secrets_in_logs(),
                "scanned": [len(PUBLIC_RESPONSES), len(LOG_LINES), len(TICKET_SECRETS)]}
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a worker: the controller reports
        workeroutput["scan findings"] = findings
        return
    everything = [findings, *WORKER_FINDINGS]
    for kind, title in (("personal data", "PERSONAL DATA IN PUBLIC RESPONSES"), ("secrets", "SECRETS IN THE LOGS")):
        found = [line for part in everything for line in part[kind]]
        if found:
            print(f"\n{title}:")
            for line in found[:50]:
                print(f"  {line[:300]}")
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    responses, lines, secrets = (sum(part["scanned"][i] for part in everything) for i in range(3))
    print(f"\nscanned: {responses} public responses for personal data, {lines} log lines for secrets "
          f"({secrets} ticket secrets among the values looked for)")


def pytest_testnodedown(node, error) -> None:
    """A parallel worker finished: keep what its scans found."""
    if "scan findings" in getattr(node, "workeroutput", {}):
        WORKER_FINDINGS.append(node.workeroutput["scan findings"])


def _secrets_in_logs() -> list[str]:
    return [line for line in LOG_LINES if SECRET_SHAPES.search(line) or any(secret in line for secret in TICKET_SECRETS)]


def _personal_data_in_public_responses() -> list[str]:
    from tests.masking import find_personal_data

    return [f"{path}: {hit}" for path, body in PUBLIC_RESPONSES for hit in find_personal_data(body)]


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


class Party:
    """A department's API client as a test uses it: its ids, secret and a ready bearer header."""

    def __init__(self, department: str, client_id: str, secret: str, headers: dict[str, str]) -> None:
        self.department, self.client_id, self.secret, self.headers = department, client_id, secret, headers


@pytest.fixture
def parties(app, unit_of_work, clock) -> dict[str, Party]:
    """Departments A (market regulation), B (tax) and the registry's administrators, each with a
    client; tokens come from the app's own keyring, exactly as the token endpoint issues them."""

    spec = {
        "a": ("SZAMR", "market_regulation", ["records:read", "records:write", "lists:write", "objections:handle",
                                             "complaints:handle"]),
        "b": ("SZTAX", "tax", ["records:read", "records:write", "lists:write"]),
        "reader": ("SZBANK", "bank", ["records:read"]),
        "admin": ("REGISTRY", "other", ["admin"]),
        "hooks": ("SZINS", "insurer", ["webhooks:manage"]),
    }
    result = {}
    with unit_of_work() as session:
        for name, (code, kind, scopes) in spec.items():
            reference.add_department(session, code=code, name=f"{code} 部门", kind=kind, region_code="440300",
                                     now=clock.now())
            created = clients.create(session, code, name=f"{name} client", scopes=scopes, now=clock.now())
            token, _ = app.state.keyring.issue(
                issuer=app.state.settings.token_issuer, audience=app.state.settings.token_audience,
                client_id=created.client.client_id, department_code=code, scopes=frozenset(scopes))
            result[name] = Party(code, created.client.client_id, created.secret,
                                 {"Authorization": f"Bearer {token}"})
    return result


@pytest.fixture
def client_for(app, unit_of_work, clock) -> Callable[..., dict[str, str]]:
    """``client_for("SZAMR", "lists:write")``: headers of a new client of that (existing)
    department with exactly those scopes, its token issued as the token endpoint would."""

    def make(department_code: str, *scopes: str) -> dict[str, str]:
        with unit_of_work() as session:
            created = clients.create(session, department_code, name=f"client {len(scopes)}", scopes=list(scopes),
                                     now=clock.now())
        token, _ = app.state.keyring.issue(
            issuer=app.state.settings.token_issuer, audience=app.state.settings.token_audience,
            client_id=created.client.client_id, department_code=department_code, scopes=frozenset(scopes))
        return {"Authorization": f"Bearer {token}"}

    return make
