"""`GET /healthz`: is the portal able to reach its database and Redis?"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from portal.database import db_session
from portal.redis_client import redis_client

bp = Blueprint("health", __name__)


def _check_database() -> tuple[bool, str]:
    try:
        db_session().execute(text("SELECT 1"))
        return True, "reachable"
    except Exception as exc:  # any driver error means "not reachable" to an operator
        return False, f"{type(exc).__name__}: {exc}"[:300]


def _check_redis() -> tuple[bool, str]:
    try:
        redis_client().ping()
        return True, "reachable"
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"[:300]


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    db_ok, db_detail = _check_database()
    redis_ok, redis_detail = _check_redis()
    ok = db_ok and redis_ok
    body = {
        "status": "ok" if ok else "unavailable",
        "database": {"ok": db_ok, "detail": db_detail},
        "redis": {"ok": redis_ok, "detail": redis_detail},
    }
    return jsonify(body), 200 if ok else 503
