"""One alembic head; upgrade/downgrade/upgrade works; the models and the migrations agree."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from models import Base
from models.db import make_engine
from paysystem import migrate
from tests.support import create_mysql_database, drop_mysql_database


def test_single_head():
    assert len(migrate.heads()) == 1


@pytest.fixture
def scratch_mysql_url():
    url = create_mysql_database("paysystem_migr")
    yield url
    drop_mysql_database(url)


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _drift(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    migrate.upgrade(url)
    assert _tables(url) == set(Base.metadata.tables)
    migrate.downgrade(url, "base")
    assert _tables(url) == set()
    migrate.upgrade(url)
    assert _tables(url) == set(Base.metadata.tables)
    assert _drift(url) == [], "models and migrations disagree: add an alembic revision"


def test_upgrade_downgrade_upgrade_on_mariadb(scratch_mysql_url):
    _round_trip(scratch_mysql_url)


def test_upgrade_downgrade_upgrade_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'migr.db'}")


def test_tables_are_utf8mb4_innodb(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT table_name, table_collation, engine FROM information_schema.tables "
                "WHERE table_schema = DATABASE() AND table_name <> 'alembic_version'"
            ).all()
    finally:
        engine.dispose()
    assert rows
    for name, collation, storage in rows:
        assert collation.startswith("utf8mb4"), name
        assert storage == "InnoDB", name
