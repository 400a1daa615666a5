"""The delivery worker: claims due deliveries under a lease, sends them signed (Standard Webhooks),
records every attempt, and retries on a schedule until success, a 410, or the last attempt
(then the delivery is a dead letter, ``failed``, kept with all its attempts).

Transactions are short and never span network I/O: claim (commit), send, record (commit). A
worker that dies mid-delivery leaves a lease that runs out; another worker then takes the job
over. Receivers deduplicate on ``webhook-id`` (the event id, the same on every attempt).
"""

import email.utils
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from sqlmodel import Session

from db.repositories.webhooks import ClaimedDelivery, WebhookRepository
from db.sealing import SealingKeyMismatch
from db.tables import WebhookAttempt
from service.rules.clock import Clock
from service.sync import event_types, events
from service.sync.webhooks import destinations
from service.sync.webhooks.signing import signature_header

# Seconds after each failed attempt (the Standard Webhooks example: 10 attempts over ~3 days).
RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
THROTTLED = {429, 502, 503, 504}
RESPONSE_EXCERPT = 4096

log = logging.getLogger("registry.webhooks")

UnitOfWork = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class DeliveryPolicy:
    schedule: tuple[float, ...] = RETRY_SCHEDULE
    jitter: float = 0.2
    attempt_seconds: float = 15.0  # the whole attempt, not each read
    lease_seconds: float = 60.0
    threads: int = 8  # attempts in flight per worker
    per_endpoint: int = 4  # attempts in flight per endpoint, over all workers
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Outcome:
    started_at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def http_client(policy: DeliveryPolicy) -> httpx.Client:
    # Connects only to vetted public addresses, follows no redirects, and keeps to the deadline
    # of the whole attempt (service.sync.webhooks.destinations).
    return destinations.guarded_client(allowed_hosts=policy.allowed_hosts,
                                       timeout=httpx.Timeout(connect=3.0, read=10.0, write=10.0, pool=2.0),
                                       user_agent="credit-registry-webhooks/0.1")


def _retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    try:
        return float(max(0, math.ceil(float(value))))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when.replace(tzinfo=when.tzinfo or UTC) - now).total_seconds())


def next_delay(failed_attempts: int, outcome: Outcome, policy: DeliveryPolicy,
               rng: Callable[[], float] = random.random) -> float | None:
    """Seconds until the next attempt after ``failed_attempts`` failures; None: give up."""
    if failed_attempts > len(policy.schedule):
        return None
    base = float(policy.schedule[failed_attempts - 1])
    if outcome.error == "timeout" or outcome.status_code in THROTTLED:
        base = max(base, min(60.0, policy.schedule[-1]))
    if outcome.retry_after is not None:
        base = min(max(outcome.retry_after, base), 2 * base)
    return base * (1 - policy.jitter + 2 * policy.jitter * rng())


def attempt(client: httpx.Client, delivery: ClaimedDelivery, secrets: list[str], policy: DeliveryPolicy, *,
            started_at: datetime) -> Outcome:
    started = time.monotonic()
    body = delivery.envelope.encode()
    timestamp = int(time.time())
    headers = {"content-type": "application/json", "webhook-id": delivery.event_id,
               "webhook-timestamp": str(timestamp),
               "webhook-signature": signature_header(secrets, delivery.event_id, timestamp, body)}

    def done(*, status_code: int | None = None, error: str | None = None, retry_after: float | None = None) -> Outcome:
        return Outcome(started_at, int((time.monotonic() - started) * 1000), status_code=status_code, error=error,
                       retry_after=retry_after)

    try:
        with destinations.deadline(policy.attempt_seconds), \
                client.stream("POST", delivery.url, content=body, headers=headers) as response:
            read = 0
            for chunk in response.iter_raw():  # a little of the body, so the connection can be reused
                read += len(chunk)
                if read >= RESPONSE_EXCERPT:
                    break
            return done(status_code=response.status_code,
                        error=None if 200 <= response.status_code < 300 else f"http {response.status_code}",
                        retry_after=_retry_after(response.headers.get("retry-after"), datetime.now(UTC)))
    except destinations.BlockedDestination:
        return done(error="blocked_destination")
    except httpx.TimeoutException:
        return done(error="timeout")
    except httpx.HTTPError as error:
        return done(error=f"transport: {type(error).__name__}")
    except Exception as error:  # e.g. httpx.InvalidURL: the attempt fails and is retried, the worker goes on
        log.warning("webhook attempt %s failed unexpectedly", delivery.id, exc_info=True)
        return done(error=f"error: {type(error).__name__}")


def _record(session: Session, delivery: ClaimedDelivery, outcome: Outcome, *, owner: str, policy: DeliveryPolicy,
            now: datetime) -> None:
    repository = WebhookRepository(session)
    held = repository.held(delivery.id, owner)
    if held is None:
        return  # the lease ran out and another worker took the job; its word counts
    held.attempts += 1
    repository.add(WebhookAttempt(delivery_id=held.id, attempt_no=held.attempts, started_at=outcome.started_at,
                                  duration_ms=outcome.duration_ms, status_code=outcome.status_code,
                                  error=outcome.error))
    held.lease_owner, held.lease_until, held.updated_at = None, None, now
    if outcome.succeeded:
        held.status = "succeeded"
    elif held.trigger == "manual":
        held.status = "failed"  # a resend or replay is one attempt: its sender is watching
    elif outcome.status_code == 410:
        held.status = "failed"
        endpoint = repository.endpoint_by_id(held.endpoint_id)
        if endpoint is not None:  # the receiver said it is gone for good
            endpoint.status, endpoint.disabled_reason, endpoint.updated_at = "disabled", "gone_410", now
            repository.add(endpoint)
    elif (delay := next_delay(held.attempts, outcome, policy)) is None:
        held.status = "failed"  # dead letter: kept, with every attempt, for resend
    else:
        held.status = "pending"
        held.next_attempt_at = now + timedelta(seconds=delay)
    repository.add(held)


