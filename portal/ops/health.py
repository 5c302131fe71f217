"""`GET /healthz/batch`: has yesterday's nightly run succeeded in time? For monitoring.

`GET /healthz` stays a liveness check (database and Redis reachable); this one answers 503
with a JSON reason when yesterday's business day has no succeeded run by
BATCH_HEALTH_DEADLINE, so a monitor can page someone. It needs no sign-in and tells no
more than a day, a state and a run id — and the months whose statement finalization was
refused, with the reason (the days not final), under `open_refusals` (SPEC §13).
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from models.batch.ops_status import nightly_health
from models.money.months import month_label
from models.money.statements import open_refusals
from portal.database import db_session
from portal.settings import settings

bp = Blueprint("ops_health", __name__)


@bp.get("/healthz/batch")
def batch_health() -> ResponseReturnValue:
    config = settings()
    health = nightly_health(db_session(), config.tz, config.batch_health_deadline)
    # Months whose statement finalization was refused (the days not final yet): shown, not a
    # failure of the nightly run, so they do not change the status code.
    refusals = [{"month": month_label(month), "reason": reason, "refused_at": at.isoformat() if at else None}
                for month, reason, at in open_refusals(db_session().connection())]
    response = jsonify({"status": "ok" if health.ok else "failing", **health.as_dict(), "open_refusals": refusals})
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if health.ok else 503
