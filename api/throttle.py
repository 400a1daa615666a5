"""A small in-process sliding-window counter, for throttling failed logins.

Per process: with N workers an attacker gets N times the budget, which still bounds guessing
(the secret has 256 bits). A shared store (Redis, the database) can replace it later.
"""

import threading
import time
from collections import deque


class SlidingWindow:
    def __init__(self, limit: int, seconds: float, *, max_keys: int = 100_000) -> None:
        self.limit, self.seconds, self.max_keys = limit, seconds, max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _window(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()
        return hits

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again; 0 when it may now."""
        now = time.monotonic()
        with self._lock:
            hits = self._window(key, now)
            if len(hits) < self.limit:
                return 0
            return max(1, int(hits[0] + self.seconds - now) + 1)

    def hit(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._hits) >= self.max_keys:
                # Bounded memory under a flood of distinct keys: forget the oldest.
                self._hits.pop(next(iter(self._hits)))
            self._window(key, now).append(now)
