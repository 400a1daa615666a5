"""Per-address rate limits for public paths, with 429 and Retry-After.

Pure ASGI middleware (no per-request object churn on the hottest path), applied only to public
paths: the department API is limited by its own credentials.

Client address: the peer of the connection, unless that peer is a configured trusted proxy, in
which case the right-most address in the configured header that is not itself a trusted proxy.
A header from anyone else is ignored, so a client cannot choose its own identity.
"""

import ipaddress
import math
import threading
import time
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from api.middleware.answers import send_problem
from api.middleware.public_paths import is_public


class RateLimiter:
    """GCRA (a token bucket kept as one timestamp per key): ``per_minute`` on average, bursts up
    to ``burst``. Constant memory per client; thread-safe."""

    def __init__(self, per_minute: int, burst: int, *, max_keys: int = 200_000) -> None:
        self.interval = 60.0 / per_minute
        self.tolerance = self.interval * (burst - 1)
        self.max_keys = max_keys
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str, now: float | None = None) -> float:
        """0 when the request may pass (and it is counted), else seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tat = max(self._tat.get(key, now), now)
            if tat - now > self.tolerance:
                return tat - now - self.tolerance
            if len(self._tat) >= self.max_keys:
                self._tat = {k: v for k, v in self._tat.items() if v > now}  # forget the idle
            self._tat[key] = tat + self.interval
            return 0.0


class ClientAddress:
    def __init__(self, trusted_proxies: Iterable[str], header: str) -> None:
        self.trusted = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]
        self.header = header.lower().encode()

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def of(self, scope: Scope) -> str:
        peer = scope["client"][0] if scope.get("client") else "-"
        if not self.trusted or not self._is_trusted(peer):
            return peer
        values = [v.decode("latin-1") for k, v in scope["headers"] if k == self.header]
        hops = [h.strip() for h in ",".join(values).split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop
        return peer


# What the public files (complaints, objections, repair requests), by API and by page form: each
# filing is a row, a trail entry, an event and webhook deliveries to a department, so it has a
# budget of its own, far below the reads'.
FILINGS = frozenset({"/v1/public/complaints", "/complaints/new", "/v1/public/objections", "/v1/public/repair-requests"})


def is_filing(scope: Scope) -> bool:
    path: str = scope["path"]
    return scope["method"] == "POST" and (
        path in FILINGS or (path.startswith("/organizations/") and path.endswith("/objection")))


class PublicRateLimit:
    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, addresses: ClientAddress,
                 filings: RateLimiter | None = None) -> None:
        self.app, self.limiter, self.addresses, self.filings = app, limiter, addresses, filings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        address = self.addresses.of(scope)
        wait = self.limiter.retry_after(address)
        if not wait and self.filings is not None and is_filing(scope):
            wait = self.filings.retry_after(address)
        if not wait:
            await self.app(scope, receive, send)
            return
        seconds = str(max(1, math.ceil(wait)))
        await send_problem(send, 429, "Too Many Requests", "/problems/rate-limited",
                           f"too many requests from this address; retry in {seconds} s",
                           [(b"retry-after", seconds.encode())])
