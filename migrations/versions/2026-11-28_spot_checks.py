"""spot checks: the inspection record kind's product search index

Read by hand. Spot-check results (监督抽查) are records of the kind ``inspection`` in the
``record`` table like every other kind (its ``kind`` column is free text: nothing to alter). What
is new is the public product search: ``inspection_product`` holds each public, active result's
filter columns and its folded product name and brand (from the masked public summary), and
``inspection_product_gram`` their two- and three-character pieces, keyed (gram, sort_key) so
one piece's products read newest first. The folded texts are unbounded: folding (NFKC) and
masking can make a 200-character field several times longer. Both are kept by the service in the transaction of
each write. No record of the kind exists before this revision, so there is nothing to backfill.

Revision ID: 20261128_0013
Revises: 20261128_0012
Create Date: 2026-11-28 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '20261128_0013'
down_revision: str | None = '20261128_0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inspection_product',
    sa.Column('record_id', sa.String(length=40), nullable=False),
    sa.Column('sort_key', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('organization_uscc', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('product_category', sa.Text(), nullable=False),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.Column('search_name', sa.Text(), nullable=False),
    sa.Column('search_brand', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_inspection_product_record_id_record')),
    sa.PrimaryKeyConstraint('record_id', name=op.f('pk_inspection_product')),
    )
    op.create_index('uq_inspection_product_sort_key', 'inspection_product', ['sort_key'], unique=True)
    op.create_index('ix_inspection_product_producer', 'inspection_product', ['organization_uscc', 'sort_key'],
                    unique=False)
    op.create_index('ix_inspection_product_result', 'inspection_product', ['result', 'sort_key'], unique=False)
    op.create_index('ix_inspection_product_category', 'inspection_product', ['product_category', 'sort_key'],
                    unique=False)
    op.create_table('inspection_product_gram',
    sa.Column('gram', sa.String(length=3), nullable=False),
    sa.Column('sort_key', sa.String(length=60), nullable=False),
    sa.Column('record_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_inspection_product_gram_record_id_record')),
    sa.PrimaryKeyConstraint('gram', 'sort_key', name=op.f('pk_inspection_product_gram')),
    sqlite_with_rowid=False,
    )
    op.create_index(op.f('ix_inspection_product_gram_record_id'), 'inspection_product_gram', ['record_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_inspection_product_gram_record_id'), table_name='inspection_product_gram')
    op.drop_table('inspection_product_gram')
    op.drop_index('ix_inspection_product_category', table_name='inspection_product')
    op.drop_index('ix_inspection_product_result', table_name='inspection_product')
    op.drop_index('ix_inspection_product_producer', table_name='inspection_product')
    op.drop_index('uq_inspection_product_sort_key', table_name='inspection_product')
    op.drop_table('inspection_product')
