"""The audit trail: every authenticated call and every administrative action, append-only."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict, Unpack

from sqlmodel import Session

from db.repositories.audit import AuditRepository
from db.tables import AuditEntry
from service.cursors import decode_position_cursor, encode_cursor


@dataclass(frozen=True)
class AuditedCall:
    request_id: str
    client_id: str | None
    department_code: str | None
    action: str
    method: str
    resource: str


def outcome_of(status: int) -> str:
    if status < 400:
        return "ok"
    return {401: "unauthenticated", 403: "denied", 404: "not_found", 409: "conflict",
            422: "invalid", 429: "throttled"}.get(status, "error" if status >= 500 else "rejected")


def record(session: Session, call: AuditedCall, *, status: int, at: datetime, detail: str | None = None) -> None:
    AuditRepository(session).append(AuditEntry(
        at=at, request_id=call.request_id, client_id=call.client_id, department_code=call.department_code,
        action=call.action, method=call.method, resource=call.resource[:300], status=status,
        outcome=outcome_of(status), detail=detail[:500] if detail else None,
    ))


class AuditFilters(TypedDict, total=False):
    """What a page of the trail may be narrowed to; None (or absent) is no filter."""

    department_code: str | None
    client_id: str | None
    action: str | None
    outcome: str | None
    since: datetime | None
    until: datetime | None


@dataclass(frozen=True)
class AuditPage:
    entries: Sequence[AuditEntry]
    next_cursor: str | None


def page(session: Session, *, limit: int, cursor: str | None = None, **filters: Unpack[AuditFilters]) -> AuditPage:
    """Newest first; ``cursor`` continues below the previous page's last entry."""
    entries = AuditRepository(session).page(limit=limit + 1, before_id=decode_position_cursor(cursor), **filters)
    has_more = len(entries) > limit
    entries = entries[:limit]
    return AuditPage(entries, encode_cursor(entries[-1].id) if has_more and entries else None)
