"""``credit-registry recount-statistics``: rebuild the public statistics from the rows they count."""

import typer

from api.settings import get_settings
from api.storage import open_registry_database
from db.session import transaction
from service.statistics import recount


def recount_statistics() -> None:
    """Rebuild the statistics' counts from the records, organizations, supervision classes and
    measures applied (an operator's repair; the writes keep them current otherwise). Writers wait
    for the recount's few seconds, so none is counted twice or lost."""
    settings = get_settings()
    database = open_registry_database(settings)
    try:
        with transaction(database) as session:
            before = recount.kept(session.connection())
            counted = recount.rebuild(session.connection())
            after = recount.kept(session.connection())
            differed = sum(1 for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    finally:
        database.dispose()
    typer.echo(f"recounted {counted} statistic counts; {differed} differed from the counts kept")
