"""`GET /healthz/batch`: has yesterday's nightly run succeeded in time? For monitoring.

`GET /healthz` stays a liveness check (database and Redis reachable); this one answers 503
with a JSON reason when yesterday's business day has no succeeded run by
BATCH_HEALTH_DEADLINE, so a monitor can page someone. It needs no sign-in and tells no
more than a day, a state and a run id.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from models.ops_status import nightly_health
from portal.database import db_session
from portal.settings import settings

bp = Blueprint("ops_health", __name__)


@bp.get("/healthz/batch")
def batch_health() -> ResponseReturnValue:
    config = settings()
    health = nightly_health(db_session(), config.tz, config.batch_health_deadline)
    response = jsonify({"status": "ok" if health.ok else "failing", **health.as_dict()})
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if health.ok else 503
