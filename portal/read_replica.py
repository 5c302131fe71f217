"""Figure reads from the read replica (`DATABASE_READ_URL`, issue 23), in one place.

A view that only reads computed figures says so with `@figures_from_replica`; inside it
`figure_session()` (and `figure_cache()`, bound to it) is a session on the replica while
`models/read_replica.py` finds the replica usable, else the request's primary session.
Everything else — sign-in, the caller's role, playback, admin pages, anything that writes or
must read its own writes — keeps using `db_session()` on the primary: a view that is not
marked never reads the replica, whatever it calls.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, g
from prometheus_client import Counter
from sqlalchemy.orm import Session

from models.db import make_engine, make_sessionmaker, ping_when_idle
from models.read_replica import ReadReplica, ReplicaState
from portal.database import PING_IDLE_SECONDS, db_session, session_factory

_EXTENSION = "paysystem.read_replica"
_FACTORY = "paysystem.read_sessions"

READS = Counter("paysystem_figure_reads", "Figure reads of marked read-only views, by database target and why "
                "(replica, or the reason the primary answered: no_replica, stopped, lagging, behind_run, unreachable).",
                ["target", "reason"])

View = TypeVar("View", bound=Callable[..., Any])


def init_read_replica(app: Flask, read_url: str, max_lag_seconds: float) -> None:
    """After `init_database`. Without `read_url` every figure read goes to the primary."""
    if not read_url:
        return
    engine = make_engine(read_url, pool_pre_ping=False, pool_use_lifo=True,
                         connect_args={"local_infile": True, "connect_timeout": 2})
    ping_when_idle(engine, PING_IDLE_SECONDS)
    app.extensions[_EXTENSION] = ReadReplica(session_factory(app).kw["bind"], engine,
                                             max_lag_seconds=max_lag_seconds)
    app.extensions[_FACTORY] = make_sessionmaker(engine)  # its sessions closed by portal/database.py


def read_replica(app: Flask | None = None) -> ReadReplica | None:
    return (app or current_app).extensions.get(_EXTENSION)


def replica_state(app: Flask | None = None) -> ReplicaState | None:
    """A fresh verdict for /metrics (None: no replica configured)."""
    replica = read_replica(app)
    return replica.state(fresh=True) if replica is not None else None


def figures_from_replica(view: View) -> View:
    """Mark a view as reading figures only: its `figure_session()` may be the replica's."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        g.figures_from_replica = True
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def figure_session() -> Session:
    """The session figures are read on in this request: the replica's in a marked view while it
    is usable (decided once per request), otherwise the primary's `db_session()`."""
    session: Session | None = g.get("figure_read_session")
    if session is not None:
        return session
    if not g.get("figures_from_replica"):
        return db_session()
    if "figure_read_target" not in g:
        replica = read_replica()
        state = replica.state() if replica is not None else None
        reason = "no_replica" if state is None else state.reason
        g.figure_read_target = "replica" if state is not None and state.usable else "primary"
        READS.labels(g.figure_read_target, reason).inc()
    if g.figure_read_target == "primary":
        return db_session()
    session = g.figure_read_session = current_app.extensions[_FACTORY]()
    return session


def reads_replica() -> bool:
    """Whether this request's figures are read on the replica (after `figure_session()`)."""
    return g.get("figure_read_target") == "replica"
