"""forgiving search: names folded from traditional to simplified, ranked by name prefix

Read by hand. Two changes:
1. ``organization`` gains the index ``ix_organization_search_name`` (search_name, uscc): the
   ranked search reads names that start with the query (the exact name first) as a range of it,
   in the order of its pages. On PostgreSQL ``search_name`` is first given the collation "C"
   (code-point order), so the range means "starts with" whatever locale the database was created
   with (SQLite compares code points already).
2. Name folding (service.public.name_index.fold) now also turns traditional characters and
   common variants into simplified ones, so every organization's ``search_name`` and name-search
   pieces are folded again, a batch at a time; only names whose folding changed are written.
   Like the public-text revision, this one imports the folding instead of copying it: the index
   must hold what the running service's queries are folded to, and a registry upgraded later
   should be folded by the rules of that day. tests/test_migrations.py runs this revision.

Downgrade drops the index. The names stay folded the new way: an older release folds queries
without the traditional-to-simplified step, so a traditional query would no longer find a
traditional name there until the name is written again; simplified names and queries are
unchanged by the new folding and find each other as before.

Revision ID: 20261128_0016
Revises: 20261128_0015
Create Date: 2026-11-28 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '20261128_0016'
down_revision: str | None = '20261128_0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000


def upgrade() -> None:
    from service.public import name_index

    if op.get_bind().dialect.name == 'postgresql':
        # Code-point order whatever the database's locale: "names starting with" is a range of the
        # index, and a linguistic collation (en_US, zh_CN pinyin) would put other names inside it.
        op.alter_column('organization', 'search_name', type_=sa.String(300, collation='C'),
                        existing_type=sa.String(300), existing_nullable=False)
    op.create_index('ix_organization_search_name', 'organization', ['search_name', 'uscc'], unique=False)

    connection = op.get_bind()
    organization = sa.table('organization', sa.column('uscc', sa.String), sa.column('public_name', sa.String),
                            sa.column('search_name', sa.String))
    gram = sa.table('organization_name_gram', sa.column('gram', sa.String), sa.column('uscc', sa.String))
    after = ''
    while True:
        rows = connection.execute(sa.select(organization.c.uscc, organization.c.public_name, organization.c.search_name)
                                  .where(organization.c.uscc > after).order_by(organization.c.uscc).limit(BATCH)).all()
        if not rows:
            break
        refolded = [(uscc, public_name) for uscc, public_name, search_name in rows
                    if name_index.fold(public_name) != search_name]
        if refolded:
            connection.execute(organization.update().where(organization.c.uscc == sa.bindparam('key'))
                               .values(search_name=sa.bindparam('search_name')),
                               [{'key': uscc, 'search_name': name_index.fold(public_name)}
                                for uscc, public_name in refolded])
            connection.execute(gram.delete().where(gram.c.uscc.in_([uscc for uscc, _ in refolded])))
            connection.execute(gram.insert(), [{'gram': g, 'uscc': uscc} for uscc, public_name in refolded
                                               for g in sorted(name_index.grams(public_name))])
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_index('ix_organization_search_name', table_name='organization')
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('organization', 'search_name', type_=sa.String(300), existing_type=sa.String(300, collation='C'),
                        existing_nullable=False)
