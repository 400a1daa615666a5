"""The registry's database as configured: how long to wait for it, how many connections, and the
key that seals webhook secrets (db.sealing). Every entry point (server, worker, CLI) opens it here,
so none can write a secret unsealed or fail to open one."""

import contextlib
import logging
import os
import stat
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

from api.settings import Settings
from db.sealing import Sealer, decode_key, new_key
from db.session import MAX_OVERFLOW, POOL_SIZE, Database, open_database

SECRETS_KEY_FILE = "secrets.key"
# What processes of the registry create is their owner's only (the CLI sets it; see make_private).
PRIVATE_UMASK = 0o077
DATA_DIR_MODE, DATA_FILE_MODE = 0o700, 0o600
# SQLite's companions of the database file hold its latest commits (-wal), the shared index
# (-shm) and, briefly, a rollback journal: each as readable as the database itself.
SQLITE_FILES = ("", "-wal", "-shm", "-journal")

log = logging.getLogger("registry.storage")


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _no_more_open_than(path: Path, mode: int) -> None:
    try:
        current = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    if current & ~mode:
        try:
            os.chmod(path, current & mode)
        except PermissionError:  # another user's file: the operator's to fix, not a reason not to start
            log.warning("%s is readable by others (mode %o) and cannot be changed by this user", path, current)
            return
        log.warning("%s was readable by others (mode %o): made owner-only", path, current)


def make_private(settings: Settings) -> None:
    """The data directory 0700 and the SQLite database with its -wal and -shm 0600, including
    ones an earlier version left 0755/0644. A missing database file is created 0600 before SQLite
    creates it: SQLite gives its -wal and -shm the database file's mode, whatever the umask."""
    database = _sqlite_file(settings.database_url)
    keys_on_disk = not (settings.signing_key and settings.secrets_key)
    if keys_on_disk or (database is not None and settings.data_dir.resolve() in database.resolve().parents):
        settings.data_dir.mkdir(mode=DATA_DIR_MODE, parents=True, exist_ok=True)
    _no_more_open_than(settings.data_dir, DATA_DIR_MODE)
    if database is None:
        return
    database.parent.mkdir(mode=DATA_DIR_MODE, parents=True, exist_ok=True)
    if not database.exists():
        with contextlib.suppress(FileExistsError):  # another process of the registry made it first
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, DATA_FILE_MODE))
    for suffix in SQLITE_FILES:
        _no_more_open_than(Path(f"{database}{suffix}"), DATA_FILE_MODE)


def secrets_sealer(settings: Settings) -> Sealer:
    if settings.secrets_key:
        return Sealer(decode_key(settings.secrets_key))
    # The embedded default: a key generated on first start, owner-only, beside the signing keys.
    path = settings.keys_dir / SECRETS_KEY_FILE
    if not path.exists():
        if not settings.keys_dir.exists():
            settings.keys_dir.mkdir(parents=True)
            os.chmod(settings.keys_dir, 0o700)
        draft = settings.keys_dir / f".{SECRETS_KEY_FILE}.{uuid.uuid4().hex}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(new_key() + "\n")
            file.flush()
            os.fsync(file.fileno())  # on disk before it has its name: a lost key loses every secret
        try:
            os.link(draft, path)  # whole or not at all: two processes starting together agree on one key
        except FileExistsError:
            pass
        finally:
            draft.unlink()
        directory = os.open(settings.keys_dir, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    return Sealer(decode_key(path.read_text()))


def open_registry_database(settings: Settings, *, connections: int = POOL_SIZE + MAX_OVERFLOW) -> Database:
    make_private(settings)
    return open_database(settings.database_url, wait_seconds=settings.database_wait_seconds,
                         connections=connections, sealer=secrets_sealer(settings))
