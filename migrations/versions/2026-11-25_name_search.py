"""name search: the two- and three-character piece index of organization names

Read by hand. Existing organizations are indexed here; the piece rule is copied (not imported)
so this revision keeps doing what it did when the service code moves on.

Revision ID: 20261125_0003
Revises: 20261125_0002
Create Date: 2026-11-25 19:28:54.035260
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import db.types

revision: str = '20261125_0003'
down_revision: str | None = '20261125_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    grams = op.create_table('organization_name_gram',
    sa.Column('gram', sa.String(length=3), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.ForeignKeyConstraint(['uscc'], ['organization.uscc'], name=op.f('fk_organization_name_gram_uscc_organization')),
    sa.PrimaryKeyConstraint('gram', 'uscc', name=op.f('pk_organization_name_gram')),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT uscc, name FROM organization")).all()
    batch = []
    for uscc, name in rows:
        folded = unicodedata.normalize("NFKC", name).lower()
        connection.execute(sa.text("UPDATE organization SET search_name = :folded WHERE uscc = :uscc"),
                           {"folded": folded, "uscc": uscc})
        pieces = {folded[i:i + n] for n in (2, 3) for i in range(len(folded) - n + 1)}
        batch.extend({"gram": g, "uscc": uscc} for g in pieces)
        if len(batch) >= 10_000:
            op.bulk_insert(grams, batch)
            batch = []
    if batch:
        op.bulk_insert(grams, batch)
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.alter_column('search_name', existing_type=sqlmodel.sql.sqltypes.AutoString(length=200),
                              nullable=False)


def downgrade() -> None:
    op.drop_table('organization_name_gram')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('search_name')
