"""The application factory. ``uvicorn --factory api.app:create_app`` serves it."""

import logging
import os
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from api import problems
from api.middleware.body_limit import BodyLimit
from api.middleware.caching import PublicCaching
from api.middleware.overload import InFlightLimit
from api.middleware.rate_limit import ClientAddress, PublicRateLimit, RateLimiter
from api.middleware.request_trail import RequestTrail
from api.middleware.security_headers import SecurityHeaders
from api.routes import (
    admin,
    auth,
    batches,
    complaints,
    credit,
    credit_reports,
    decisions,
    events,
    health,
    inspections,
    organizations,
    public,
    public_intake,
    public_lists,
    records,
    statistics,
    webhooks,
)
from api.schemas.webhooks import document as document_webhooks
from api.security import ANY_OF, TokenRefusals
from api.settings import Settings, get_settings
from api.storage import open_registry_database
from api.storage_full import StorageFull
from api.tokens import Keyring
from api.web import complaint_pages, inspection_pages, pages, report_pages, statistics_pages
from db.session import MAX_OVERFLOW, POOL_SIZE, Database, transaction
from service.rules import lifecycle
from service.rules.clock import Clock, SystemClock
from service.sync import retention
from service.sync.webhooks import delivery

DESCRIPTION = """\
The Quality Credit Registry: organizations keyed on their unified social credit code, the credit
records departments decide about them (ratings, violations, disclosures, red and black list
entries), and what the public may see of them.

Errors are RFC 9457 `application/problem+json`. Organization codes in paths accept any typed form
(lower case, full-width, spaces, hyphens) and 9-character legacy organization codes.
"""

DOCS_URL, REDOC_URL = "/docs", "/redoc"

TAGS = [
    {"name": "public", "description": "No login. What anyone may see."},
    {"name": "auth", "description": "Tokens for department clients (OAuth2 client credentials)."},
    {"name": "organizations", "description": "Department API: master data, records, credit checks."},
    {"name": "records", "description": "Department API: list entries, record history, corrections, withdrawals."},
    {"name": "batches", "description": "Department API: bulk push (NDJSON or CSV) and per-line results."},
    {"name": "decisions", "description": "Department API: objections and credit repair requests on its records."},
    {"name": "events", "description": "Department API: the gap-free change feed."},
    {"name": "webhooks", "description": "Department API: signed push of events to the department's endpoints."},
    {"name": "admin", "description": "Departments, API clients and the audit log."},
    {"name": "operations", "description": "Health and readiness."},
]


def delivery_worker(settings: Settings, database: Database, stop: threading.Event, clock: Clock | None = None) -> None:
    """A webhook delivery worker until ``stop`` (in-process for `serve`, or `credit-registry worker`),
    with the event retention running beside it."""
    clock = clock or SystemClock()
    log = logging.getLogger("registry.webhooks")
    keeper = threading.Thread(target=housekeeping, args=(settings, database, stop, clock), name="housekeeping",
                              daemon=True)
    keeper.start()
    delivery.run(
        lambda: transaction(database), owner=f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}",
        policy=delivery.DeliveryPolicy(
            allowed_hosts=frozenset(settings.webhook_allowed_hosts), threads=settings.webhook_threads,
            per_endpoint=settings.webhook_per_endpoint, attempt_seconds=settings.webhook_attempt_seconds,
            lease_seconds=max(settings.webhook_lease_seconds, settings.webhook_attempt_seconds + 2)),
        stop=stop, clock=clock, idle_seconds=settings.webhook_poll_seconds,
        on_error=lambda error: log.exception("delivery round failed", exc_info=error),
    )
    keeper.join(timeout=10)


def housekeeping(settings: Settings, database: Database, stop: threading.Event, clock: Clock) -> None:
    """The lifecycle sweep (records whose publicity window or term ended) every
    ``lifecycle_sweep_seconds``, and event retention hourly. Several workers may run both: each
    sweep takes only what no other holds, and retention's pruners take turns."""
    log = logging.getLogger("registry.housekeeping")
    unit_of_work = lambda: transaction(database)  # noqa: E731
    last_pruned = float("-inf")
    while True:
        try:
            lifecycle.sweep(unit_of_work, now=clock.now())
        except Exception:  # the next round tries again
            log.exception("lifecycle sweep failed")
        if time.monotonic() - last_pruned >= 3600:
            last_pruned = time.monotonic()
            try:
                retention.prune_events(unit_of_work, now=clock.now(), keep_days=settings.event_retention_days)
            except Exception:
                log.exception("event retention failed")
        if stop.wait(settings.lifecycle_sweep_seconds):
            return


def _operation_id(route: APIRoute) -> str:
    # Stable ids for generated clients: the route's function name, never the path.
    return route.name


