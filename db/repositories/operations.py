"""Counts for /metrics: each one a small indexed query, never a scan of a large table."""

from datetime import date

from sqlalchemy import Connection, func, select

from db.tables import Objection, Record, RepairRequest, WebhookDelivery, WebhookEndpoint, table_of

_objection, _repair, _record = table_of(Objection), table_of(RepairRequest), table_of(Record)
_delivery, _endpoint = table_of(WebhookDelivery), table_of(WebhookEndpoint)


def overdue_objections(conn: Connection, today: date) -> list[tuple[str, int]]:
    """(department, pending objections past their deadline) for departments that have any."""
    statement = (select(_record.c.department_code, func.count())
                 .select_from(_objection.join(_record, _record.c.id == _objection.c.record_id))
                 .where(_objection.c.status == "pending", _objection.c.deadline < today)
                 .group_by(_record.c.department_code).order_by(_record.c.department_code))
    return [(department, count) for department, count in conn.execute(statement)]


def pending_tickets(conn: Connection) -> dict[str, int]:
    return {name: conn.execute(select(func.count()).select_from(table).where(table.c.status == "pending")).scalar_one()
            for name, table in (("objection", _objection), ("repair_request", _repair))}


def unfinished_deliveries(conn: Connection) -> dict[str, int]:
    """Deliveries waiting, in flight, or given up (succeeded ones are not counted: they pile up).
    A dead letter whose event a resend or replay has since delivered to the endpoint is not
    counted: nothing is missing any more, and an alert on it would never clear."""
    delivered = _delivery.alias("delivered")
    # Looked up by event (ix_webhook_delivery_event_seq: one row per endpoint that got it).
    superseded = (select(delivered.c.id)
                  .where(delivered.c.event_seq == _delivery.c.event_seq,
                         delivered.c.endpoint_id == _delivery.c.endpoint_id, delivered.c.status == "succeeded")
                  .exists())
    statement = (select(_delivery.c.status, func.count())
                 .where(_delivery.c.status.in_(("pending", "sending")) | ((_delivery.c.status == "failed") & ~superseded))
                 .group_by(_delivery.c.status))
    return {"pending": 0, "sending": 0, "failed": 0} | dict(conn.execute(statement).all())


def disabled_endpoints(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(_endpoint).where(_endpoint.c.status == "disabled")).scalar_one()
