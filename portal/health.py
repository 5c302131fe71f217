"""`GET /healthz`: is the portal able to reach its database and Redis?

Public (load balancers and container health checks ask it without credentials), so it says
only which dependency is down: `{"status": "unavailable", "database": "down", "redis": "up"}`.
The error behind a "down" — driver text with host, port and user — goes to the log, for
the operator, never into the answer.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from portal.database import db_session
from portal.redis_client import queue_redis_client, redis_client

bp = Blueprint("health", __name__)


def _check_database() -> None:
    db_session().execute(text("SELECT 1"))


def _check_redis() -> None:
    redis_client().ping()
    if queue_redis_client() is not redis_client():
        queue_redis_client().ping()  # REDIS_QUEUE_URL names a second instance: both must answer


def _state(name: str, check: Callable[[], None]) -> str:
    """'up' or 'down'; why it is down is logged, not shown."""
    try:
        check()
    except Exception as exc:  # any driver error means "not reachable" to an operator
        current_app.logger.warning("healthz: %s is down: %s: %s", name, type(exc).__name__, exc)
        return "down"
    return "up"


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    states = {"database": _state("database", _check_database), "redis": _state("redis", _check_redis)}
    ok = all(state == "up" for state in states.values())
    response = jsonify({"status": "ok" if ok else "unavailable", **states})
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if ok else 503
