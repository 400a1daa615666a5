"""batches: bulk pushes and the result of each of their lines

Read by hand: two new tables, nothing existing changes. ``uq_batch_client_key`` makes an
Idempotency-Key name one batch per client; ``batch_line`` is keyed by (batch, line number).

Revision ID: 20261126_0009
Revises: 20261126_0008
Create Date: 2026-11-26 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import db.types

revision: str = '20261126_0009'
down_revision: str | None = '20261126_0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('batch',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('format', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('atomic', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', db.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['department_code'], ['department.code'], name=op.f('fk_batch_department_code_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch'))
    )
    op.create_index('uq_batch_client_key', 'batch', ['client_id', 'idempotency_key'], unique=True)
    op.create_table('batch_line',
    sa.Column('batch_id', sa.String(length=40), nullable=False),
    sa.Column('line', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('record_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('organization', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True),
    sa.Column('existing_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_batch_line_batch_id_batch')),
    sa.PrimaryKeyConstraint('batch_id', 'line', name=op.f('pk_batch_line'))
    )


def downgrade() -> None:
    op.drop_table('batch_line')
    op.drop_index('uq_batch_client_key', table_name='batch')
    op.drop_table('batch')
