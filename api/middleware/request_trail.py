"""Every request leaves a trail: a request id (``X-Request-ID``), one access-log line, and for
authenticated calls an audit entry.

A successful call's audit entry is written in the request's own transaction (``deps.get_session``).
Calls that fail after the caller was identified (403, 404, 409, 422, 500...) roll back, so this
middleware writes their entry afterwards in a transaction of its own; after a 503 (database busy)
it tries only briefly, and a call it cannot audit is logged instead. Refused credentials that name
a client we can trust (a revoked client's token, a missing scope, a failed login) carry their
reason in ``request.state.audit_detail``.
"""

import logging
import time
import uuid

import anyio
from sqlmodel import Session
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import DATABASE_BUSY
from db.session import is_storage_full, transaction
from service.access import audit

access_log = logging.getLogger("registry.access")
log = logging.getLogger("registry.audit")

BUSY_AUDIT_WAIT_SECONDS = 1.0

def _call(request: Request, subject: tuple[str | None, str | None]) -> audit.AuditedCall:
    route = request.scope.get("route")
    return audit.AuditedCall(
        request_id=request.state.request_id, client_id=subject[0], department_code=subject[1],
        action=getattr(route, "name", None) or "unrouted", method=request.method, resource=request.url.path,
    )


def audit_success(session: Session, request: Request) -> None:
    subject = getattr(request.state, "audit_subject", None)
    if subject is None:
        return
    route = request.scope.get("route")
    status = getattr(request.state, "response_status", None) or getattr(route, "status_code", None) or 200
    audit.record(session, _call(request, subject), status=status, at=request.app.state.clock.now(),
                 detail=getattr(request.state, "audit_detail", None))


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
            if state.get("audit_subject") is not None and not state.get("audited"):
                await anyio.to_thread.run_sync(self._audit_failure, scope, status)
            if self.access_log_enabled and access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s", scope["method"], scope["path"], status,
                    extra={"method": scope["method"], "path": scope["path"], "status": status,
                           "request_id": request_id, "ms": round((time.perf_counter() - started) * 1000, 2)},
                )

    @staticmethod
    def _audit_failure(scope: Scope, status: int) -> None:
        request = Request(scope)
        subject = request.state.audit_subject
        # After a 503 the database is likely still busy: waiting the whole wait again would hold a
        # thread, a write turn and the connection's next request (bench/overload.py). A short try,
        # then the log keeps the call. Not skipped outright: a 503 can follow real writes (the
        # chunks of a batch committed before the database got busy).
        wait = BUSY_AUDIT_WAIT_SECONDS if status == 503 else None
        try:
            with transaction(request.app.state.database, wait=wait) as session:
                audit.record(session, _call(request, subject), status=status, at=request.app.state.clock.now(),
                             detail=getattr(request.state, "audit_detail", None))
        except DATABASE_BUSY as error:
            log.warning("not audited (database %s): %s %s answered %s, client %s, request %s",
                        "storage full" if is_storage_full(error) else "busy", request.method, request.url.path,
                        status, subject[0], request.state.request_id)
        except Exception:  # the response is already sent; the operator must hear about it
            log.exception("could not write the audit entry of a failed call")
