"""Webhook endpoints of departments, and the fan-out of every event to them.

Fan-out runs in the event's own transaction (``service.sync.events.emit`` calls it): a delivery row
per matching endpoint, so a committed change always has its deliveries and a rolled-back one has
none. An endpoint receives only events about records its department may see.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from sqlmodel import Session

from db.ids import new_id
from db.repositories.events import EventRepository
from db.repositories.webhooks import WebhookRepository
from db.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from service.errors import InvalidRecord, NotFound
from service.sync.event_types import matches as event_type_matches
from service.sync.webhooks import delivery, destinations
from service.sync.webhooks.signing import new_secret

MAX_GRACE_SECONDS = 7 * 24 * 3600


class EndpointNotFound(NotFound):
    title = "Webhook endpoint not found"


EventTypeFilter = list[str] | None


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl = Field(examples=["https://bank.example/registry-hooks"])
    description: str | None = Field(default=None, max_length=200)
    event_types: list[str] | None = Field(default=None, max_length=50,
                                          description="Types to receive (`list_entry.*` for a family); `*` or null: all",
                                          examples=[["list_entry.*", "violation.published"]])


class EndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl | None = None
    description: str | None = Field(default=None, max_length=200)
    event_types: list[str] | None = Field(default=None, max_length=50)
    status: str | None = Field(default=None, pattern="^(enabled|disabled)$")


@dataclass(frozen=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once


def create(session: Session, department_code: str, body: EndpointCreate, *, now: datetime,
           allowed_hosts: frozenset[str]) -> CreatedEndpoint:
    destinations.check(str(body.url), allowed_hosts=allowed_hosts)
    endpoint = WebhookEndpoint(id=new_id("whe"), department_code=department_code, url=str(body.url),
                               description=body.description, event_types=body.event_types, status="enabled",
                               created_at=now, updated_at=now)
    secret = new_secret()
    repository = WebhookRepository(session)
    repository.add(endpoint)
    repository.add_secret(endpoint.id, secret, now=now)
    return CreatedEndpoint(endpoint, secret)


def get(session: Session, endpoint_id: str, *, owner: str) -> WebhookEndpoint:
    endpoint = WebhookRepository(session).endpoint(endpoint_id, owner=owner)
    if endpoint is None:  # another department's endpoint is as unknown as a missing one
        raise EndpointNotFound(f"no webhook endpoint {endpoint_id}")
    return endpoint


def of_department(session: Session, department_code: str) -> list[WebhookEndpoint]:
    return list(WebhookRepository(session).endpoints_of(department_code))


def update(session: Session, endpoint_id: str, body: EndpointUpdate, *, owner: str, now: datetime,
           allowed_hosts: frozenset[str]) -> WebhookEndpoint:
    endpoint = get(session, endpoint_id, owner=owner)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("url") is not None:
        destinations.check(str(body.url), allowed_hosts=allowed_hosts)
        endpoint.url = str(body.url)
    if "event_types" in changes:
        endpoint.event_types = body.event_types
    if "description" in changes:
        endpoint.description = body.description
    if body.status is not None and body.status != endpoint.status:
        endpoint.status = body.status
        endpoint.disabled_reason = "manual" if body.status == "disabled" else None
    endpoint.updated_at = now
    WebhookRepository(session).add(endpoint)
    return endpoint


def rotate_secret(session: Session, endpoint_id: str, *, owner: str, grace_seconds: int, now: datetime) -> str:
    """A new signing secret; the old one keeps signing (both signatures are sent) for the grace period."""
    endpoint = get(session, endpoint_id, owner=owner)
    repository = WebhookRepository(session)
    current = repository.current_secret(endpoint.id)
    if current is not None:
        current.expires_at = now + timedelta(seconds=min(max(grace_seconds, 0), MAX_GRACE_SECONDS))
        repository.add(current)
    secret = new_secret()
    repository.add_secret(endpoint.id, secret, now=now)
    return secret


def fan_out(session: Session, first_seq: int, last_seq: int, *, at: datetime) -> None:
    """Deliveries of the events ``first_seq..last_seq`` of this transaction to every enabled
    endpoint that gets them (the feed's visibility rule, in SQL) and wants their type: one query
    and one insert."""
    repository = WebhookRepository(session)
    pairs = repository.subscribed_pairs(first_seq, last_seq)
    rows = [{"id": new_id("whd"), "endpoint_id": endpoint_id, "event_seq": seq, "status": "pending",
             "trigger": "scheduled", "attempts": 0, "next_attempt_at": at, "lease_until": None, "lease_owner": None,
             "created_at": at, "updated_at": at}
            for seq, event_type, endpoint_id, wanted in pairs if event_type_matches(event_type, wanted)]
    repository.add_deliveries(rows)


class DeliveryNotFound(NotFound):
    title = "Delivery not found"


MAX_REPLAY = 10_000


def _manual(endpoint_id: str, event_seq: int, now: datetime) -> WebhookDelivery:
    return WebhookDelivery(id=new_id("whd"), endpoint_id=endpoint_id, event_seq=event_seq, status="pending",
                           trigger="manual", next_attempt_at=now, created_at=now, updated_at=now)


def _hold_retention(session: Session) -> None:
    # New deliveries of old events: retention must not delete those events between our read and
    # our insert (a foreign-key error, a 500). Held first, so what we read next is what stays.
    EventRepository(session).purged_through(hold=True)


def resend(session: Session, delivery_id: str, *, owner: str, now: datetime) -> WebhookDelivery:
    """Send an event to the endpoint once more (one attempt, e.g. a dead letter after a fix)."""
    _hold_retention(session)
    repository = WebhookRepository(session)
    original = repository.delivery_of(delivery_id, owner=owner)
    if original is None:
        raise DeliveryNotFound(f"no delivery {delivery_id}")
    again = _manual(original.endpoint_id, original.event_seq, now)
    repository.add(again)
    return again


def replay(session: Session, endpoint_id: str, *, owner: str, since: datetime, until: datetime, mode: str,
           now: datetime) -> int:
    """Queue, in feed order, the events of a window the endpoint did not get; returns how many."""
    endpoint = get(session, endpoint_id, owner=owner)
    if until < since:
        raise InvalidRecord("until must not be before since", field="until")
    _hold_retention(session)
    repository = WebhookRepository(session)
    events = [seq for seq, event_type in repository.replayable(endpoint, since=since, until=until, mode=mode,
                                                                   limit=MAX_REPLAY)
              if event_type_matches(event_type, endpoint.event_types)]
    repository.add(*(_manual(endpoint.id, seq, now) for seq in events))
    return len(events)


def seal_plain_secrets(session: Session) -> int:
    """Seal the secrets a registry stored before it sealed them (db.sealing); returns how many."""
    return WebhookRepository(session).seal_plain_secrets()


def signing_secrets(session: Session, endpoint_id: str, *, owner: str, now: datetime) -> tuple[WebhookEndpoint, list[str]]:
    endpoint = get(session, endpoint_id, owner=owner)
    return endpoint, WebhookRepository(session).secrets(endpoint.id, now=now)


# A test ping is answered while the caller waits: a shorter deadline than a delivery's.
PING_SECONDS = 10.0


def ping(session: Session, endpoint_id: str, *, owner: str, allowed_hosts: frozenset[str],
         now: datetime) -> delivery.Outcome:
    """Send a signed ``webhook.test`` message to an endpoint of ``owner`` now and say what it
    answered. ``session`` is only read, and closed before the call: the endpoint may take seconds
    to answer, and no connection waits with it."""
    endpoint, secrets = signing_secrets(session, endpoint_id, owner=owner, now=now)
    session.close()
    policy = delivery.DeliveryPolicy(allowed_hosts=allowed_hosts, attempt_seconds=PING_SECONDS)
    with delivery.http_client(policy) as client:
        return delivery.test_ping(client, endpoint_id=endpoint.id, url=endpoint.url, secrets=secrets, policy=policy,
                                  now=now)


def deliveries(session: Session, endpoint_id: str, *, owner: str, status: str | None,
               limit: int) -> list[tuple[WebhookDelivery, list[WebhookAttempt], str | None]]:
    """The newest deliveries, each with its attempts and, for a dead letter whose event a resend
    or replay has since delivered, the delivery that did (else None)."""
    endpoint = get(session, endpoint_id, owner=owner)
    repository = WebhookRepository(session)
    rows = repository.deliveries(endpoint.id, status=status, limit=limit)
    attempts: dict[str, list[WebhookAttempt]] = {d.id: [] for d in rows}
    for attempt in repository.attempts([d.id for d in rows]):
        attempts[attempt.delivery_id].append(attempt)
    delivered = repository.first_succeeded(endpoint.id, [d.event_seq for d in rows if d.status == "failed"])
    return [(d, attempts[d.id], delivered.get(d.event_seq) if d.status == "failed" else None) for d in rows]
