"""Every change writes its event in the change's own transaction (the outbox).

The envelope is serialized once, here; those bytes are what the change feed serves and what
webhooks sign and send, so a subscriber can verify exactly what was stored. Payloads are thin:
ids, versions, kinds, reasons; never personal data.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlmodel import Session

from db.ids import new_id
from db.repositories.events import EventRepository
from service.sync.event_types import EVENT_TYPES
from service.sync.webhooks import endpoints

_DOCUMENTED = frozenset(EVENT_TYPES)


def serialize(envelope: dict[str, Any]) -> str:
    """The one serialization of an envelope: these bytes are stored, served, signed and sent."""
    # Compact, sorted keys, UTF-8: the same text json.dumps(ensure_ascii=False, separators=(",", ":"),
    # sort_keys=True) gives for these plain values, several times faster (bulk push emits millions).
    return orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS).decode()


def emit(session: Session, event_type: str, data: dict[str, Any], *, at: datetime,
         organization_uscc: str | None = None, record_id: str | None = None) -> None:
    """Write one event (and its webhook deliveries) in the caller's transaction."""
    emit_many(session, [(event_type, data, organization_uscc, record_id)], at=at)


def emit_many(session: Session, items: Sequence[tuple[str, dict[str, Any], str | None, str | None]], *,
              at: datetime) -> None:
    """Events (type, data, organization, record), numbered in order: one statement each for the
    numbers, the rows and the webhook deliveries, however many there are."""
    if not items:
        return
    repository = EventRepository(session)
    seqs = repository.next_seqs(len(items))
    timestamp = at.isoformat().replace("+00:00", "Z")
    rows = []
    for seq, (event_type, data, organization_uscc, record_id) in zip(seqs, items, strict=True):
        if event_type not in _DOCUMENTED:  # subscribers learn of a type from the OpenAPI document first
            raise ValueError(f"{event_type} is not in service.sync.event_types.EVENT_TYPES")
        event_id = new_id("evt")
        rows.append({"seq": seq, "id": event_id, "type": event_type, "occurred_at": at,
                     "organization_uscc": organization_uscc, "record_id": record_id,
                     "envelope": serialize({"id": event_id, "type": event_type, "timestamp": timestamp, "seq": seq,
                                            "data": data})})
    repository.add_many(rows)
    endpoints.fan_out(session, seqs.start, seqs.stop - 1, at=at)
