"""``credit-registry``, the operator's commands: serve the API and run the webhook worker; migrate
and load demo data; departments and their API clients; signing and secrets keys; the lifecycle
sweep and event pruning; and ``push``, a department's bulk upload client. ``--help`` lists them."""

import json
import os
import sys
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path

import typer
import typer.core
import uvicorn
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

# click's Context and UsageError as typer bundles them: typer exports only their subclasses
# (typer.Context, which commands are not given, and BadParameter), and a missing option or an
# unknown one is a UsageError that is not a BadParameter.
from typer._click import Context as ClickContext
from typer._click.exceptions import UsageError

from api import logs
from api.settings import Settings, get_settings
from api.storage import PRIVATE_UMASK, make_private, open_registry_database
from api.tokens import Keyring, KeyringError, generate_key_pem
from cli import demo, report_commands, statistics_commands
from cli.registry import unit_of_work
from db import migrations, sealing
from db.session import transaction
from service.access import clients
from service.access.actors import Scope
from service.rules import lifecycle, reference
from service.rules.clock import SystemClock, local_date
from service.rules.department_kinds import DEPARTMENT_KINDS
from service.sync import retention
from service.sync.webhooks import endpoints

cli = typer.Typer(help="Quality Credit Registry", no_args_is_help=True, add_completion=False)

CHUNK = 200  # organizations per transaction while loading demo data


@cli.callback()
def _owner_only() -> None:
    # Before any command: what the registry creates (the database, its -wal and -shm, keys, a
    # worker's files) is readable by the service's user only, whichever command created it first.
    os.umask(PRIVATE_UMASK)


@cli.command()
def migrate() -> None:
    """Apply database migrations up to the newest."""
    settings = get_settings()
    make_private(settings)
    migrations.upgrade(settings.database_url)
    typer.echo(f"database at migration {migrations.head_revision()}")


def load_demo(settings: Settings, organizations: int, *, only_if_empty: bool, seed: int = 2026) -> int:
    database = open_registry_database(settings)
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




@cli.command("create-department")
def create_department(
    code: str = typer.Argument(..., help="Short code, e.g. SZAMR"),
    name: str = typer.Option(..., "--name", help="Official name, e.g. 深圳市市场监督管理局"),
    kind: str = typer.Option("market_regulation", help=f"One of: {', '.join(DEPARTMENT_KINDS)}"),
    region: str = typer.Option("000000", "--region", help="GB/T 2260 division code"),
    name_en: str = typer.Option(None, "--name-en"),
) -> None:
    """Register a department (bootstrapping a fresh install needs no other tool)."""
    with unit_of_work() as session:
        reference.ensure_defaults(session, now=SystemClock().now())
        reference.add_department(session, code=code, name=name, name_en=name_en, kind=kind, region_code=region,
                                 now=SystemClock().now())
    typer.echo(f"department {code} created")


@cli.command("create-client")
def create_client(
    department: str = typer.Argument(..., help="Department code"),
    scope: list[Scope] = typer.Option(..., "--scope", help="Repeat for each scope"),
    name: str = typer.Option("default", "--name"),
    as_json: bool = typer.Option(False, "--json", help='Print {"client_id": ..., "client_secret": ...}'),
) -> None:
    """Create an API client; prints its id and secret once (only a hash is kept)."""
    with unit_of_work() as session:
        created = clients.create(session, department, name=name, scopes=[s.value for s in scope],
                                 now=SystemClock().now())
    if as_json:
        typer.echo(json.dumps({"client_id": created.client.client_id, "client_secret": created.secret}))
    else:
        typer.echo(f"client_id:     {created.client.client_id}\nclient_secret: {created.secret}\n"
                   f"scopes:        {created.client.scopes}\n(the secret is shown only now)")


@cli.command("rotate-signing-key")
def rotate_signing_key() -> None:
    """Add a new token signing key in the data directory. Running servers sign with it from their
    next request; the previous key verifies its tokens until they expire (15.5 minutes), then
    never again."""
    settings = get_settings()
    if settings.signing_key:
        typer.echo("the signing key comes from configuration: rotate it there", err=True)
        raise typer.Exit(code=2)
    typer.echo(f"new signing key {Keyring(directory=settings.keys_dir).rotate()}")


