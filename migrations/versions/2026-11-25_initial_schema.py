"""initial schema: organizations, records with versions and status trail, reference data, event log

Read by hand: constraint names come from the naming convention in db/tables.py; the event
counter row is seeded here so taking a sequence number is always a single UPDATE.

Revision ID: 20261125_0001
Revises:
Create Date: 2026-11-25 19:05:24.604044
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import db.types

revision: str = '20261125_0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('department',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_department'))
    )
    op.create_table('event',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('occurred_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('organization_uscc', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True),
    sa.Column('record_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('envelope', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_event')),
    sa.UniqueConstraint('id', name=op.f('uq_event_id'))
    )
    op.create_index(op.f('ix_event_type'), 'event', ['type'], unique=False)

    op.create_table('event_counter',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_event_counter'))
    )
    op.execute("INSERT INTO event_counter (name, value) VALUES ('event', 0)")
    op.create_table('grade_scheme',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name_zh', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_grade_scheme'))
    )
    op.create_table('organization',
    sa.Column('uscc', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('org_code', sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('legal_representative', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('industry', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('check_digit_valid', sa.Boolean(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('uscc', name=op.f('pk_organization'))
    )
    op.create_index(op.f('ix_organization_org_code'), 'organization', ['org_code'], unique=False)
    op.create_index(op.f('ix_organization_region_code'), 'organization', ['region_code'], unique=False)

    op.create_table('rule_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_set'))
    )
    op.create_index('uq_rule_set_name_version', 'rule_set', ['name', 'version'], unique=True)

    op.create_table('grade',
    sa.Column('scheme_code', sa.String(length=32), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('label_zh', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('label_en', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.ForeignKeyConstraint(['scheme_code'], ['grade_scheme.code'], name=op.f('fk_grade_scheme_code_grade_scheme')),
    sa.PrimaryKeyConstraint('scheme_code', 'code', name=op.f('pk_grade'))
    )
    op.create_table('record',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('organization_uscc', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('visibility', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('decision_no', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('list_name', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('grade_scheme', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('grade', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('rule_set_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_code'], ['department.code'], name=op.f('fk_record_department_code_department')),
    sa.ForeignKeyConstraint(['organization_uscc'], ['organization.uscc'], name=op.f('fk_record_organization_uscc_organization')),
    sa.ForeignKeyConstraint(['rule_set_id'], ['rule_set.id'], name=op.f('fk_record_rule_set_id_rule_set')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record'))
    )
    op.create_index('ix_record_list', 'record', ['list_name', 'status', 'effective_on'], unique=False)
    op.create_index('ix_record_organization_status', 'record', ['organization_uscc', 'status'], unique=False)
    op.create_index('uq_record_department_kind_decision', 'record', ['department_code', 'kind', 'decision_no'], unique=True)

    op.create_table('record_access',
    sa.Column('record_id', sa.String(length=40), nullable=False),
    sa.Column('department_code', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['department_code'], ['department.code'], name=op.f('fk_record_access_department_code_department')),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_record_access_record_id_record')),
    sa.PrimaryKeyConstraint('record_id', 'department_code', name=op.f('pk_record_access'))
    )
    op.create_table('record_status_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_record_status_change_record_id_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_status_change'))
    )
    op.create_index(op.f('ix_record_status_change_record_id'), 'record_status_change', ['record_id'], unique=False)

    op.create_table('record_version',
    sa.Column('record_id', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_code'], ['department.code'], name=op.f('fk_record_version_department_code_department')),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_record_version_record_id_record')),
    sa.PrimaryKeyConstraint('record_id', 'version', name=op.f('pk_record_version'))
    )


def downgrade() -> None:
    op.drop_table('record_version')
    op.drop_index(op.f('ix_record_status_change_record_id'), table_name='record_status_change')

    op.drop_table('record_status_change')
    op.drop_table('record_access')
    op.drop_index('uq_record_department_kind_decision', table_name='record')
    op.drop_index('ix_record_organization_status', table_name='record')
    op.drop_index('ix_record_list', table_name='record')

    op.drop_table('record')
    op.drop_table('grade')
    op.drop_index('uq_rule_set_name_version', table_name='rule_set')

    op.drop_table('rule_set')
    op.drop_index(op.f('ix_organization_region_code'), table_name='organization')
    op.drop_index(op.f('ix_organization_org_code'), table_name='organization')

    op.drop_table('organization')
    op.drop_table('grade_scheme')
    op.drop_table('event_counter')
    op.drop_index(op.f('ix_event_type'), table_name='event')

    op.drop_table('event')
    op.drop_table('department')
