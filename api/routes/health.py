"""Liveness and readiness for the orchestrator."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import DatabaseDep
from service import operations

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migration: str | None
    expected_migration: str | None


@router.get("/healthz", response_model=Health, operation_id="healthz")
async def healthz() -> Health:
    """The process is alive (answers without touching the database)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, operation_id="readyz",
            responses={503: {"model": Readiness, "description": "Not ready"}})
def readyz(database: DatabaseDep) -> JSONResponse:
    """Ready to serve: the database answers and its schema is at the newest migration."""
    readiness = operations.readiness(database)
    return JSONResponse(readiness.__dict__, status_code=200 if readiness.status == "ready" else 503)
