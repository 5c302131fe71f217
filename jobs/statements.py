"""The scheduled statement finalization (§13): which month is due, and trying it.

From day STATEMENT_FINALIZE_DAY of a month (business time) the previous month is due;
the job fires every day at 03:00, so a month refused on the 10th (a day not final yet) is
tried again the next days until it is final, and a final month is a no-op
(models/money/statements.py finalizes once); the run that finalizes it mails every seller
(models/money/notices.py). A refusal is logged and recorded on the
month row (console, /healthz/batch); it is not an error of the job, so RQ does not retry.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from jobs.engine import engine_for
from jobs.logs import log
from models.business_time import today
from models.money.months import month_label
from models.money.notices import mail_statements_final
from models.money.statements import MonthNotReady, finalize_month
from settings import Settings


def month_due(settings: Settings, now: datetime | None = None) -> date | None:
    """The month the schedule should finalize at `now`, or None before the finalize day."""
    day = today(settings.tz, now)
    if day.day < settings.statement_finalize_day:
        return None
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def finalize_due(settings: Settings, now: datetime | None = None) -> dict:
    """Finalize the due month if it is not final yet; what happened, as a dict for RQ."""
    month = month_due(settings, now)
    if month is None:
        return {"month": None, "state": "not_due"}
    engine = engine_for(settings.database_url)
    try:
        result = finalize_month(engine, month, settings.tz, now=now)
    except MonthNotReady as exc:
        log.warning("statements not finalized: %s", exc.message)
        return {"month": month_label(month), "state": "refused", "reason": exc.message}
    state = "finalized" if result.finalized else "already_final"
    mailed = mail_statements_final(settings, engine, month) if result.finalized else 0
    return {"month": month_label(month), "state": state, "statements": result.statements,
            "earnings": result.earnings, "mailed": mailed}