@cli.command("retire-signing-key")
def retire_signing_key(kid: str = typer.Argument(..., help="The kid of the key, as in /.well-known/jwks.json")) -> None:
    """Retire a token signing key at once (a leaked key): every running server refuses the tokens
    it signed from its next request, and it leaves the JWKS. The key that signs new tokens is
    refused: run rotate-signing-key first."""
    settings = get_settings()
    if settings.signing_key:
        typer.echo("the signing keys come from configuration: remove the key from REGISTRY_PREVIOUS_PUBLIC_KEYS "
                   "(or replace REGISTRY_SIGNING_KEY) and restart every process", err=True)
        raise typer.Exit(code=2)
    try:
        Keyring(directory=settings.keys_dir).retire(kid)
    except KeyringError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"signing key {kid} retired: tokens it signed are refused from now on")


cli.command("rotate-report-key")(report_commands.rotate_report_key)
cli.command("verify-report")(report_commands.verify_report)
cli.command("recount-statistics")(statistics_commands.recount_statistics)


@cli.command("generate-signing-key")
def generate_signing_key() -> None:
    """Print a new ES256 key as environment lines for a production configuration (.env)."""
    kid, pem = generate_key_pem()
    typer.echo(f"REGISTRY_SIGNING_KEY_ID={kid}\nREGISTRY_SIGNING_KEY=\"{pem.strip()}\"")


@cli.command("new-secrets-key")
def new_secrets_key() -> None:
    """Print a new key that seals webhook secrets, as an environment line for production (.env)."""
    typer.echo(f"REGISTRY_SECRETS_KEY={sealing.new_key()}")


@cli.command("seal-secrets")
def seal_secrets() -> None:
    """Seal the webhook secrets stored before sealing existed (migrated registries); run once,
    with the registry's secrets key configured."""
    with unit_of_work() as session:
        sealed = endpoints.seal_plain_secrets(session)
    typer.echo(f"{sealed} webhook secret(s) sealed")


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
    codes = ", ".join(code for code, *_ in demo.DEPARTMENTS)
    typer.echo(
        f"departments: {codes}\n"
        "to push records, create a client and get a token:\n"
        "  .venv/bin/credit-registry create-client SZAMR --scope records:read --scope records:write "
        "--scope lists:write\n"
        "  curl -s -d grant_type=client_credentials -d client_id=ID -d client_secret=SECRET "
        f"http://{settings.host}:{settings.port}/v1/auth/token"
    )


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
    make_private(settings)
    if migrate_first:
        migrations.upgrade(settings.database_url)
    uvicorn.run(
        "api.app:create_app", factory=True, host=host or settings.host, port=port or settings.port,
        workers=workers or settings.workers, log_config=None, access_log=False,
        log_level=settings.log_level, proxy_headers=False,
    )


@cli.command()
def worker() -> None:
    """Deliver webhooks (run as many as needed; they share the work through leases)."""
    import signal
    import threading

    from api.app import delivery_worker

    settings = get_settings()
    logs.configure(settings.log_level)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    database = open_registry_database(settings)
    try:
        delivery_worker(settings, database, stop)
    finally:
        database.dispose()


@cli.command("prune-events")
def prune_events(
    keep_days: int = typer.Option(None, "--keep-days", min=1, help="Default: REGISTRY_EVENT_RETENTION_DAYS"),
) -> None:
    """Delete change-feed events older than the retention period now (workers also do it hourly)."""
    settings = get_settings()
    database = open_registry_database(settings)
    try:
        deleted = retention.prune_events(lambda: transaction(database), now=SystemClock().now(),
                                         keep_days=keep_days or settings.event_retention_days)
    finally:
        database.dispose()
    typer.echo(f"deleted {deleted} events")


@cli.command()
def sweep() -> None:
    """Expire records whose publicity window or term ended and end red entries in force beside a black
    one, now (workers do it every few minutes)."""
    settings = get_settings()
    database = open_registry_database(settings)
    try:
        expired = lifecycle.sweep(lambda: transaction(database), now=SystemClock().now())
    finally:
        database.dispose()
    typer.echo(f"expired {expired} records")


class _PushCommand(typer.core.TyperCommand):
    """``push`` exits 3 on bad usage (a missing file, an unknown option or value), so a script can
    tell it from 2, a push that gave up, which click would also use for usage errors."""

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except UsageError as error:
            error.exit_code = PUSH_BAD_USAGE
            raise


