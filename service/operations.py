"""Operational checks shared by the API and the CLI."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import SQLAlchemyError

from db import migrations
from db.repositories import complaints as complaint_counts
from db.repositories import feed as feed_queries
from db.repositories import operations as counts
from db.repositories import statistics as statistic_counts
from db.session import Database, reading


@dataclass(frozen=True)
class Readiness:
    status: str  # "ready" or "not_ready"
    database: str  # "ok" or "unreachable"
    migration: str | None
    expected_migration: str | None


def readiness(database: Database) -> Readiness:
    expected = migrations.head_revision()
    try:
        with database.reader.connect() as conn:
            current = migrations.current_revision(conn)
    except SQLAlchemyError:
        return Readiness("not_ready", "unreachable", None, expected)
    return Readiness("ready" if current == expected else "not_ready", "ok", current, expected)


def metrics(database: Database, *, today: date) -> str:
    """The Prometheus text exposition: what an operator alerts on (overdue objections, webhook
    backlog and dead letters, the feed's extent). Counts only; nothing about anyone."""
    with reading(database) as conn:
        overdue = counts.overdue_objections(conn, today)
        pending = counts.pending_tickets(conn)
        deliveries = counts.unfinished_deliveries(conn)
        disabled = counts.disabled_endpoints(conn)
        head, purged = feed_queries.head(conn), feed_queries.purged_through(conn)
        applied = statistic_counts.measures_applied(conn)  # kept by the writes: no scan per scrape
        complaints_overdue = complaint_counts.overdue_by_department(conn, today)
    lines = [
        "# HELP registry_objections_overdue Pending objections past their answer deadline, by deciding department.",
        "# TYPE registry_objections_overdue gauge",
        *(f'registry_objections_overdue{{department="{department}"}} {count}' for department, count in overdue),
        "# HELP registry_tickets_pending Objections and repair requests waiting for a decision.",
        "# TYPE registry_tickets_pending gauge",
        *(f'registry_tickets_pending{{kind="{kind}"}} {count}' for kind, count in pending.items()),
        "# HELP registry_webhook_deliveries Webhook deliveries waiting, in flight, or dead-lettered (failed, and "
        "not delivered since by a resend or replay).",
        "# TYPE registry_webhook_deliveries gauge",
        *(f'registry_webhook_deliveries{{status="{status}"}} {count}' for status, count in sorted(deliveries.items())),
        "# HELP registry_webhook_endpoints_disabled Endpoints that receive nothing (disabled by hand or on 410).",
        "# TYPE registry_webhook_endpoints_disabled gauge",
        f"registry_webhook_endpoints_disabled {disabled}",
        "# HELP registry_events_head Sequence number of the newest event in the change feed.",
        "# TYPE registry_events_head gauge",
        f"registry_events_head {max(head, purged)}",
        "# HELP registry_events_purged_through Highest sequence number removed by retention.",
        "# TYPE registry_events_purged_through gauge",
        f"registry_events_purged_through {purged}",
        "# HELP registry_measures_applied Measures departments reported applying (反馈), by measure and department.",
        "# TYPE registry_measures_applied gauge",
        *(f'registry_measures_applied{{measure="{measure}",department="{department}"}} {count}'
          for measure, department, count in applied),
        "# HELP registry_complaints_overdue Complaints past their deadline, by handling department (administrators: "
        "the queue no department was found for) and stage (acceptance: not accepted or rejected in time; "
        "resolution: accepted, not closed in time).",
        "# TYPE registry_complaints_overdue gauge",
        *(f'registry_complaints_overdue{{department="{department or "administrators"}",stage="{stage}"}} {count}'
          for department, stage, count in complaints_overdue),
    ]
    return "\n".join(lines) + "\n"
