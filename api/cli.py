"""``credit-registry``: serve, migrate, load demo data. More commands come with later issues."""

import sys
from itertools import islice

import typer
import uvicorn
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from api import logs
from api.settings import Settings, get_settings
from db import migrations
from db.session import open_database, transaction
from service import demo
from service.clock import SystemClock, local_date

cli = typer.Typer(help="Quality Credit Registry", no_args_is_help=True, add_completion=False)

CHUNK = 200  # organizations per transaction while loading demo data


@cli.command()
def migrate() -> None:
    """Apply database migrations up to the newest."""
    settings = get_settings()
    migrations.upgrade(settings.database_url)
    typer.echo(f"database at migration {migrations.head_revision()}")


def load_demo(settings: Settings, organizations: int, *, only_if_empty: bool, seed: int = 2026) -> int:
    database = open_database(settings.database_url)
    now = SystemClock().now()
    try:
        with transaction(database) as session:
            if only_if_empty and demo.is_loaded(session):
                return 0
            demo.ensure_departments(session, now=now)
        plans = demo.plan(organizations, today=local_date(now), seed=seed)
        total = organizations + len(demo.KNOWN)
        with Progress(TextColumn("demo data"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.speed} org/s"),
                      TimeRemainingColumn(), transient=not sys.stderr.isatty()) as progress:
            task = progress.add_task("organizations", total=total)
            while chunk := list(islice(plans, CHUNK)):
                with transaction(database) as session:
                    for plan in chunk:
                        demo.load(session, plan, now=now)
                progress.advance(task, len(chunk))
        return total
    finally:
        database.dispose()


@cli.command("demo-data")
def demo_data(
    organizations: int = typer.Option(300, "--organizations", "-n", min=0, max=2_000_000,
                                      help="How many invented organizations to add"),
    seed: int = typer.Option(2026, help="Random seed; the same seed gives the same data"),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when organizations exist"),
) -> None:
    """Load a realistic demo dataset (applies migrations first)."""
    settings = get_settings()
    migrations.upgrade(settings.database_url)
    loaded = load_demo(settings, organizations, only_if_empty=if_empty, seed=seed)
    typer.echo(f"loaded {loaded} organizations" if loaded else "database already has data; nothing loaded")


@cli.command()
def serve(
    host: str = typer.Option(None, help="Default: REGISTRY_HOST or 127.0.0.1"),
    port: int = typer.Option(None, help="Default: REGISTRY_PORT or 8000"),
    workers: int = typer.Option(None, help="Default: REGISTRY_WORKERS or 1"),
    migrate_first: bool = typer.Option(True, "--migrate/--no-migrate", help="Apply migrations before serving"),
) -> None:
    """Serve the API (and the docs at /docs)."""
    settings = get_settings()
    logs.configure(settings.log_level)
    if migrate_first:
        migrations.upgrade(settings.database_url)
    uvicorn.run(
        "api.app:create_app", factory=True, host=host or settings.host, port=port or settings.port,
        workers=workers or settings.workers, log_config=None, access_log=False,
        log_level=settings.log_level, proxy_headers=False,
    )


def main() -> None:
    cli()