def _scope_alternatives(document: dict[str, Any]) -> dict[str, Any]:
    """Operations that accept one of several scopes (``api.security.ANY_OF``) list one security
    requirement per scope: any one of them is enough."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and (scopes := operation.pop(ANY_OF, None)):
                operation["security"] = [{"departmentToken": [scope]} for scope in scopes]
    return document


def _document_problems(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _scope_alternatives(
                problems.document_common_problems(problems.only_problem_json(generate())))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # how FastAPI documents a custom schema


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Requests on the thread pool (api.middleware.overload.InFlightLimit): each may hold a read or write
    # connection, so each pool has room for all of them and none waits for another to free one.
    # Headroom beyond them for the audit entries written after a response, the webhook worker and
    # the lifecycle sweep.
    threaded = settings.max_in_flight_public + settings.max_in_flight_department
    database = open_registry_database(settings, connections=max(threaded + 8, POOL_SIZE + MAX_OVERFLOW))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Room for every admitted request plus the audit entry the trail writes after it (outside
        # the budget): a request holding a connection or SQLite's write turn never waits for a thread.
        to_thread.current_default_thread_limiter().total_tokens = max(40, 2 * threaded)
        stop = threading.Event()
        worker = None
        if settings.webhook_worker_in_process:
            worker = threading.Thread(target=delivery_worker, args=(settings, database, stop, app.state.clock),
                                      name="webhook-worker", daemon=True)
            worker.start()
        yield
        stop.set()
        if worker is not None:
            worker.join(timeout=20)
        database.dispose()

    # Swagger UI and ReDoc from the service itself: an intranet without the internet has no CDN.
    app = FastAPIOffline(
        docs_url=DOCS_URL,
        redoc_url=REDOC_URL,
        title="Quality Credit Registry",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.clock = clock or SystemClock()
    app.state.keyring = _keyring(settings, app.state.clock)
    app.state.token_refusals = TokenRefusals()
    app.state.storage_full = StorageFull()
    app.state.client_address = ClientAddress(settings.trusted_proxies, settings.client_ip_header)
    # Token requests per client address: bursts of 10, then one every 2 seconds.
    app.state.token_limiter = RateLimiter(per_minute=30, burst=10)
    problems.install(app)
    _document_problems(app)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "web" / "static"), name="static")
    for router in (pages.router, public.router, public_lists.router, public_intake.router, auth.router,
                   organizations.router, records.router, batches.router, decisions.router, events.router, webhooks.router,
                   admin.router, health.router, credit.router, credit_reports.router, report_pages.router,
                   statistics.router, statistics_pages.router, complaints.public_router, complaints.router,
                   complaint_pages.router,
                   inspections.router, inspection_pages.router):
        app.include_router(router)
    document_webhooks(app.webhooks)  # what the registry sends, for the document alone
    # Outermost last: the trail sees every request, including those the rate limit refuses.
    app.add_middleware(PublicCaching, max_age=settings.public_cache_seconds)
    app.add_middleware(PublicRateLimit,
                       limiter=RateLimiter(settings.public_rate_per_minute, settings.public_rate_burst),
                       filings=RateLimiter(settings.public_filing_per_minute, settings.public_filing_burst),
                       addresses=app.state.client_address)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, idle_seconds=settings.body_idle_seconds,
                       larger={"/v1/batches": settings.max_batch_bytes})  # streamed, never held
    app.add_middleware(InFlightLimit, lookup=settings.max_in_flight_lookup, public=settings.max_in_flight_public,
                       department=settings.max_in_flight_department,
                       wait=settings.admission_wait_seconds)  # inside the trail: refusals are logged
    app.add_middleware(RequestTrail, access_log_enabled=settings.access_log)
    if settings.cors_origins:  # outermost, so a preflight is answered before anything else looks at it
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match",
                                          "Ticket-Secret"],
                           expose_headers=["ETag", "Retry-After", "X-Request-ID", "Idempotent-Replayed"], max_age=600)
    # Outermost of all: every answer, a preflight's or a refusal's included, carries nosniff.
    app.add_middleware(SecurityHeaders, docs_pages=frozenset(
        path for path in (DOCS_URL, REDOC_URL, app.swagger_ui_oauth2_redirect_url) if path),
        styled_at_run_time=frozenset({REDOC_URL}))
    return app


def _keyring(settings: Settings, clock: Clock) -> Keyring:
    if settings.signing_key:
        return Keyring(signing_kid=settings.signing_key_id, signing_pem=settings.signing_key,
                       previous=settings.previous_public_keys, clock=clock)
    return Keyring(directory=settings.keys_dir, clock=clock)
