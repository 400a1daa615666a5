"""Liveness and readiness for the orchestrator."""

import dataclasses
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from api.deps import DatabaseDep, SettingsDep, StorageFullDep, Today, TokenRefusalsDep
from api.problems import problem_response
from api.schemas.operations import Health, Readiness
from service import operations

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, operation_id="healthz")
async def healthz() -> Health:
    """The process is alive (answers without touching the database)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, operation_id="readyz",
            responses={503: {"model": Readiness, "description": "Not ready"}})
def readyz(database: DatabaseDep, storage_full: StorageFullDep) -> JSONResponse:
    """Ready to serve: the database answers and its schema is at the newest migration."""
    readiness = operations.readiness(database)
    # Nor while writes cannot commit: after a write refused for a full storage, until a probe
    # write commits (api.storage_full); the database then reads "storage_full".
    if readiness.status == "ready" and not storage_full.writable(database):
        readiness = dataclasses.replace(readiness, status="not_ready", database="storage_full")
    return JSONResponse(readiness.__dict__, status_code=200 if readiness.status == "ready" else 503)


@router.get("/metrics", response_class=PlainTextResponse, operation_id="metrics",
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}})
def metrics(request: Request, database: DatabaseDep, today: Today, settings: SettingsDep,
            storage_full: StorageFullDep, token_refusals: TokenRefusalsDep) -> Response:
    """Prometheus metrics: overdue objections by department, pending tickets, the webhook backlog
    and dead letters, the change feed's extent, bearer tokens refused by reason. Aggregate counts
    only; expose it to the monitoring network, not the internet, or set `REGISTRY_METRICS_TOKEN`
    and scrape with it."""
    expected = settings.metrics_token
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if expected and not hmac.compare_digest(given.encode(), expected.encode()):
        return problem_response(401, "Unauthorized", detail="metrics need the configured bearer token",
                                headers={"WWW-Authenticate": "Bearer"})
    text = operations.metrics(database, today=today) + token_refusals.exposition() + storage_full.exposition()
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")
