"""The public edge: per-address rate limits and HTTP caching for what anyone may fetch.

Both are pure ASGI middleware (no per-request object churn on the hottest path) and apply only
to public paths: the department API is limited by its own credentials and never cached.

Client address: the peer of the connection, unless that peer is a configured trusted proxy, in
which case the right-most address in the configured header that is not itself a trusted proxy.
A header from anyone else is ignored, so a client cannot choose its own identity.
"""

import asyncio
import hashlib
import ipaddress
import json
import math
import threading
import time
from collections import deque
from collections.abc import Iterable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PUBLIC_PREFIXES = ("/v1/public/", "/organizations/", "/lists/", "/static/")
PUBLIC_EXACT = ("/", "/tickets")


def is_public(path: str) -> bool:
    return path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES)


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


class PublicRateLimit:
    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, addresses: ClientAddress) -> None:
        self.app, self.limiter, self.addresses = app, limiter, addresses

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        wait = self.limiter.retry_after(self.addresses.of(scope))
        if not wait:
            await self.app(scope, receive, send)
            return
        seconds = str(max(1, math.ceil(wait)))
        await send_problem(send, 429, "Too Many Requests", "/problems/rate-limited",
                           f"too many requests from this address; retry in {seconds} s",
                           [(b"retry-after", seconds.encode())])


class PublicCaching:
    """ETag and Cache-Control on successful public GETs; ``If-None-Match`` answers 304.

    The ETag is a hash of the body, so it changes exactly when the answer does. Streaming
    responses (exports) are passed through untouched, and so are pages: HTML is never stored
    (api/middleware/security_headers.py).
    """

    def __init__(self, app: ASGIApp, *, max_age: int) -> None:
        self.app = app
        self.cache_control = f"public, max-age={max_age}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or not is_public(scope["path"]) \
                or scope["path"].endswith("/export"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        passing = False

        async def buffer(message: Message) -> None:
            nonlocal start, passing
            if message["type"] == "http.response.start":
                start = message
                # Errors and pages (never stored, api/middleware/security_headers.py) go out as they come.
                passing = message["status"] != 200 or any(
                    k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in message.get("headers", []))
                if passing:
                    await send(message)
                return
            if start is None or passing:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._finish(scope, start, b"".join(chunks), send)

        await self.app(scope, receive, buffer)

    async def _finish(self, scope: Scope, start: Message, body: bytes, send: Send) -> None:
        if any(k.lower() == b"cache-control" for k, _ in start.get("headers", [])):
            # The route decided (e.g. no-store for a ticket read with its secret).
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        etag = b'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"etag", b"cache-control")]
        headers += [(b"etag", etag), (b"cache-control", self.cache_control)]
        wanted = b",".join(v for k, v in scope["headers"] if k == b"if-none-match")
        if etag in [t.strip() for t in wanted.split(b",")] or wanted.strip() == b"*":
            headers = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-type")]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request bodies are limited to {limit} bytes")


class _BodyStalled(HTTPException):
    def __init__(self, idle: float) -> None:
        super().__init__(408, f"the request body stalled: no data for {idle:g} s", headers={"Connection": "close"})


