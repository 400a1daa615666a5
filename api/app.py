"""The application factory. ``uvicorn --factory api.app:create_app`` serves it."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from api import problems
from api.logs import AccessLog
from api.routes import health, public
from api.settings import Settings, get_settings
from db.session import open_database
from service.clock import Clock, SystemClock

DESCRIPTION = """\
The Quality Credit Registry: organizations keyed on their unified social credit code, the credit
records departments decide about them (ratings, violations, disclosures, red and black list
entries), and what the public may see of them.

Errors are RFC 9457 `application/problem+json`. Organization codes in paths accept any typed form
(lower case, full-width, spaces, hyphens) and 9-character legacy organization codes.
"""

TAGS = [
    {"name": "public", "description": "No login. What anyone may see."},
    {"name": "operations", "description": "Health and readiness."},
]


def _operation_id(route: APIRoute) -> str:
    # Stable ids for generated clients: the route's function name, never the path.
    return route.name


def _document_problems(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = problems.only_problem_json(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = open_database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        database.dispose()

    app = FastAPI(
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
    problems.install(app)
    _document_problems(app)
    app.include_router(public.router)
    app.include_router(health.router)
    if settings.access_log:
        app.add_middleware(AccessLog)
    return app
