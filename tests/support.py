"""Helpers shared by the tests (importable, unlike conftest)."""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import socket
import sqlite3
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from models.db import make_engine, normalize_url

MYSQL_SERVER_URL = os.environ.get("TEST_DATABASE_URL", "mysql+pymysql://root@127.0.0.1:3306")
REDIS_SERVER_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
TEST_SECRET = "test-secret-" + "x" * 40
TEST_PASSWORD = "correct horse battery"


def server_url(database: str | None = None) -> str:
    url = make_url(normalize_url(MYSQL_SERVER_URL))
    return url.set(database=database).render_as_string(hide_password=False)


def worker_id() -> str:
    """This pytest-xdist worker's id ("gw0", "gw1", ...), or "main" without xdist: the names
    of the databases a session creates carry it, so a leftover tells whose it was."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def create_mysql_database(prefix: str = "paysystem_test") -> str:
    """A new empty database on the test server; returns its URL."""
    name = f"{prefix}_{worker_id()}_{os.getpid()}_{secrets.token_hex(3)}"
    engine = make_engine(server_url())
    with engine.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    engine.dispose()
    return server_url(name)


def drop_mysql_database(url: str) -> None:
    name = make_url(url).database
    engine = make_engine(server_url())
    with engine.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    engine.dispose()


# The databases the revisions were run on once in this process, copied for every new one.
_TEMPLATES: dict[str, str] = {}


def migrated_mysql_database(prefix: str = "paysystem_test") -> str:
    """A new database at the head revision on the test server; returns its URL.

    A copy of a template this process migrated once — each table as `SHOW CREATE TABLE` gives it
    (indexes, foreign keys, partitions and all) and the rows the revisions insert (the default
    price plan, alembic's version) — instead of every revision again: an upgrade from nothing
    is about 2 s of DDL and ALTERs, the copy under 1 s, and the suite makes some fifty databases.
    tests/test_migrations.py (and the revision tests) still run the revisions themselves."""
    template = _TEMPLATES.get("mysql")
    if template is None:
        from paysystem import migrate

        template = _TEMPLATES["mysql"] = create_mysql_database("paysystem_template")
        atexit.register(drop_mysql_database, template)
        migrate.upgrade(template)
    url = create_mysql_database(prefix)
    source, target = make_url(template).database, make_url(url).database
    engine = make_engine(server_url(target))
    try:
        with engine.begin() as conn:
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))  # tables in any order
            tables = conn.execute(text("SELECT table_name FROM information_schema.tables "
                                       "WHERE table_schema = :s AND table_type = 'BASE TABLE'"), {"s": source}).scalars()
            for table in list(tables):
                conn.execute(text(conn.execute(text(f"SHOW CREATE TABLE `{source}`.`{table}`")).one()[1]))
                if conn.execute(text(f"SELECT 1 FROM `{source}`.`{table}` LIMIT 1")).first() is not None:
                    conn.execute(text(f"INSERT INTO `{table}` SELECT * FROM `{source}`.`{table}`"))
    finally:
        engine.dispose()
    return url


def migrated_sqlite_database(path: Path) -> str:
    """A new SQLite file at `path` at the head revision (a copy of this process's migrated template,
    as `migrated_mysql_database`); returns its URL."""
    template = _TEMPLATES.get("sqlite")
    if template is None:
        from paysystem import migrate

        folder = tempfile.mkdtemp(prefix="paysystem-template-")
        atexit.register(shutil.rmtree, folder, True)
        template = _TEMPLATES["sqlite"] = str(Path(folder) / "template.db")
        migrate.upgrade(f"sqlite:///{template}")
    with sqlite3.connect(template) as source, sqlite3.connect(path) as target:
        source.backup(target)  # the write-ahead log's pages included
    return f"sqlite:///{path}"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reset_login_limits(redis_url: str) -> None:
    """Forget every sign-in failure counted so far (the limiter's keys in the test Redis DB).

    All test clients come from 127.0.0.1, so tests that fail sign-ins on purpose clear the
    counters afterwards instead of locking the rest of the session out.
    """
    from redis import Redis

    client = Redis.from_url(redis_url)
    # The sliding-window counter keeps "{key}" and "{key}/-1" (braces: one Redis cluster slot).
    for key in client.scan_iter("LIMITS:*LIMITER/paysystem:*:login/*"):  # any database's
        client.delete(key)

