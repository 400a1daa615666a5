"""A full database storage is said as such: 503 naming it (not "busy"), an error log line, a
counter and a gauge in /metrics, and /readyz failing until writes can commit again.

SQLite's SQLITE_FULL is provoked honestly: the database is compacted (VACUUM) and capped at its
size with ``PRAGMA max_page_count`` on every connection the app's writer opens, so the first write
that needs a new page is refused by SQLite itself, exactly as on a full disk. PostgreSQL gets a
real full disk: a cluster of the test's own keeps its tables on a small tmpfs, filled up."""

import logging
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from api.app import create_app
from api.settings import Settings
from db import migrations
from db.session import transaction
from service.access import clients
from service.codes import make_uscc
from service.rules import reference

PROBLEM = "application/problem+json"
SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


@pytest.fixture
def full_storage(app, database_url) -> Iterator[Callable[[], None]]:
    """The app's SQLite database with no room to grow; yields what frees space (lifts the cap)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL gets a real full disk below (TestPostgresDiskFull)")
    path = make_url(database_url).database
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("VACUUM")  # no free pages left to reuse: the next growth needs a new page
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    writer = app.state.database.writer

    def cap(dbapi_conn, _record) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count={pages}")

    def free_space() -> None:
        if event.contains(writer, "connect", cap):
            event.remove(writer, "connect", cap)
        writer.dispose()  # connections opened under the cap go; new ones have room

    writer.dispose()
    event.listen(writer, "connect", cap)
    try:
        yield free_space
    finally:
        free_space()


def _metric(client: TestClient, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


class TestStorageFull:
    def test_a_write_refused_for_full_storage_says_so_and_readyz_fails_until_writes_commit(
            self, app, client, parties, full_storage, caplog) -> None:
        headers = parties["a"].headers
        caplog.set_level(logging.INFO, logger="registry")
        refused = _write_until_refused(client, headers, "FULL")
        assert refused is not None, "the capped database never refused a write"
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == PROBLEM
        assert refused.headers["retry-after"].isdigit()
        assert refused.json()["type"] == "/problems/storage-full"
        assert "storage is full" in refused.json()["detail"]
        said = [r for r in caplog.records if r.name == "registry.errors"]
        assert any(r.levelno == logging.ERROR and "storage is full" in r.getMessage() for r in said)
        assert not any("busy" in r.getMessage() for r in said)
        assert _metric(client, "registry_database_storage_full_total") == 1
        assert _metric(client, "registry_database_storage_full") == 1

        not_ready = client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["status"] == "not_ready" and not_ready.json()["database"] == "storage_full"
        assert client.get("/readyz").status_code == 503  # still full: the probe write is refused again

        # The operator frees space (the cap lifted): ready again, and writes commit.
        full_storage()
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert _metric(client, "registry_database_storage_full") == 0
        again = client.put(f"/v1/organizations/{make_uscc('91', '440300', 'FULL9999')}",
                           json={"name": "深圳市满盘恢复有限公司"}, headers=headers)
        assert again.status_code in (200, 201), again.text


@pytest.fixture
def postgres_on_a_small_disk(database_url, tmp_path) -> Iterator[tuple[str, Path]]:
    """A PostgreSQL cluster of this test's own whose tables live on an 32 MB tmpfs (a tablespace,
    the database's default before it is migrated); yields its URL and the tmpfs's mount point.
    Its own: filling the suite's shared cluster's disk would break the tests beside it."""
    if database_url.startswith("sqlite"):
        pytest.skip("the SQLite case is the test above")
    disk = Path(tempfile.mkdtemp(prefix="registry-disk-", dir="/tmp"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", str(disk)],
                             capture_output=True)
    if mounted.returncode != 0:
        disk.rmdir()
        pytest.skip("mounting a small tmpfs needs root: PostgreSQL's disk_full is then mapped by its SQLSTATE only")
    cluster = Path(tempfile.mkdtemp(prefix="registry-full-", dir="/tmp"))
    try:
        subprocess.run(["chown", "postgres", str(disk)], check=True)
        url = subprocess.run([str(SCRIPTS / "pg-throwaway.sh"), "start", str(cluster)], check=True,
                             capture_output=True, text=True).stdout.strip()
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f"CREATE TABLESPACE small_disk LOCATION '{disk}'"))
            conn.execute(text("ALTER DATABASE registry SET default_tablespace = small_disk"))
        engine.dispose()
        migrations.upgrade(url)
        yield url, disk
    finally:
        subprocess.run([str(SCRIPTS / "pg-throwaway.sh"), "stop", str(cluster)], capture_output=True)
        subprocess.run(["umount", str(disk)], capture_output=True)
        disk.rmdir()


def _fill(disk: Path) -> Path:
    """A file taking every free byte of ``disk``, as the rest of a full disk."""
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:  # ENOSPC: full
            pass
    return filler


class TestPostgresDiskFull:
    def test_a_write_on_a_full_disk_is_503_storage_full_and_readyz_fails_until_space_is_freed(
            self, postgres_on_a_small_disk, tmp_path, clock, caplog) -> None:
        url, disk = postgres_on_a_small_disk
        settings = Settings(database_url=url, data_dir=tmp_path / "data", environment="test",
                            webhook_worker_in_process=False, public_rate_per_minute=100_000)
        app = create_app(settings, clock=clock)
        database = app.state.database
        with transaction(database) as session:
            reference.ensure_defaults(session, now=clock.now())
            reference.add_department(session, code="SZAMR", name="SZAMR 部门", kind="market_regulation",
                                     region_code="440300", now=clock.now())
            made = clients.create(session, "SZAMR", name="writer", scopes=["records:write"], now=clock.now())
        token, _ = app.state.keyring.issue(
            issuer=settings.token_issuer, audience=settings.token_audience, client_id=made.client.client_id,
            department_code="SZAMR", scopes=frozenset(["records:write"]))
        headers = {"Authorization": f"Bearer {token}"}
        caplog.set_level(logging.INFO, logger="registry")
        with TestClient(app) as client:
            filler = _fill(disk)
            refused = _write_until_refused(client, headers, "PGFL")
            assert refused is not None, "the full disk never refused a write"
            assert refused.status_code == 503, refused.text
            assert refused.json()["type"] == "/problems/storage-full"
            assert "storage is full" in refused.json()["detail"]
            assert any(r.levelno == logging.ERROR and "storage is full" in r.getMessage() and "DiskFull" in r.getMessage()
                       for r in caplog.records if r.name == "registry.errors")
            assert _metric(client, "registry_database_storage_full_total") == 1
            assert client.get("/readyz").json()["database"] == "storage_full"

            filler.unlink()  # the operator frees space
            assert client.get("/readyz").status_code == 200
            assert _metric(client, "registry_database_storage_full") == 0
            again = client.put(f"/v1/organizations/{make_uscc('91', '440300', 'PGFL9999')}",
                               json={"name": "深圳市满盘恢复有限公司"}, headers=headers)
            assert again.status_code in (200, 201), again.text
        database.dispose()


def _write_until_refused(client, headers: dict[str, str], series: str):
    """Organizations with long names, written until one is refused (the pages that still had room
    used up); that answer, or None if 500 writes all went through."""
    for n in range(500):
        response = client.put(f"/v1/organizations/{make_uscc('91', '440300', f'{series}{n:04d}')}",
                              json={"name": f"深圳市满盘测试{n:04d}有限公司" + "填充" * 80}, headers=headers)
        if response.status_code >= 300:
            return response
    return None
