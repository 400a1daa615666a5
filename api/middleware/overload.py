"""Overload: requests in flight per process, in budgets. Past one, a short wait in line, then 503
with Retry-After: never a 500 or an endless wait.
"""

import asyncio
from collections import deque

from starlette.types import ASGIApp, Receive, Scope, Send

from api.middleware.answers import send_problem
from api.middleware.public_paths import is_public

LOOKUP_PREFIX = "/v1/public/organizations/"

OVERLOADED_RETRY_SECONDS = 2


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


async def send_overloaded(send: Send, detail: str) -> None:
    # Closing makes a client that ignores Retry-After connect again first: without it a flood of
    # instant refusals kept the event loop from the requests it had admitted.
    await send_problem(send, 503, "Service Unavailable", "/problems/overloaded", detail,
                       [(b"retry-after", str(OVERLOADED_RETRY_SECONDS).encode()), (b"connection", b"close")])
