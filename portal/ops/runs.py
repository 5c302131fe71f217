"""The job-runs page (`/admin/runs`): runs by business day, their partitions, and the
buttons that run a day, retry a run's failed partitions, backfill a range or cancel the
rest of a backfill.

The page reaches the pipeline only through `jobs.enqueue` (request_days, request_retry,
cancel_backfill), which serialises requests so a double press starts one run. While a
shown run is queued or running, the runs fragment polls itself (htmx `every 2s`); the
fragment rendered once nothing is active has no trigger, so polling stops by itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from redis.exceptions import RedisError

from jobs.enqueue import (
    QUEUE_DOWN,
    cancel_backfill,
    next_nightly,
    request_days,
    request_retry,
)
from models import Role
from models.batch.ops_status import run_detail, run_history
from models.batch.tables import RunState
from models.business_time import today
from models.errors import DomainError, NotFound, Unavailable
from portal.auth import role_required
from portal.database import db_session
from portal.errors import as_sentence, sentence
from portal.extensions import htmx
from portal.queries.ops import BackfillForm, RunDayForm, RunsQuery
from portal.queries.parse import parse_query
from portal.settings import settings

bp = Blueprint("ops_runs", __name__, url_prefix="/admin/runs")
ACTIVE = (RunState.QUEUED, RunState.RUNNING)


@bp.app_template_filter("ops_time")
def ops_time(value: datetime | None) -> str:
    """An instant in business time, labelled with its zone (e.g. `2026-11-30 09:12:03 KST`)."""
    if value is None:
        return "—"
    return value.astimezone(settings().tz).strftime("%Y-%m-%d %H:%M:%S %Z")


@bp.app_template_filter("ops_duration")
def ops_duration(start: datetime | None, end: datetime | None = None) -> str:
    """How long something took (or has taken so far): `2.41 s`, `3 min 05 s`."""
    if start is None:
        return "—"
    seconds = ((end or datetime.now(start.tzinfo)) - start).total_seconds()
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


@bp.app_template_filter("ops_rate")
def ops_rate(value: Decimal) -> str:
    """A rate as typed: 1.1, 10, 0.0005 (never 1E+1)."""
    return format(value.normalize(), "f")


@bp.app_template_filter("ops_int")
def ops_int(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _render() -> ResponseReturnValue:
    page = parse_query(RunsQuery).page
    history = run_history(db_session(), page)
    latest = today(settings().tz) - timedelta(days=1)
    context = dict(history=history, message=None, category="info", latest=latest, active=ACTIVE, RunState=RunState)
    if htmx:
        return render_template("ops/_runs.html", **context)
    try:
        nightly = next_nightly(settings())
    except RedisError:
        nightly = None
    return render_template("ops/runs.html", nightly=nightly, **context)


def _answer(message: str, category: str = "info") -> ResponseReturnValue:
    """After a button: htmx gets the refreshed runs fragment with the message; a plain form
    post is redirected back to the page (303) with the message flashed."""
    if htmx:
        # The request's transaction began (signed-in user lookup) before jobs.enqueue planned
        # the runs on its own connection; end that read snapshot so the fragment shows them.
        db_session().rollback()
        response = render_template(
            "ops/_runs.html", history=run_history(db_session(), 1), message=message, category=category,
            latest=today(settings().tz) - timedelta(days=1), active=ACTIVE, RunState=RunState)
        # htmx swaps only successful answers: a refusal comes back as the fragment with its reason.
        return response, 200, {"HX-Push-Url": url_for("ops_runs.index"), "Vary": "HX-Request"}
    flash(message, category)
    return redirect(url_for("ops_runs.index"), 303)


def _refused(exc: DomainError) -> ResponseReturnValue:
    """A button the rules refused (a day not over yet, a run already going, the queue down): htmx
    gets the runs fragment with the reason, since it swaps only successful answers; a plain form
    post gets the one refusal, its status from the error's kind (portal/errors.py)."""
    if not htmx:
        raise as_sentence(exc) from exc
    return _answer(sentence(exc.message), "error")


@bp.get("/")
@role_required(Role.ADMIN)
def index() -> ResponseReturnValue:
    return _render(), 200, {"Vary": "HX-Request"}


@bp.get("/<int:run_id>")
@role_required(Role.ADMIN)
def run(run_id: int) -> ResponseReturnValue:
    found = run_detail(db_session(), run_id)
    if found is None:
        raise NotFound(f"There is no batch run {run_id}.")
    template = "ops/_run_detail.html" if htmx else "ops/run.html"
    return render_template(template, run=found, active=ACTIVE, RunState=RunState), 200, {"Vary": "HX-Request"}


def _started(result, what: str) -> str:  # type: ignore[no-untyped-def]
    parts = []
    if result.started:
        parts.append(f"Started {what}: run{'s' if len(result.started) > 1 else ''} "
                     f"{', '.join(map(str, result.started))}.")
    if result.already_active:
        parts.append(f"Already queued or running (not started again): run"
                     f"{'s' if len(result.already_active) > 1 else ''} {', '.join(map(str, result.already_active))}.")
    return " ".join(parts)


@bp.post("/day")
@role_required(Role.ADMIN)
def run_day() -> ResponseReturnValue:
    day = parse_query(RunDayForm, request.form).day
    try:
        result = request_days(settings(), day, day, requested_by=current_user.id)
    except DomainError as exc:  # DateOutOfRange, BatchRequestError
        return _refused(exc)
    except RedisError:
        return _refused(Unavailable(QUEUE_DOWN))
    return _answer(_started(result, f"a run of {day.isoformat()}"))


@bp.post("/backfill")
@role_required(Role.ADMIN)
def backfill() -> ResponseReturnValue:
    form = parse_query(BackfillForm, request.form)
    first, last = form.first, form.last
    try:
        result = request_days(settings(), first, last, requested_by=current_user.id)
    except DomainError as exc:  # DateOutOfRange, BatchRequestError
        return _refused(exc)
    except RedisError:
        return _refused(Unavailable(QUEUE_DOWN))
    return _answer(_started(result, f"a backfill of {first.isoformat()} to {last.isoformat()}"))


@bp.post("/<int:run_id>/retry")
@role_required(Role.ADMIN)
def retry(run_id: int) -> ResponseReturnValue:
    if run_detail(db_session(), run_id) is None:
        raise NotFound(f"There is no batch run {run_id}.")
    try:
        indexes = request_retry(settings(), run_id)
    except DomainError as exc:  # BatchRequestError
        return _refused(exc)
    except RedisError:
        return _refused(Unavailable(QUEUE_DOWN))
    what = f"partitions {', '.join(map(str, indexes))}" if indexes else "its final step"
    return _answer(f"Retrying run {run_id}: {what}.")


@bp.post("/backfills/<int:backfill_id>/cancel")
@role_required(Role.ADMIN)
def cancel(backfill_id: int) -> ResponseReturnValue:
    try:
        cancelled = cancel_backfill(settings(), backfill_id)
    except DomainError as exc:  # BatchRequestError
        return _refused(exc)
    except RedisError:
        return _refused(Unavailable(QUEUE_DOWN))
    return _answer(f"Cancelled {len(cancelled)} day{'s' if len(cancelled) > 1 else ''} of backfill {backfill_id} "
                   f"(runs {', '.join(map(str, sorted(cancelled)))}).")
