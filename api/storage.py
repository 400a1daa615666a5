"""The registry's database as configured: how long to wait for it, how many connections, and the
key that seals webhook secrets (db.sealing). Every entry point (server, worker, CLI) opens it here,
so none can write a secret unsealed or fail to open one."""

import os
import uuid

from api.settings import Settings
from db.sealing import Sealer, decode_key, new_key
from db.session import MAX_OVERFLOW, POOL_SIZE, Database, open_database

SECRETS_KEY_FILE = "secrets.key"


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
    return open_database(settings.database_url, wait_seconds=settings.database_wait_seconds,
                         connections=connections, sealer=secrets_sealer(settings))
