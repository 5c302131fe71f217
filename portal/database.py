"""One SQLAlchemy session per request, closed when the app context ends."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from models.db import make_engine, make_sessionmaker, normalize_url, ping_when_idle
from models.playback.progress_recorder import ProgressRecorder

_EXTENSION = "paysystem.db"
_RECORDER = "paysystem.progress"


# The sessions a request may open, closed when its app context ends: the primary's, and the
# read replica's for figure reads (portal/read_replica.py).
REQUEST_SESSIONS = ("db_session", "figure_read_session")

# A pooled connection unused for this long is pinged before a request gets it (models/db.py).
PING_IDLE_SECONDS = 1.0


def init_database(app: Flask, database_url: str) -> None:
    if make_url(normalize_url(database_url)).get_backend_name() == "sqlite":
        engine = make_engine(database_url)
    else:
        # No ping per checkout (a round trip on every request), only of connections idle for a
        # while; LIFO keeps the busy connections warm and lets the spare ones idle out.
        engine = make_engine(database_url, pool_pre_ping=False, pool_use_lifo=True)
        ping_when_idle(engine, PING_IDLE_SECONDS)
    app.extensions[_EXTENSION] = make_sessionmaker(engine)
    app.extensions[_RECORDER] = ProgressRecorder(engine)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        for key in REQUEST_SESSIONS:
            session: Session | None = g.pop(key, None)
            if session is not None:
                close_session(session)


def close_session(session: Session) -> None:
    """Close the session with one ROLLBACK, not two.

    `Session.close()` rolls back its transaction and then returns the connection to the pool,
    which rolls it back again (reset on return): a wasted round trip on every request.
    Closing the session's connection first ends the transaction once and tells the pool it
    was reset; the session then has nothing left to roll back."""
    try:
        if session.in_transaction():
            session.connection().close()
    except SQLAlchemyError:
        pass  # a session that failed mid-transaction: close() below cleans up as it always did
    finally:
        session.close()


def session_factory(app: Flask | None = None) -> sessionmaker[Session]:
    return (app or current_app).extensions[_EXTENSION]


def db_session() -> Session:
    """The current request's session (created on first use)."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    return g.db_session


def progress_recorder(app: Flask | None = None) -> ProgressRecorder:
    """The app's recorder of progress reports (the hot path, with connections of its own)."""
    return (app or current_app).extensions[_RECORDER]
