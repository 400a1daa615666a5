"""Idempotent writes: a retry with the same ``Idempotency-Key`` and the same request gets the first
response, and the write happens once.

The stored response is written in the write's own transaction, so either both the write and its
response are committed or neither is. On PostgreSQL a concurrent retry blocks on the first
request's uncommitted key and then sees it; on SQLite write transactions are serialized.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.repositories.idempotency import IdempotencyRepository
from db.tables import IdempotentResponse
from service.errors import Conflict, DomainError

MAX_KEY_LENGTH = 200


class IdempotencyKeyReused(DomainError):
    title = "Idempotency key reused"


class IdempotencyKeyInvalid(DomainError):
    title = "Invalid Idempotency-Key"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str


def run_once(
    session: Session,
    *,
    client_id: str,
    key: str | None,
    request_hash: str,
    now: datetime,
    produce: Callable[[], StoredResponse],
) -> tuple[StoredResponse, bool]:
    """``(response, replayed)``: the stored first response, or ``produce()``'s, which is stored."""
    if key is None:
        return produce(), False
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise IdempotencyKeyInvalid(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters")
    repository = IdempotencyRepository(session)
    stored = repository.get(client_id, key)
    if stored is None:
        response = produce()
        try:
            with session.begin_nested():
                repository.add(IdempotentResponse(client_id=client_id, key=key, request_hash=request_hash,
                                                  status=response.status, body=response.body, created_at=now))
        except IntegrityError as error:
            # A concurrent request with the same key committed first; this one's write must not land.
            raise Conflict("a request with this Idempotency-Key was processed concurrently; "
                           "retry to get its response") from error
        return response, False
    if stored.request_hash != request_hash:
        raise IdempotencyKeyReused("this Idempotency-Key was used for a different request; use a new key")
    return StoredResponse(stored.status, stored.body), True
