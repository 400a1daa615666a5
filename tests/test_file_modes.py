"""Files only the service can read: through the real command line, as an operator runs it with the
usual umask 022, the data directory ends 0700 and the SQLite database, its -wal and its -shm 0600,
on a fresh install and on one an earlier version left 0755/0644. On PostgreSQL the data directory
still holds the signing keys."""

import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from db import migrations
from db.session import is_sqlite
from tests.live_server import free_port, stop

CLI = Path(sys.executable).parent / "credit-registry"
OPERATOR_UMASK = 0o022


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class Install:
    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.sqlite = is_sqlite(database_url)
        self.database = data_dir / "registry.db"
        # SQLite: the embedded default in the data directory, as `make run` has it.
        self.env = os.environ | {"REGISTRY_DATA_DIR": str(data_dir),
                                 "REGISTRY_DATABASE_URL": "" if self.sqlite else database_url,
                                 "REGISTRY_WEBHOOK_WORKER_IN_PROCESS": "false", "REGISTRY_ACCESS_LOG": "false",
                                 "REGISTRY_LOG_LEVEL": "warning"}

    def run(self, *args: str) -> None:
        done = subprocess.run([str(CLI), *args], env=self.env, umask=OPERATOR_UMASK, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr

    @contextmanager
    def serving(self) -> Iterator[None]:
        port = free_port()
        process = subprocess.Popen([str(CLI), "serve", "--port", str(port)], env=self.env, umask=OPERATOR_UMASK,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    # /readyz reads the database: the server holds a connection, so -wal and -shm exist.
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, process.stderr.read().decode(errors="replace") if process.stderr else ""
                assert time.monotonic() < deadline, "the server did not get ready"
                time.sleep(0.2)
            yield
        finally:
            stop(process, wait=15)

    def database_files(self) -> list[Path]:
        return [Path(f"{self.database}{suffix}") for suffix in ("", "-wal", "-shm")] if self.sqlite else []

    def assert_private(self) -> None:
        modes = {path.name: oct(mode(path)) for path in (self.data_dir, *self.database_files())}
        expected = {self.data_dir.name: oct(0o700)} | {path.name: oct(0o600) for path in self.database_files()}
        assert modes == expected


@pytest.fixture
def install(database_url, tmp_path) -> Install:
    return Install(database_url, tmp_path / "data")


def test_a_fresh_install_is_owner_only(install) -> None:
    install.run("migrate")
    assert mode(install.data_dir) == 0o700
    if install.sqlite:
        assert mode(install.database) == 0o600
    with install.serving():
        install.assert_private()
        assert mode(install.data_dir / "keys") == 0o700


def test_an_upgraded_install_is_made_owner_only(install) -> None:
    # As an earlier version left it: everything readable by everyone, the -wal and -shm present
    # (a connection of the old server still open).
    install.data_dir.mkdir()
    install.data_dir.chmod(0o755)
    old_server = None
    if install.sqlite:
        migrations.upgrade(f"sqlite:///{install.database}")
        old_server = sqlite3.connect(install.database)
        assert old_server.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
        old_server.execute("SELECT count(*) FROM alembic_version").fetchone()
    try:
        def opened_up() -> None:
            for path in install.database_files():
                path.chmod(0o644)
            install.data_dir.chmod(0o755)

        opened_up()
        install.run("migrate")
        install.assert_private()
        opened_up()
        with install.serving():
            install.assert_private()
    finally:
        if old_server is not None:
            old_server.close()
