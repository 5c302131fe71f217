"""Engine and session factory for MariaDB/MySQL (production, tests) and SQLite (first look).

The transaction rule of the whole code base: **service functions in models/ are units of
work and commit; views and command-line commands never commit.** A service function that
changes rows commits them before it returns (and rolls back, raising a `DomainError`, when
it refuses), so a page, an API endpoint and a CLI command doing the same thing cannot
differ in what ends up stored. A caller may roll back its session after a refusal, which
writes nothing. The batch's set-based steps (jobs/) own their transactions the same way:
each step is one transaction it opens and commits itself.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pymysql.err
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from models.errors import Unavailable


def sqlite_write_lock(session: Session) -> None:
    """On SQLite, take the database's write lock now (a write that changes nothing); elsewhere
    nothing. SQLite ignores FOR UPDATE, so a check-then-write that MariaDB serialises with a
    locking read is serialised here by this lock, held until the transaction ends. Call it
    first in its transaction: in WAL mode a transaction that has read cannot take it later.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE users SET id = id WHERE 0 = 1"))


def normalize_url(url: str) -> str:
    """Accept the common `mysql://` / `mariadb://` spellings and pick the PyMySQL driver."""
    parsed = make_url(url)
    if parsed.drivername in ("mysql", "mariadb"):
        parsed = parsed.set(drivername="mysql+pymysql")
    if parsed.drivername.startswith("mysql") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed.render_as_string(hide_password=False)


def database_identity(url: str | URL) -> str:
    """A short, stable name of the database `url` points at (server and schema, or SQLite file;
    never the password): keys that live outside the database — RQ job ids — carry it, so two
    databases sharing one Redis (test sessions, a database rebuilt from scratch) never meet."""
    parsed = make_url(normalize_url(url.render_as_string(hide_password=False) if isinstance(url, URL) else url))
    where = f"{parsed.get_backend_name()}://{parsed.host or ''}:{parsed.port or ''}/{parsed.database or ''}"
    return hashlib.sha256(where.encode()).hexdigest()[:10]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys unless told; WAL lets the portal read while a job writes.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if parsed.database in (None, "", ":memory:"):
            options["poolclass"] = StaticPool
        options.update(kwargs)
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options = {
        "pool_pre_ping": True,
        "pool_recycle": 3600,
        # Commit-time microsecond timestamps and LOAD DATA for the bulk generator.
        "connect_args": {"local_infile": True},
    }
    options.update(kwargs)
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _mysql_session(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # UTC on the connection so NOW() and server-side defaults agree with the app.
        cursor.execute("SET time_zone = '+00:00'")
        cursor.close()

    return engine


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled connection on checkout only when it sat unused for `idle_seconds`.

    `pool_pre_ping` costs a round trip on every checkout, i.e. on every portal request; a
    connection that was working a moment ago is almost surely still working. For an engine
    made with `pool_pre_ping=False`: a connection idle longer than the bound (the server may
    have closed it: restart, wait_timeout) is pinged and silently replaced when dead. A
    server restart within the bound costs at most the requests that were using connections
    then — the first disconnect error invalidates the whole pool, as always."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["paysystem_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("paysystem_idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return  # just connected, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"pooled connection dropped while idle: {exc}") from exc


# What a lost database looks like, wrapped by SQLAlchemy or raw from the driver (the progress
# recorder and the read fast path use DBAPI connections directly).
CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    OperationalError, InterfaceError, DisconnectionError, pymysql.err.OperationalError, pymysql.err.InterfaceError)
# MySQL/MariaDB error numbers that mean "no connection", not "this statement is wrong": the
# client's can't-connect / gone-away / lost-connection family (2002, 2003, 2005, 2006, 2013,
# 2014, 2045, 2055), too many connections (1040), shutdown in progress (1053), aborted or
# killed connections (1152, 1927), a connection closed by the server for idling (4031), and a
# Galera node that is not part of the primary component or still syncing ("WSREP has not yet
# prepared node for application use", 1047).
CONNECTION_ERROR_CODES = frozenset(
    {1040, 1047, 1053, 1152, 1927, 2002, 2003, 2005, 2006, 2013, 2014, 2045, 2055, 4031})
# A transaction the database rolled back because another one won: a lock wait timeout (1205),
# a deadlock (1213) — which is also how Galera reports a transaction that failed certification
# against a write committed on another node. Nothing of it was stored; the same unit of work
# may simply be run again.
CONFLICT_ERROR_CODES = frozenset({1205, 1213})
DATABASE_DOWN = "The database cannot be reached right now. Try again in a few seconds."
DATABASE_BUSY = "The database was busy with a conflicting change. Try again in a moment."


def is_connection_error(exc: BaseException) -> bool:
    """Whether `exc` says the database connection is gone or cannot be made (server down,
    restarting, overloaded with connections), as opposed to a statement the database refused
    (a deadlock, a lock wait timeout, bad SQL): only the former is an outage to wait out."""
    if isinstance(exc, DisconnectionError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig
    if isinstance(exc, pymysql.err.InterfaceError):
        return True  # PyMySQL raises it only for a connection it already closed
    if isinstance(exc, pymysql.err.OperationalError):
        code = exc.args[0] if exc.args else None
        return code in CONNECTION_ERROR_CODES
    return False


def _mysql_code(exc: BaseException) -> int | None:
    if isinstance(exc, DBAPIError):
        exc = exc.orig
    if isinstance(exc, pymysql.err.MySQLError) and exc.args and isinstance(exc.args[0], int):
        return exc.args[0]
    return None


def is_conflict_error(exc: BaseException) -> bool:
    """Whether the database rolled the transaction back for a conflicting one (deadlock, lock
    wait timeout, Galera certification failure)."""
    return _mysql_code(exc) in CONFLICT_ERROR_CODES


def is_transient_error(exc: BaseException) -> bool:
    """Whether running the same unit of work again may succeed: the connection or node was lost,
    or a conflicting transaction won. Only idempotent units of work should be retried on it —
    after a lost connection the commit may or may not have happened."""
    return is_connection_error(exc) or is_conflict_error(exc)


def as_unavailable(exc: BaseException) -> Unavailable | None:
    """The domain error a lost database connection or a transaction lost to a conflicting one is
    answered with (503, try again), or None for any other error."""
    if is_connection_error(exc):
        return Unavailable(DATABASE_DOWN)
    if is_conflict_error(exc):
        return Unavailable(DATABASE_BUSY)
    return None


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error, always close."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
