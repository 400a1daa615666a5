"""statistics: counts kept current as records are written

Read by hand. One table, ``statistic_count``: a count per statistic, level and division (each
fact counted in its county, its province and the country), year (0 when not counted by year),
facet, detail (public text, unbounded: masking can lengthen it) and shard. The writes keep it current in their own
transaction (service.statistics.counting), so a public statistic is a sum over a handful of rows,
never a scan of the records (bench/statistics.py).

The counts of existing data are backfilled here: the records, organizations, supervision states
and measures applied are grouped in the database (one scan each; the groups are few, whatever
the number of rows) and the counts inserted a batch at a time. Like the public-text revision,
this one imports the counting rules (service.statistics.recount) instead of copying them: a
registry upgraded later should count as the service counts then, and the recount reads only
columns this revision's predecessors created. ``credit-registry recount-statistics`` runs the
same rebuild at any time (an operator's repair).

Downgrade drops the table.

Revision ID: 20261128_0014
Revises: 20261128_0013
Create Date: 2026-11-28 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '20261128_0014'
down_revision: str | None = '20261128_0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from service.statistics import recount

    op.create_table('statistic_count',
    sa.Column('statistic', sa.String(length=32), nullable=False),
    sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('facet', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('shard', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('statistic', 'level', 'year', 'region_code', 'facet', 'detail', 'shard',
                            name=op.f('pk_statistic_count')),
    sqlite_with_rowid=False
    )
    recount.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table('statistic_count')
