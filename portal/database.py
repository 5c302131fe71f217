"""One SQLAlchemy session per request, closed when the app context ends."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from models.db import make_engine, make_sessionmaker
from models.progress_recorder import ProgressRecorder

_EXTENSION = "paysystem.db"
_RECORDER = "paysystem.progress"


def init_database(app: Flask, database_url: str) -> None:
    engine = make_engine(database_url)
    app.extensions[_EXTENSION] = make_sessionmaker(engine)
    app.extensions[_RECORDER] = ProgressRecorder(engine)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
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
