"""The registry's database for a command: migrated first, one transaction, a domain error told
as a sentence with exit code 2."""

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlmodel import Session

from api.settings import get_settings
from api.storage import open_registry_database
from db import migrations
from db.session import transaction
from service.errors import DomainError


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """Migrate, then one transaction; a domain error becomes a sentence and exit code 2."""
    settings = get_settings()
    migrations.upgrade(settings.database_url)
    database = open_registry_database(settings)
    try:
        with transaction(database) as session:
            yield session
    except DomainError as error:
        typer.echo(f"error: {error.detail}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        database.dispose()
