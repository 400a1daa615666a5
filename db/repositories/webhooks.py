"""Queries on webhook endpoints, secrets, deliveries and attempts."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, update
from sqlalchemy import select as select_columns  # SQLModel's select types four columns at most
from sqlmodel import Session, col, or_, select

from db.inserts import insert_rows
from db.repositories.records import event_visible_to
from db.sealing import is_sealed, sealer_of
from db.tables import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookSecret


@dataclass(frozen=True)
class ClaimedDelivery:
    id: str
    endpoint_id: str
    url: str
    attempts: int
    event_id: str
    envelope: str


def _due(now: datetime) -> ColumnElement[bool]:
    """Deliveries a worker may take now: pending and due, or held under a lease that ran out."""
    return and_(or_(WebhookDelivery.status == "pending",
                    (col(WebhookDelivery.status) == "sending") & (col(WebhookDelivery.lease_until) < now)),
                col(WebhookDelivery.next_attempt_at) <= now)


class WebhookRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def endpoint(self, endpoint_id: str, *, owner: str) -> WebhookEndpoint | None:
        statement = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id,
                                                  WebhookEndpoint.department_code == owner)
        return self.session.exec(statement).first()

    def endpoints_of(self, department_code: str) -> Sequence[WebhookEndpoint]:
        statement = (select(WebhookEndpoint).where(WebhookEndpoint.department_code == department_code)
                     .order_by(col(WebhookEndpoint.created_at), col(WebhookEndpoint.id)))
        return self.session.exec(statement).all()

    def subscribed_pairs(self, first_seq: int, last_seq: int) -> list[tuple[int, str, str, Sequence[str] | None]]:
        """(seq, event type, endpoint, its type filter) for each enabled endpoint that gets each
        event in the range; nothing at all (one cheap query) when no endpoint is enabled."""
        if self.session.exec(select(WebhookEndpoint.id).where(WebhookEndpoint.status == "enabled").limit(1)).first() \
                is None:
            return []
        statement = (select(Event.seq, Event.type, WebhookEndpoint.id, WebhookEndpoint.event_types)
                     .join(WebhookEndpoint, col(WebhookEndpoint.status) == "enabled")
                     .where(Event.seq >= first_seq, Event.seq <= last_seq,
                            event_visible_to(WebhookEndpoint.department_code, Event.type, Event.record_id))
                     .order_by(col(Event.seq)))
        return [(seq, event_type, endpoint_id, event_types)
                for seq, event_type, endpoint_id, event_types in self.session.exec(statement)]

    def add_deliveries(self, rows: list[dict[str, Any]]) -> None:
        insert_rows(self.session, WebhookDelivery, rows)

    def secrets(self, endpoint_id: str, *, now: datetime) -> list[str]:
        """Secrets that sign now, newest first (opened: they are stored sealed)."""
        statement = (select(WebhookSecret.secret)
                     .where(WebhookSecret.endpoint_id == endpoint_id,
                            or_(col(WebhookSecret.expires_at).is_(None), col(WebhookSecret.expires_at) > now))
                     .order_by(col(WebhookSecret.id).desc()))
        sealer = sealer_of(self.session)
        return [sealer.open(stored, endpoint_id=endpoint_id) for stored in self.session.exec(statement)]

    def add_secret(self, endpoint_id: str, secret: str, *, now: datetime) -> None:
        sealed = sealer_of(self.session).seal(secret, endpoint_id=endpoint_id)
        self.add(WebhookSecret(endpoint_id=endpoint_id, secret=sealed, created_at=now))

    def seal_plain_secrets(self) -> int:
        """Seal the secrets stored before sealing existed; returns how many."""
        sealer = sealer_of(self.session)
        plain = [row for row in self.session.exec(select(WebhookSecret)) if not is_sealed(row.secret)]
        for row in plain:
            row.secret = sealer.seal(row.secret, endpoint_id=row.endpoint_id)
        self.add(*plain)
        return len(plain)

    def current_secret(self, endpoint_id: str) -> WebhookSecret | None:
        statement = select(WebhookSecret).where(WebhookSecret.endpoint_id == endpoint_id,
                                                col(WebhookSecret.expires_at).is_(None))
        return self.session.exec(statement).first()

    def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        self.session.flush()

    def deliveries(self, endpoint_id: str, *, status: str | None, limit: int) -> Sequence[WebhookDelivery]:
        statement = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        if status:
            statement = statement.where(WebhookDelivery.status == status)
        return self.session.exec(statement.order_by(col(WebhookDelivery.event_seq).desc()).limit(limit)).all()

    def first_succeeded(self, endpoint_id: str, event_seqs: Sequence[int]) -> dict[int, str]:
        """The first delivery of each of these events to the endpoint that succeeded, by event."""
        if not event_seqs:
            return {}
        statement = (select(WebhookDelivery.event_seq, WebhookDelivery.id)
                     .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "succeeded",
                            col(WebhookDelivery.event_seq).in_(set(event_seqs)))
                     .order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id).desc()))
        return dict(self.session.exec(statement).all())  # the first one last: it wins the dict

    def attempts(self, delivery_ids: Sequence[str]) -> Sequence[WebhookAttempt]:
        statement = (select(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(delivery_ids))
                     .order_by(col(WebhookAttempt.id)))
        return self.session.exec(statement).all() if delivery_ids else []

    def claim_due(self, *, now: datetime, owner: str, lease_until: datetime, limit: int,
                  per_endpoint: int) -> list[ClaimedDelivery]:
        """Take up to ``limit`` due deliveries of enabled endpoints (pending ones whose time has
        come, and ones whose worker's lease ran out: it died mid-delivery), at most
        ``per_endpoint`` in flight per endpoint over all workers, oldest due first.

        Claimers lock the endpoint rows they take work for (``FOR NO KEY UPDATE SKIP LOCKED``, which
        does not block writers adding deliveries), so on PostgreSQL two workers never count the
        same endpoint's in-flight deliveries at once; SQLite's write lock serializes claimers."""
        delivery = WebhookDelivery
        due = (col(delivery.endpoint_id) == WebhookEndpoint.id) & _due(now)
        oldest_due = select(func.min(delivery.next_attempt_at)).where(due).scalar_subquery()
        in_flight = (select(func.count()).select_from(delivery)
                     .where(delivery.endpoint_id == WebhookEndpoint.id, delivery.status == "sending",
                            col(delivery.lease_until) >= now).scalar_subquery())
        endpoint_ids = list(self.session.exec(
            select(WebhookEndpoint.id)
            .where(WebhookEndpoint.status == "enabled", select(delivery.id).where(due).exists(),
                   in_flight < per_endpoint)  # endpoints at their cap would only take the places of others
            .order_by(oldest_due).limit(limit)
            .with_for_update(skip_locked=True, key_share=True)
        ))
        if not endpoint_ids:
            return []
        busy = dict(self.session.exec(
            select(delivery.endpoint_id, func.count())
            .where(col(delivery.endpoint_id).in_(endpoint_ids), delivery.status == "sending",
                   col(delivery.lease_until) >= now)
            .group_by(delivery.endpoint_id)
        ).all())
        ids: list[str] = []
        for endpoint_id in endpoint_ids:
            room = min(per_endpoint - busy.get(endpoint_id, 0), limit - len(ids))
            if room > 0:
                ids += self.session.exec(
                    select(delivery.id).where(delivery.endpoint_id == endpoint_id, _due(now))
                    .order_by(col(delivery.next_attempt_at), col(delivery.event_seq)).limit(room)
                ).all()
        if not ids:
            return []
        # Only rows still due: a worker whose lease ran out may have recorded its outcome meanwhile.
        ids = list(self.session.execute(
            update(delivery).where(col(delivery.id).in_(ids), _due(now))
            .values(status="sending", lease_owner=owner, lease_until=lease_until, updated_at=now)
            .returning(col(delivery.id))).scalars())
        if not ids:
            return []
        rows = self.session.execute(
            select_columns(col(delivery.id), col(delivery.endpoint_id), col(WebhookEndpoint.url),
                           col(delivery.attempts), col(Event.id), col(Event.envelope))
            .join(WebhookEndpoint, col(WebhookEndpoint.id) == delivery.endpoint_id)
            .join(Event, col(Event.seq) == delivery.event_seq)
            .where(col(delivery.id).in_(ids))
            .order_by(col(delivery.event_seq))
        ).all()
        return [ClaimedDelivery(*row) for row in rows]

    def held(self, delivery_id: str, owner: str) -> WebhookDelivery | None:
        """The delivery, if ``owner`` still holds its lease (a late worker must not overwrite)."""
        statement = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                                  WebhookDelivery.lease_owner == owner,
                                                  WebhookDelivery.status == "sending")
        return self.session.exec(statement.with_for_update()).first()  # held until the outcome is written

    def endpoint_by_id(self, endpoint_id: str) -> WebhookEndpoint | None:
        return self.session.get(WebhookEndpoint, endpoint_id)

    def delivery_of(self, delivery_id: str, *, owner: str) -> WebhookDelivery | None:
        statement = (select(WebhookDelivery)
                     .join(WebhookEndpoint, col(WebhookEndpoint.id) == WebhookDelivery.endpoint_id)
                     .where(WebhookDelivery.id == delivery_id, WebhookEndpoint.department_code == owner))
        return self.session.exec(statement).first()

    def replayable(self, endpoint: WebhookEndpoint, *, since: datetime, until: datetime, mode: str,
                   limit: int) -> list[tuple[int, str]]:
        """(seq, type) of events in the window the endpoint's department may see and has not had
        delivered: ``failed``, those with a failed delivery; ``missing``, every one (also events
        from while the endpoint was disabled)."""
        delivered = select(WebhookDelivery.event_seq).where(WebhookDelivery.endpoint_id == endpoint.id,
                                                            WebhookDelivery.status == "succeeded")
        sees = event_visible_to(endpoint.department_code, Event.type, Event.record_id)
        statement = (select(Event.seq, Event.type)
                     .where(Event.occurred_at >= since, Event.occurred_at <= until,
                            col(Event.seq).not_in(delivered),
                            sees)
                     .order_by(col(Event.seq)).limit(limit))
        if mode == "failed":
            failed = select(WebhookDelivery.event_seq).where(WebhookDelivery.endpoint_id == endpoint.id,
                                                             WebhookDelivery.status == "failed")
            statement = statement.where(col(Event.seq).in_(failed))
        return [(seq, event_type) for seq, event_type in self.session.exec(statement)]
