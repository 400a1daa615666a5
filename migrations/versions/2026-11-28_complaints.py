"""complaints and reports (投诉举报)

Read by hand. New tables only, both empty:
1. ``complaint``: what the public files about an organization or a product, the department
   handling it (NULL: the administrators' queue), its deadlines, its answer (as written, and with
   personal data masked for the filer's status page). ``open_key`` is unique while a complaint is
   open (a hash of the filer's contact and the subject; NULL once decided), so one filer keeps at
   most one open complaint per organization or product. ``ix_complaint_department`` serves a
   department's queue in filing order; ``ix_complaint_status_accept_by`` and ``_resolve_by`` let
   the overdue counts of /metrics read only the late complaints.
2. ``complaint_action``: the trail of each complaint (filed, accepted, rejected, transferred,
   closed), who acted and why.

The deadlines come from two new rules of the rule set (``complaint_acceptance_days``,
``complaint_resolution_days``); rule set versions stored before have no such keys and read with
the defaults, so nothing stored changes. Complaint events carry the complaint's id in
``event.record_id``: no column of ``event`` changes.

Downgrade drops both tables (the complaints are lost).

Revision ID: 20261128_0015
Revises: 20261128_0014
Create Date: 2026-11-28 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import db.types

revision: str = '20261128_0015'
down_revision: str | None = '20261128_0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('complaint',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('organization_uscc', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True),
    sa.Column('product_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('brand', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('public_description', sa.Text(), nullable=False),
    sa.Column('evidence_urls', sa.JSON(), nullable=False),
    sa.Column('contact', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('open_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('rule_set_id', sa.Integer(), nullable=False),
    sa.Column('accept_by', sa.Date(), nullable=False),
    sa.Column('resolve_by', sa.Date(), nullable=True),
    sa.Column('secret_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('filed_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('public_answer', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['department_code'], ['department.code'], name=op.f('fk_complaint_department_code_department')),
    sa.ForeignKeyConstraint(['organization_uscc'], ['organization.uscc'], name=op.f('fk_complaint_organization_uscc_organization')),
    sa.ForeignKeyConstraint(['rule_set_id'], ['rule_set.id'], name=op.f('fk_complaint_rule_set_id_rule_set')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint'))
    )
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_department', ['department_code', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_organization_uscc'), ['organization_uscc'], unique=False)
        batch_op.create_index('uq_complaint_open_key', ['open_key'], unique=True)
        batch_op.create_index('ix_complaint_status_accept_by', ['status', 'accept_by'], unique=False)
        batch_op.create_index('ix_complaint_status_resolve_by', ['status', 'resolve_by'], unique=False)

    op.create_table('complaint_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('to_department', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_complaint_action_complaint_id_complaint')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_action'))
    )
    with op.batch_alter_table('complaint_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_action_complaint_id'), ['complaint_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaint_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_action_complaint_id'))
    op.drop_table('complaint_action')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_status_resolve_by')
        batch_op.drop_index('ix_complaint_status_accept_by')
        batch_op.drop_index('uq_complaint_open_key')
        batch_op.drop_index(batch_op.f('ix_complaint_organization_uscc'))
        batch_op.drop_index('ix_complaint_department')
    op.drop_table('complaint')
