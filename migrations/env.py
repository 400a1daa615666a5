"""Alembic environment: the schema is ``db.tables.metadata``; the URL comes from the config the
caller built (db.migrations.alembic_config), or from settings when run as ``alembic`` directly."""

from alembic import context
from sqlalchemy import create_engine, pool

import db.tables  # noqa: F401  (registers every table on the metadata)
from db.tables import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")
if not url:
    from api.settings import get_settings

    url = get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            # SQLite cannot ALTER most things; batch mode recreates the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
