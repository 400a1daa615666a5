"""Every request leaves a trail: a request id (``X-Request-ID``), one access-log line, and for
authenticated calls an audit entry.

A successful call's audit entry is written in the request's own transaction
(``api.request_audit.audited_transaction``). Calls that fail after the caller was identified (403,
404, 409, 422, 500...) roll back, so this middleware writes their entry afterwards in a transaction
of its own, and so it does for a call that named its caller but used no unit of work (a read on the
read pool, the change feed); after a 503 (database busy) it tries only briefly, and a call it
cannot audit is logged instead. Refused credentials that name a client we can trust (a revoked
client's token, a missing scope, a failed login) carry their reason in the request's audit
(``RequestAudit.detail``).
"""

import logging
import time
import uuid

import anyio
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import DATABASE_BUSY
from api.request_audit import RequestAudit, record, request_audit
from db.session import is_storage_full, transaction

access_log = logging.getLogger("registry.access")
log = logging.getLogger("registry.audit")

BUSY_AUDIT_WAIT_SECONDS = 1.0


class RequestTrail:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware on the hot path)."""

    def __init__(self, app: ASGIApp, *, access_log_enabled: bool = True) -> None:
        self.app = app
        self.access_log_enabled = access_log_enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        # Always our own id: one a client chose could forge or collide audit correlations.
        request_id = uuid.uuid4().hex
        state["request_id"] = request_id
        trail = request_audit(scope)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if trail.subject is not None and not trail.audited:
                await anyio.to_thread.run_sync(self._audit_afterwards, scope, trail, status)
            if self.access_log_enabled and access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s", scope["method"], scope["path"], status,
                    extra={"method": scope["method"], "path": scope["path"], "status": status,
                           "request_id": request_id, "ms": round((time.perf_counter() - started) * 1000, 2)},
                )

    @staticmethod
    def _audit_afterwards(scope: Scope, trail: RequestAudit, status: int) -> None:
        request = Request(scope)
        # After a 503 the database is likely still busy: waiting the whole wait again would hold a
        # thread, a write turn and the connection's next request (bench/overload.py). A short try,
        # then the log keeps the call. Not skipped outright: a 503 can follow real writes (the
        # chunks of a batch committed before the database got busy).
        wait = BUSY_AUDIT_WAIT_SECONDS if status == 503 else None
        try:
            with transaction(request.app.state.database, wait=wait) as session:
                record(session, request, status)
        except DATABASE_BUSY as error:
            assert trail.subject is not None
            log.warning("not audited (database %s): %s %s answered %s, client %s, request %s",
                        "storage full" if is_storage_full(error) else "busy", request.method, request.url.path,
                        status, trail.subject.client_id, request.state.request_id)
        except Exception:  # the response is already sent; the operator must hear about it
            log.exception("could not write the audit entry of a failed call")