class BodyLimit:
    """Request bodies over ``max_bytes`` are refused with 413 problem+json: at once when the
    Content-Length says so (nothing is read), else as soon as the bytes read pass the limit
    (chunked uploads), so no body is ever held in memory beyond the limit.

    A body that stops arriving for ``idle_seconds`` is refused with 408: a client trickling its
    body (or gone without closing) would otherwise hold its in-flight place, and on the thread
    pool a thread, for ever. The limit is on silence, not on the whole upload, so a large bulk
    push that keeps sending is never cut short."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, idle_seconds: float,
                 larger: dict[str, int] | None = None) -> None:
        # ``larger``: paths whose routes stream the body (bulk push) and may take more.
        self.app, self.max_bytes, self.idle_seconds, self.larger = app, max_bytes, idle_seconds, larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            detail = f"request bodies are limited to {limit} bytes"
            await send_problem(send, 413, "Content Too Large", "about:blank", detail, [(b"connection", b"close")])
            return
        total, complete = 0, False

        async def counted() -> Message:
            nonlocal total, complete
            if complete:  # past the body, a receive waits for the disconnect: not a stall
                return await receive()
            try:
                async with asyncio.timeout(self.idle_seconds):
                    message = await receive()
            except TimeoutError:
                raise _BodyStalled(self.idle_seconds) from None
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > limit:
                    # An HTTPException, so the framework turns it into the usual problem response.
                    raise _BodyTooLarge(limit)
                complete = not message.get("more_body", False)
            return message

        await self.app(scope, counted, send)


class Budget:
    """At most ``limit`` holders; the next ones wait their turn, first come first served, for at
    most the given time. One event loop per process: no lock needed."""

    def __init__(self, limit: int) -> None:
        self.limit, self.in_flight = limit, 0
        self.waiting: deque[asyncio.Future[None]] = deque()
        self.gave_up = 0  # waiters still in the queue that stopped waiting

    async def admit(self, wait: float) -> bool:
        if self.in_flight < self.limit and not self.waiting:
            self.in_flight += 1
            return True
        if wait <= 0:
            return False
        turn = asyncio.get_running_loop().create_future()
        self.waiting.append(turn)
        try:
            await asyncio.wait_for(asyncio.shield(turn), wait)
        except TimeoutError:
            pass
        except BaseException:  # cancelled while waiting: a place handed over meanwhile goes on
            if turn.done() and not turn.cancelled():
                self.release()
            turn.cancel()
            raise
        if turn.done() and not turn.cancelled():
            return True  # handed a place (possibly just as the time ran out)
        turn.cancel()  # release() skips it
        self.gave_up += 1
        if self.gave_up > len(self.waiting) // 2:
            # While every holder is slow (long polls), nothing releases: refused waiters would pile up.
            self.waiting = deque(t for t in self.waiting if not t.done())
            self.gave_up = 0
        return False

    def release(self) -> None:
        # The place passes straight to the longest waiter, so one arriving now cannot jump the queue.
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
            self.gave_up = max(0, self.gave_up - 1)
        self.in_flight -= 1


class InFlightLimit:
    """Requests in flight per process, in three budgets:

    - ``lookup``: the public lookup, answered in the event loop itself (cheap, the hot path);
    - ``public``: other public requests, which run on the thread pool;
    - ``department``: the department API (writes wait on the database), so it cannot take the
      public side down with it.

    Past a budget a request waits up to ``wait`` seconds for a place, in order of arrival, then
    gets 503 with Retry-After. The short wait absorbs bursts; and under a flood it is what keeps
    the process working: refused at once, a closed-loop client came straight back, and the
    refusals (thousands a second) took the CPU from the requests already admitted, which then
    ran past any client's timeout (bench/overload.py). The two thread-pool budgets together stay
    within the read connection pool, so a request never holds a connection while it waits for a
    thread that waits for a connection. Health checks are never refused: the orchestrator must
    still see the process alive."""

    def __init__(self, app: ASGIApp, *, lookup: int, public: int, department: int, wait: float,
                 exempt: tuple[str, ...] = ("/healthz",)) -> None:
        self.app, self.exempt, self.wait = app, exempt, wait
        self.budgets = {"lookup": Budget(lookup), "public": Budget(public), "department": Budget(department)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        budget = self.budgets[budget_of(scope["method"], scope["path"])]
        if not await budget.admit(self.wait):
            await send_overloaded(send, "the service is at capacity; retry shortly")
            return
        try:
            await self.app(scope, receive, send)
        finally:
            budget.release()


def budget_of(method: str, path: str) -> str:
    if not is_public(path):
        # The department API; anything else (docs, metrics, paths that do not exist) is cheap and
        # anonymous, and must not take the department's places.
        return "department" if path.startswith("/v1/") else "public"
    # GET (or HEAD) /v1/public/organizations/{code}: api.routes.public answers it in the event loop.
    if method in ("GET", "HEAD") and path.startswith(LOOKUP_PREFIX) and "/" not in path[len(LOOKUP_PREFIX):]:
        return "lookup"
    return "public"


LOOKUP_PREFIX = "/v1/public/organizations/"


OVERLOADED_RETRY_SECONDS = 2


async def send_overloaded(send: Send, detail: str) -> None:
    # Closing makes a client that ignores Retry-After connect again first: without it a flood of
    # instant refusals kept the event loop from the requests it had admitted.
    await send_problem(send, 503, "Service Unavailable", "/problems/overloaded", detail,
                       [(b"retry-after", str(OVERLOADED_RETRY_SECONDS).encode()), (b"connection", b"close")])


async def send_problem(send: Send, status: int, title: str, type_: str, detail: str,
                       headers: list[tuple[bytes, bytes]]) -> None:
    """A problem+json answer sent straight from middleware, before any route runs."""
    body = json.dumps({"type": type_, "title": title, "status": status, "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})
