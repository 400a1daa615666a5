"""What a request's audit entry says, gathered as the request goes, and where it is written.

A call gets an entry once it names a caller: a verified token (api.security), a login with a real
or unknown client id (api.routes.auth). A successful call's entry is written in its own unit of
work (``audited_transaction``), so it commits with the change or not at all; any other call's is
written by api.middleware.request_trail after the answer, with the status that was sent.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlmodel import Session
from starlette.requests import HTTPConnection, Request
from starlette.types import Scope

from db.session import transaction
from service.access import audit


@dataclass(frozen=True, slots=True)
class Subject:
    """Who the entry is about. Both may be None: a login with a client id that is not ours."""

    client_id: str | None
    department_code: str | None


@dataclass(slots=True)
class RequestAudit:
    subject: Subject | None = None  # None: no caller named, no entry
    detail: str | None = None  # why a caller we know was refused (revoked, wrong secret, missing scope)
    status: int | None = None  # the answer's status where the route's own does not say it (201, 422)
    audited: bool = False  # the entry is written in the request's unit of work, which committed

    def identify(self, client_id: str | None, department_code: str | None) -> None:
        self.subject = Subject(client_id, department_code)


_STATE_KEY = "audit"


def request_audit(request: HTTPConnection | Scope) -> RequestAudit:
    """The request's audit (made by the request trail as the request comes in; else here)."""
    scope = request.scope if isinstance(request, HTTPConnection) else request
    state = scope.setdefault("state", {})
    found: RequestAudit | None = state.get(_STATE_KEY)
    if found is None:
        found = state[_STATE_KEY] = RequestAudit()
    return found


def record(session: Session, request: Request, status: int) -> None:
    """Write the request's entry in ``session``."""
    trail = request_audit(request)
    if trail.subject is None:
        return
    route = request.scope.get("route")
    call = audit.AuditedCall(
        request_id=request.state.request_id, client_id=trail.subject.client_id,
        department_code=trail.subject.department_code, action=getattr(route, "name", None) or "unrouted",
        method=request.method, resource=request.url.path,
    )
    audit.record(session, call, status=status, at=request.app.state.clock.now(), detail=trail.detail)


def record_success(session: Session, request: Request) -> None:
    """Write the entry of a call that succeeded, with the status its answer will have."""
    route = request.scope.get("route")
    record(session, request, request_audit(request).status or getattr(route, "status_code", None) or 200)


@contextmanager
def audited_transaction(request: Request) -> Iterator[Session]:
    """The request's unit of work, the one way a route's work is finished: the entry of the
    successful call joins the transaction, and the request counts as audited only once it has
    committed (a failed commit is then audited as the failure it is)."""
    trail = request_audit(request)
    with transaction(request.app.state.database) as session:
        yield session
        record_success(session, request)
    trail.audited = True
