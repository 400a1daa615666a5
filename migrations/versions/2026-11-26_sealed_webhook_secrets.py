"""sealed webhook secrets: room for a sealed value

Read by hand: one column widened, nothing else. A sealed secret (db.sealing) is its prefix and the
base64 of nonce, ciphertext and tag: 114 characters for a 50-character secret. Secrets already
stored stay readable as they are; `credit-registry seal-secrets` seals them (it needs the key,
which a migration does not have). On SQLite the table is copied (batch mode), keeping its rows.
Downgrading refuses while any secret is sealed.

Revision ID: 20261126_0010
Revises: 20261126_0009
Create Date: 2026-11-26 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '20261126_0010'
down_revision: str | None = '20261126_0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_secret') as batch:
        batch.alter_column('secret', existing_type=sqlmodel.sql.sqltypes.AutoString(length=100),
                           type_=sqlmodel.sql.sqltypes.AutoString(length=200), existing_nullable=False)


def downgrade() -> None:
    # The code before this revision would sign with a sealed value as if it were the secret (every
    # signature wrong, silently), and on PostgreSQL it does not fit the column: refuse instead.
    sealed = op.get_bind().execute(sa.text("SELECT count(*) FROM webhook_secret WHERE secret LIKE 'sealed:%'"))
    if sealed.scalar_one():
        raise RuntimeError("webhook secrets are sealed: the code before this revision cannot sign with them")
    with op.batch_alter_table('webhook_secret') as batch:
        batch.alter_column('secret', existing_type=sqlmodel.sql.sqltypes.AutoString(length=200),
                           type_=sqlmodel.sql.sqltypes.AutoString(length=100), existing_nullable=False)
