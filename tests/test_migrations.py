"""The schema comes only from migrations, and the migrations match the tables."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool

from db import migrations
from db.tables import metadata


def _diff(url: str) -> list:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def test_tables_and_migrations_do_not_differ(database, database_url) -> None:
    assert _diff(database_url) == []


def test_migrated_database_is_at_head(database) -> None:
    with database.reader.connect() as conn:
        assert migrations.current_revision(conn) == migrations.head_revision()


def test_downgrade_to_nothing_and_back(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    migrations.upgrade(url)
    migrations.downgrade(url, "base")
    engine = create_engine(url, poolclass=pool.NullPool)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    migrations.upgrade(url)
    assert _diff(url) == []


def test_a_table_change_without_migration_is_caught(database_url) -> None:
    from sqlalchemy import Column, MetaData, String, Table

    changed = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    Table("organization", changed, Column("nickname", String(20)), extend_existing=True)
    engine = create_engine(database_url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), changed)
    assert [d[0] for d in diff] == ["add_column"]


def test_sealed_webhook_secrets_refuse_a_downgrade_that_would_sign_with_them(tmp_path) -> None:
    from datetime import UTC, datetime

    import pytest

    from db.sealing import Sealer
    from db.session import open_database, transaction
    from service.sync.webhooks import endpoints
    from tests import factories as f

    url = f"sqlite:///{tmp_path / 'sealed.db'}"
    migrations.upgrade(url)
    database = open_database(url, sealer=Sealer(b"k" * 32))
    now = datetime.now(UTC)
    with transaction(database) as session:
        f.make_department(session, now=now)
        endpoints.create(session, "SZAMR", endpoints.EndpointCreate(url="http://127.0.0.1:9/hook"), now=now,
                        allowed_hosts=frozenset({"127.0.0.1"}))
    with pytest.raises(RuntimeError, match="sealed"):
        migrations.downgrade(url, "20261126_0009")
    with database.reader.connect() as conn:  # the revisions after it went down; the sealing one stays
        assert migrations.current_revision(conn) == "20261126_0010"
    database.dispose()
