"""public text: personal data masked at publication

Read by hand. Two changes:
1. ``organization`` gains ``public_name``, ``public_legal_representative`` and ``masked_fields``;
   ``record`` gains ``public_summary`` and ``masked_fields``: what the public reads, personal data
   masked when written. ``search_name`` (and the name-search pieces) now come from the public
   name, so the search index holds nothing the public may not see; it widens to 300 characters
   (a masked e-mail address can be a few characters longer than the original).
2. Every existing row is filled in, a batch at a time. Unlike the name-search revision, this one
   imports the masking rules (service.records.personal_data) instead of copying them: a registry upgraded
   later should be masked by the best rules there are, not by this day's; if their signature
   changes, tests/test_migrations.py runs this revision and fails.

Red entries stored beside a public black entry (accepted before that was refused at write time)
are not ended here but by the lifecycle sweep, which every worker runs as it starts and
`credit-registry sweep` runs at once: ending one is a status change with its event and webhook
deliveries, which only the service writes correctly, and a revision that called the service
would break as soon as a later revision changed those tables. Until then the public red list
already leaves such organizations out.

Downgrade drops the columns.

Revision ID: 20261128_0011
Revises: 20261126_0010
Create Date: 2026-11-28 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '20261128_0011'
down_revision: str | None = '20261126_0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000


def upgrade() -> None:
    from service.public import name_index
    from service.records.fields import public_summary
    from service.records.personal_data import mask_fields

    with op.batch_alter_table('organization') as batch:
        batch.add_column(sa.Column('public_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch.add_column(sa.Column('public_legal_representative', sqlmodel.sql.sqltypes.AutoString(length=200),
                                   nullable=True))
        batch.add_column(sa.Column('masked_fields', sa.JSON(), nullable=True))
        batch.alter_column('search_name', existing_type=sqlmodel.sql.sqltypes.AutoString(length=200),
                           type_=sqlmodel.sql.sqltypes.AutoString(length=300), existing_nullable=False)
    with op.batch_alter_table('record') as batch:
        batch.add_column(sa.Column('public_summary', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('masked_fields', sa.JSON(), nullable=True))

    connection = op.get_bind()
    organization = sa.table('organization', sa.column('uscc', sa.String), sa.column('name', sa.String),
                            sa.column('legal_representative', sa.String), sa.column('public_name', sa.String),
                            sa.column('public_legal_representative', sa.String),
                            sa.column('masked_fields', sa.JSON), sa.column('search_name', sa.String))
    gram = sa.table('organization_name_gram', sa.column('gram', sa.String), sa.column('uscc', sa.String))
    after = ''
    while True:
        rows = connection.execute(sa.select(organization.c.uscc, organization.c.name,
                                            organization.c.legal_representative)
                                  .where(organization.c.uscc > after).order_by(organization.c.uscc).limit(BATCH)).all()
        if not rows:
            break
        updates, masked_names = [], []
        for uscc, name, legal_representative in rows:
            public, masked = mask_fields({'name': name, 'legal_representative': legal_representative})
            updates.append({'key': uscc, 'public_name': public['name'],
                            'public_legal_representative': public['legal_representative'],
                            'masked_fields': masked or None, 'search_name': name_index.fold(str(public['name']))})
            if 'name' in masked:
                masked_names.append((uscc, str(public['name'])))
        connection.execute(organization.update().where(organization.c.uscc == sa.bindparam('key')).values(
            public_name=sa.bindparam('public_name'),
            public_legal_representative=sa.bindparam('public_legal_representative'),
            masked_fields=sa.bindparam('masked_fields'), search_name=sa.bindparam('search_name')), updates)
        for uscc, public_name in masked_names:  # the index loses the pieces of what was masked
            connection.execute(gram.delete().where(gram.c.uscc == uscc))
            connection.execute(gram.insert(), [{'gram': g, 'uscc': uscc} for g in sorted(name_index.grams(public_name))])
        after = rows[-1][0]

    record = sa.table('record', sa.column('id', sa.String), sa.column('kind', sa.String),
                      sa.column('details', sa.JSON), sa.column('public_summary', sa.JSON),
                      sa.column('masked_fields', sa.JSON))
    after = ''
    while True:
        rows = connection.execute(sa.select(record.c.id, record.c.kind, record.c.details)
                                  .where(record.c.id > after).order_by(record.c.id).limit(BATCH)).all()
        if not rows:
            break
        updates = []
        for record_id, kind, details in rows:
            summary, masked = public_summary(kind, details)
            updates.append({'key': record_id, 'public_summary': summary, 'masked_fields': masked})
        connection.execute(record.update().where(record.c.id == sa.bindparam('key')).values(
            public_summary=sa.bindparam('public_summary'), masked_fields=sa.bindparam('masked_fields')), updates)
        after = rows[-1][0]

    with op.batch_alter_table('organization') as batch:
        batch.alter_column('public_name', existing_type=sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False)
    with op.batch_alter_table('record') as batch:
        batch.alter_column('public_summary', existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('record') as batch:
        batch.drop_column('masked_fields')
        batch.drop_column('public_summary')
    with op.batch_alter_table('organization') as batch:
        batch.alter_column('search_name', existing_type=sqlmodel.sql.sqltypes.AutoString(length=300),
                           type_=sqlmodel.sql.sqltypes.AutoString(length=200), existing_nullable=False)
        batch.drop_column('masked_fields')
        batch.drop_column('public_legal_representative')
        batch.drop_column('public_name')
