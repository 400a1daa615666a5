"""``Idempotency-Key`` for department writes: the route hands over how to produce its response;
a retry with the same key and request gets the stored first response (same status, same body)."""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Header, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import Session

from api.request_audit import request_audit
from service.access.actors import Actor
from service.idempotency import MAX_KEY_LENGTH, StoredResponse, run_once

IdempotencyKey = Annotated[
    str | None,
    # Printable ASCII, as a header value travels; checked here so a malformed key is a documented
    # 422 naming the header (the service checks again for callers that are not HTTP).
    Header(alias="Idempotency-Key", min_length=1, max_length=MAX_KEY_LENGTH, pattern=r"^[\x21-\x7E]([\x20-\x7E]*[\x21-\x7E])?$",
           description="Makes the write safe to retry: the same key and request give the first response"),
]


def respond(
    request: Request,
    session: Session,
    actor: Actor,
    key: str | None,
    body: BaseModel | None,
    produce: Callable[[], tuple[int, BaseModel]],
    *,
    now: datetime,
) -> Response:
    fingerprint = hashlib.sha256(json.dumps(
        [request.method, request.url.path, body.model_dump(mode="json") if body else None],
        sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def produce_stored() -> StoredResponse:
        status, model = produce()
        return StoredResponse(status, model.model_dump_json())

    stored, replayed = run_once(session, client_id=actor.client_id, key=key, request_hash=fingerprint,
                                now=now, produce=produce_stored)
    request_audit(request).status = stored.status
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(stored.body, status_code=stored.status, media_type="application/json", headers=headers)