def test_ping(client: httpx.Client, *, endpoint_id: str, url: str, secrets: list[str], policy: DeliveryPolicy,
              now: datetime) -> Outcome:
    """Send a signed ``webhook.test`` message now and report what came back. It is not an event
    of the registry, so it is neither in the feed nor retried."""
    message_id = "evt_test_" + endpoint_id.removeprefix("whe_")
    envelope = events.serialize({"id": message_id, "type": event_types.WEBHOOK_TEST,
                                 "timestamp": now.isoformat().replace("+00:00", "Z"),
                                 "data": {"endpoint_id": endpoint_id, "message": "test from the credit registry"}})
    delivery = ClaimedDelivery(id="", endpoint_id=endpoint_id, url=url, attempts=0, event_id=message_id,
                               envelope=envelope)
    return attempt(client, delivery, secrets, policy, started_at=now)


@dataclass(frozen=True)
class _Job:
    delivery: ClaimedDelivery
    secrets: list[str]


def _claim(session: Session, *, owner: str, policy: DeliveryPolicy, now: datetime, limit: int) -> list[_Job]:
    repository = WebhookRepository(session)
    claimed = repository.claim_due(now=now, owner=owner, lease_until=now + timedelta(seconds=policy.lease_seconds),
                                   limit=limit, per_endpoint=policy.per_endpoint)
    secrets: dict[str, list[str]] = {}
    for endpoint_id in {c.endpoint_id for c in claimed}:
        try:
            secrets[endpoint_id] = repository.secrets(endpoint_id, now=now)
        except SealingKeyMismatch as error:
            # Never sent unsigned: its deliveries stay claimed until the lease ends, then are
            # tried again, so they go out once the operator restores the key. Other endpoints go on.
            log.error("%s; its deliveries wait for the key", error)
    return [_Job(delivery, secrets[delivery.endpoint_id]) for delivery in claimed if delivery.endpoint_id in secrets]


def _settle(unit_of_work: UnitOfWork, finished: list[tuple[_Job, Outcome]], *, owner: str, policy: DeliveryPolicy,
            clock: Clock, claim: int) -> list[_Job]:
    """One transaction: record the finished attempts, and claim up to ``claim`` more. Writes are
    what a worker's throughput is bound by (a commit each), so a busy worker commits once for a
    whole batch of outcomes and its next work."""
    with unit_of_work() as session:
        for job, outcome in finished:
            _record(session, job.delivery, outcome, owner=owner, policy=policy, now=clock.now())
        return _claim(session, owner=owner, policy=policy, now=clock.now(), limit=claim) if claim else []


def deliver_due(unit_of_work: UnitOfWork, client: httpx.Client, *, owner: str, policy: DeliveryPolicy,
                clock: Clock, limit: int = 20) -> int:
    """One round: claim, send (in parallel), record. Returns how many deliveries were attempted."""
    jobs = _settle(unit_of_work, [], owner=owner, policy=policy, clock=clock, claim=limit)
    if jobs:
        with ThreadPoolExecutor(max_workers=min(len(jobs), policy.threads)) as pool:
            outcomes = list(pool.map(lambda job: attempt(client, job.delivery, job.secrets, policy,
                                                         started_at=clock.now()), jobs))
        _settle(unit_of_work, list(zip(jobs, outcomes, strict=True)), owner=owner, policy=policy, clock=clock,
                claim=0)
    return len(jobs)


def run(unit_of_work: UnitOfWork, *, owner: str, policy: DeliveryPolicy, stop: threading.Event, clock: Clock,
        idle_seconds: float = 0.5, on_error: Callable[[Exception], None] | None = None) -> None:
    """Deliver until ``stop`` is set, ``policy.threads`` attempts at a time. Claims as threads come
    free, so a slow receiver holds at most ``policy.per_endpoint`` of them and the rest keep
    serving other endpoints; sleeps only when there is nothing to claim or finish."""
    in_flight: dict[Future[Outcome], _Job] = {}
    with http_client(policy) as client, ThreadPoolExecutor(max_workers=policy.threads,
                                                            thread_name_prefix="webhook") as pool:
        while True:
            done = [future for future in in_flight if future.done()]
            finished = [(in_flight.pop(future), future.result()) for future in done]  # attempt() never raises
            if stop.is_set():
                room = 0
                if not finished and not in_flight:
                    return
            else:
                room = policy.threads - len(in_flight)
            jobs: list[_Job] = []
            if finished or room:
                try:
                    jobs = _settle(unit_of_work, finished, owner=owner, policy=policy, clock=clock, claim=room)
                except Exception as error:  # a worker must outlive a bad round (database restart, ...);
                    if on_error:           # unrecorded attempts are sent again when their lease runs out
                        on_error(error)
            for job in jobs:
                in_flight[pool.submit(attempt, client, job.delivery, job.secrets, policy,
                                      started_at=clock.now())] = job
            if in_flight:
                wait(in_flight, timeout=idle_seconds, return_when=FIRST_COMPLETED)
            elif not jobs:
                stop.wait(idle_seconds)
