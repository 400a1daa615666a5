"""event retention: where the pruned prefix of the log ends, and indexes to find old events

Read by hand: no table changes shape. The ``purged_through`` counter row records the highest
``seq`` retention has deleted (0: nothing yet); cursors below it are expired (410). Indexes: events
by time (retention's cutoff), deliveries by event (retention, replay) and by endpoint and due time
(a claimer takes one endpoint's oldest due deliveries under the per-endpoint cap).

Revision ID: 20261125_0007
Revises: 20261125_0006
Create Date: 2026-11-26 02:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '20261125_0007'
down_revision: str | None = '20261125_0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("INSERT INTO event_counter (name, value) VALUES ('purged_through', 0)")
    op.create_index(op.f('ix_event_occurred_at'), 'event', ['occurred_at'], unique=False)
    op.create_index('ix_webhook_delivery_event_seq', 'webhook_delivery', ['event_seq'], unique=False)
    op.create_index('ix_webhook_delivery_endpoint_due', 'webhook_delivery',
                    ['endpoint_id', 'status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhook_delivery_endpoint_due', table_name='webhook_delivery')
    op.drop_index('ix_webhook_delivery_event_seq', table_name='webhook_delivery')
    op.drop_index(op.f('ix_event_occurred_at'), table_name='event')
    op.execute("DELETE FROM event_counter WHERE name = 'purged_through'")
