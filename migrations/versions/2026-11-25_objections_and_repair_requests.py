"""objections and repair requests: public intake, decided later by the record's department

Read by hand: two new tables, nothing existing changes.

Revision ID: 20261125_0005
Revises: 20261125_0004
Create Date: 2026-11-25 19:39:35
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import db.types

revision: str = '20261125_0005'
down_revision: str | None = '20261125_0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('objection',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('record_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('contact', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('secret_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('rule_set_id', sa.Integer(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('filed_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_objection_record_id_record')),
    sa.ForeignKeyConstraint(['rule_set_id'], ['rule_set.id'], name=op.f('fk_objection_rule_set_id_rule_set')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objection'))
    )
    op.create_index(op.f('ix_objection_record_id'), 'objection', ['record_id'], unique=False)

    op.create_table('repair_request',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('record_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('commitment', sa.Text(), nullable=False),
    sa.Column('contact', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('secret_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('filed_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_repair_request_record_id_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repair_request'))
    )
    op.create_index(op.f('ix_repair_request_record_id'), 'repair_request', ['record_id'], unique=False)



def downgrade() -> None:
    op.drop_index(op.f('ix_repair_request_record_id'), table_name='repair_request')

    op.drop_table('repair_request')
    op.drop_index(op.f('ix_objection_record_id'), table_name='objection')

    op.drop_table('objection')