PUSH_BAD_USAGE = 3


def _one_of(*allowed: str) -> Callable[[str | None], str | None]:
    def check(value: str | None) -> str | None:
        if value is not None and value.lower() not in allowed:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}")
        return value.lower() if value is not None else None
    return check


@cli.command(cls=_PushCommand)
def push(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="NDJSON (.ndjson) or CSV file"),
    url: str = typer.Option("http://127.0.0.1:8000", help="The registry's base URL"),
    client_id: str = typer.Option(..., envvar="REGISTRY_CLIENT_ID"),
    client_secret: str = typer.Option(..., envvar="REGISTRY_CLIENT_SECRET", hide_input=True),
    batch_lines: int = typer.Option(5000, min=1, max=1_000_000, help="Lines per request"),
    file_format: str = typer.Option(None, "--format", callback=_one_of("ndjson", "csv"),
                                    help="ndjson or csv (default: from the file's extension)"),
    charset: str = typer.Option("utf-8", callback=_one_of("utf-8", "gb18030"),
                                help="The file's encoding: utf-8 or gb18030"),
    atomic: bool = typer.Option(False, help="Each batch all or nothing"),
    give_up_after: float = typer.Option(600, min=0, max=7 * 86400, metavar="SECONDS",
                                        help="Keep retrying a request that fails (no connection, 429, 503, a "
                                             "batch still being applied) this long before giving up"),
) -> None:
    """Push a file of records to the registry in batches, with progress; rejected lines go to
    FILE.rejects.csv. Rides out an outage, waiting as the registry's Retry-After says. Exits 0
    when every line was accepted (duplicates are reported, not errors), 1 when a line was
    rejected, 2 when it gave up (the reason is printed), 3 on bad usage."""
    from cli import push_client

    format_ = push_client.format_of(file, file_format)
    content_type = "text/csv" if format_ == "csv" else "application/x-ndjson"
    content_type += f"; charset={charset}"
    total = max(0, push_client.count_lines(file) - (1 if format_ == "csv" else 0))
    totals = push_client.Totals()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]:>8} rows/s"), TimeRemainingColumn())
    started = time.monotonic()
    pusher = None
    try:
        with Progress(*columns, transient=False) as progress:
            task = progress.add_task(f"pushing {file.name}", total=total, rate="-")
            announced: set[tuple[str, str]] = set()

            def waiting(what: str, reason: str, seconds: float, give_up_in: float) -> None:
                # The countdown in the bar; one printed line per kind of wait, which logs keep.
                if (what, reason) not in announced:
                    announced.add((what, reason))
                    progress.console.print(f"{what}: {reason}; retrying (giving up after {give_up_after:g} s)")
                progress.update(task, description=f"{what}: {reason}; retry in {seconds:.0f} s, "
                                                  f"giving up in {give_up_in:.0f} s")

            pusher = push_client.Pusher(url, client_id, client_secret, give_up_after=give_up_after, on_wait=waiting)
            for batch in push_client.batches(file, format_=format_, size=batch_lines):
                result = pusher.send(batch, source=file, content_type=content_type, atomic=atomic)
                totals.lines += len(batch.lines)
                totals.accepted += result["accepted"]
                totals.duplicates += result["duplicates"]
                totals.rejected += result["rejected"]
                totals.problems += [push_client.problem_of(batch, r, charset) for r in pusher.problems(result)]
                progress.update(task, advance=len(batch.lines), description=f"pushing {file.name}",
                                rate=f"{totals.lines / max(time.monotonic() - started, 1e-9):,.0f}")
    except push_client.PushFailed as error:
        typer.echo(f"push gave up: {error}", err=True)
        raise typer.Exit(2) from None
    finally:
        if pusher is not None:
            pusher.close()
    rejects = file.with_name(file.name + ".rejects.csv")
    if totals.problems:
        push_client.write_rejects(rejects, totals.problems)
    typer.echo(f"{totals.accepted} accepted, {totals.duplicates} duplicates, {totals.rejected} rejected "
               f"in {time.monotonic() - started:.1f} s" + (f"; see {rejects}" if totals.problems else ""))
    if totals.rejected:
        raise typer.Exit(1)


def main() -> None:
    cli()
