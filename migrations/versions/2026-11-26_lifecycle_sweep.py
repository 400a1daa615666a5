"""lifecycle sweep: find active records whose public life ended

Read by hand: one index, nothing else. The sweep asks "active, and ends_on on or before today",
ordered by ends_on.

Revision ID: 20261126_0008
Revises: 20261125_0007
Create Date: 2026-11-26 01:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '20261126_0008'
down_revision: str | None = '20261125_0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_record_status_ends_on', 'record', ['status', 'ends_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_record_status_ends_on', table_name='record')
