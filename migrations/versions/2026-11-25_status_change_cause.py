"""status change cause: which record's change caused a status change

Read by hand. Lets a withdrawn black listing reinstate the red entries it ended. Earlier
supersessions are linked from the event log, where their cause was recorded as superseded_by.

Revision ID: 20261125_0004
Revises: 20261125_0003
Create Date: 2026-11-25 19:35:09.894107
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import db.types

revision: str = '20261125_0004'
down_revision: str | None = '20261125_0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('record_status_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('caused_by', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_record_status_change_caused_by'), ['caused_by'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_record_status_change_caused_by_record'), 'record', ['caused_by'], ['id'])

    connection = op.get_bind()
    removals = connection.execute(sa.text("SELECT record_id, envelope FROM event WHERE type = 'list_entry.removed'"))
    for record_id, envelope in removals.all():
        cause = json.loads(envelope).get("data", {}).get("superseded_by")
        if cause:
            connection.execute(
                sa.text("UPDATE record_status_change SET caused_by = :cause "
                        "WHERE record_id = :record AND status = 'superseded' AND caused_by IS NULL"),
                {"cause": cause, "record": record_id},
            )


def downgrade() -> None:
    with op.batch_alter_table('record_status_change', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_record_status_change_caused_by_record'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_record_status_change_caused_by'))
        batch_op.drop_column('caused_by')

