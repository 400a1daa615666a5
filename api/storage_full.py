"""A database whose storage is full, as the operator must hear of it: counted in /metrics, and
/readyz failing until a write can commit again (per process, as Prometheus counters are)."""

import threading

from db.session import Database, is_storage_full, probe_write


class StorageFull:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refused = 0
        # Set by a write refused for a full storage, cleared by a probe write that commits. Only
        # then does /readyz write: every probe adds to the write load, and a full disk is rare.
        self._suspected = False

    def refused(self) -> None:
        with self._lock:
            self._refused += 1
            self._suspected = True

    def writable(self, database: Database) -> bool:
        """False while the storage is still full (a probe write fails for it)."""
        if not self._suspected:
            return True
        try:
            probe_write(database)
        except Exception as error:
            if is_storage_full(error):
                return False
            raise
        with self._lock:
            self._suspected = False
        return True

    def exposition(self) -> str:
        with self._lock:
            refused, suspected = self._refused, self._suspected
        return "\n".join([
            "# HELP registry_database_storage_full_total Requests refused because the database's storage was full.",
            "# TYPE registry_database_storage_full_total counter",
            f"registry_database_storage_full_total {refused}",
            "# HELP registry_database_storage_full 1 while writes cannot commit for a full storage (since the "
            "last refusal, until a probe write commits).",
            "# TYPE registry_database_storage_full gauge",
            f"registry_database_storage_full {int(suspected)}",
        ]) + "\n"
