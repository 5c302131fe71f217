"""Admin API of the operations console: price plans, batch runs and the data status.

- `GET /admin/plans`, `POST /admin/plans`, `GET|PUT|DELETE /admin/plans/{id}`: plans (rules
  in models.money.price_plans); a created plan's answer lists the computed days it made stale and
  the backfill that re-prices them.
- `GET /admin/runs?page=`, `GET /admin/runs/{id}`, `POST /admin/runs` `{first, last?}`,
  `POST /admin/runs/{id}/retry`, `POST /admin/backfills/{id}/cancel`: the batch, through
  jobs.enqueue like the page.
- `GET /admin/status?month=YYYY-MM`: the data-status calendar.

spectree documents and validates each route with the models of portal/api/ops_schemas.py; the
plan rules (models.money.price_plans.parse_plan) and the batch rules (jobs.enqueue) judge the
validated body and raise their own domain errors, which the one error handler answers
(portal/errors.py), the same refusal as the operations pages'.
"""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from spectree import Response

from jobs.enqueue import QUEUE_DOWN, cancel_backfill, request_days, request_retry
from models import Role
from models.batch.ops_status import (
    ad_impressions,
    calendar,
    nightly_health,
    run_detail,
    run_history,
)
from models.batch.tables import BatchRun
from models.business_time import month_range, today
from models.errors import NotFound, Unavailable
from models.figures.date_window import day_window
from models.money.price_plans import (
    PlanError,
    create_plan,
    delete_plan,
    get_plan,
    is_used,
    list_plans,
    parse_plan,
    plan_payload,
    stale_days,
    update_plan,
    used_plan_ids,
)
from portal.api import ops_schemas as schema
from portal.api.auth import api_auth, current_api_user
from portal.api.blueprint import api_bp
from portal.api.impression_range import date_range
from portal.api.openapi import ErrorBody, api_spec, responses, validated_json, validated_query
from portal.database import db_session
from portal.queries import ops as queries
from portal.settings import settings

# Besides its own refusals every route here may answer: no or a bad token (401), not an admin
# (403), the token revocation check unavailable (503).
AUTHED = (401, 403, 503)
BODY = (413, 422)  # a body over the size limit; a body that does not match its schema
PLANS, RUNS, STATUS_TAGS = ["admin: price plans"], ["admin: batch runs"], ["admin: data status"]


def _parsed():  # type: ignore[no-untyped-def]
    """The plan of the body spectree validated (its JSON types), judged by the plan rules."""
    body: schema.PricePlanBody = validated_json()
    return parse_plan(body.name, body.basis, body.effective_from, [b.model_dump() for b in body.brackets],
                      window=day_window(settings()))


def _no_run(run_id: int) -> NotFound:
    return NotFound(f"There is no batch run {run_id}.")


def _queue_down() -> Unavailable:
    """The job queue (Redis) could not be asked: 503 with Retry-After, nothing was started."""
    return Unavailable(QUEUE_DOWN)


@api_bp.get("/admin/plans")
@api_auth(Role.ADMIN)
@api_spec.validate(resp=responses(schema.PricePlanList, *AUTHED), tags=PLANS)
def api_list_plans() -> ResponseReturnValue:
    """Every price plan, latest effective date first."""
    session = db_session()
    used = used_plan_ids(session)
    return jsonify(plans=[plan_payload(plan, plan.id in used) for plan in list_plans(session)])


@api_bp.post("/admin/plans")
@api_auth(Role.ADMIN)
@api_spec.validate(json=schema.PricePlanBody, resp=responses(schema.PricePlanCreated, *AUTHED, 409, *BODY, status=201),
                   tags=PLANS)
def api_create_plan() -> ResponseReturnValue:
    """`{name, basis, effective_from, brackets: [{from_unit, to_unit|null, view_rate, ad_rate}]}`;
    rates as strings ("1.1") or numbers."""
    session = db_session()
    plan = create_plan(session, _parsed(), created_by=current_api_user().id)
    stale = stale_days(session, plan, settings().tz)
    backfill = {"first": stale[0].isoformat(), "last": stale[-1].isoformat()} if stale else None
    return jsonify(plan=plan_payload(plan, False), stale_days=[d.isoformat() for d in stale],
                   backfill=backfill), 201


@api_bp.get("/admin/plans/<int:plan_id>")
@api_auth(Role.ADMIN)
@api_spec.validate(resp=responses(schema.PricePlan, *AUTHED, 404), tags=PLANS)
def api_get_plan(plan_id: int) -> ResponseReturnValue:
    """One price plan, and whether a computed day used it."""
    session = db_session()
    plan = get_plan(session, plan_id)
    return jsonify(plan_payload(plan, is_used(session, plan)))


@api_bp.put("/admin/plans/<int:plan_id>")
@api_auth(Role.ADMIN)
@api_spec.validate(json=schema.PricePlanBody, resp=responses(schema.PricePlan, *AUTHED, 404, 409, *BODY), tags=PLANS)
def api_update_plan(plan_id: int) -> ResponseReturnValue:
    """Replace a plan no computed day used yet (409 once used: supersede it with a later plan)."""
    session = db_session()
    try:
        get_plan(session, plan_id)
        plan = update_plan(session, plan_id, _parsed())
    except PlanError:
        session.rollback()  # then answered by the one error handler
        raise
    return jsonify(plan_payload(plan, False))


@api_bp.delete("/admin/plans/<int:plan_id>")
@api_auth(Role.ADMIN)
@api_spec.validate(resp=responses(None, *AUTHED, 404, 409, status=204, description="Deleted"), tags=PLANS)
def api_delete_plan(plan_id: int) -> ResponseReturnValue:
    """Delete a plan no computed day used yet."""
    delete_plan(db_session(), plan_id)
    return "", 204


def _run_payload(run: BatchRun) -> dict:
    def instant(value):  # type: ignore[no-untyped-def]
        return value.isoformat() if value else None

    return {"id": run.id, "day": run.day.isoformat(), "state": run.state.value, "trigger": run.trigger.value,
            "backfill_id": run.backfill_id, "created_at": instant(run.created_at),
            "started_at": instant(run.started_at), "finished_at": instant(run.finished_at),
            "rows_written": run.rows_written, "error": run.error,
            "partitions": [{"index": p.partition_index, "video_id_lo": p.video_id_lo, "video_id_hi": p.video_id_hi,
                            "state": p.state.value, "attempt": p.attempt, "worker": p.worker,
                            "started_at": instant(p.started_at), "finished_at": instant(p.finished_at),
                            "rows_written": p.rows_written, "error": p.error} for p in run.partitions]}


@api_bp.get("/admin/runs")
@api_auth(Role.ADMIN)
@api_spec.validate(query=queries.RunsQuery, resp=responses(schema.RunHistory, *AUTHED, 422), tags=RUNS)
def api_runs() -> ResponseReturnValue:
    """Batch runs grouped by day, latest day first."""
    history = run_history(db_session(), validated_query().page)
    return jsonify(days=[{"day": day.isoformat(), "runs": [_run_payload(r) for r in runs]}
                         for day, runs in history.days], **history.page_meta())


@api_bp.get("/admin/runs/<int:run_id>")
@api_auth(Role.ADMIN)
@api_spec.validate(resp=responses(schema.BatchRunInfo, *AUTHED, 404), tags=RUNS)
def api_run(run_id: int) -> ResponseReturnValue:
    """One batch run with its partitions."""
    run = run_detail(db_session(), run_id)
    if run is None:
        raise _no_run(run_id)
    return jsonify(_run_payload(run))


def _runs_started() -> Response:
    """200 when every day was already queued or running, 202 when this request queued any."""
    # 400: a range that ends before it starts (jobs.enqueue `check_closed_days`, as on the page).
    refusals = {f"HTTP_{code}": ErrorBody for code in (*AUTHED, 400, 409, *BODY)}
    return Response(HTTP_200=schema.RunsStarted, HTTP_202=schema.RunsStarted, **refusals)


@api_bp.post("/admin/runs")
@api_auth(Role.ADMIN)
@api_spec.validate(json=schema.RunsRequest, resp=_runs_started(), tags=RUNS)
def api_start_runs() -> ResponseReturnValue:
    """`{"first": "YYYY-MM-DD", "last"?: "YYYY-MM-DD"}`: one day, or a backfill of the range."""
    asked: schema.RunsRequest = validated_json()
    first, last = asked.first, asked.last or asked.first
    try:  # a refused range or day is a BatchRequestError or DateOutOfRange: the one handler answers
        result = request_days(settings(), first, last, requested_by=current_api_user().id)
    except RedisError:
        raise _queue_down() from None
    return jsonify(started=result.started, already_active=result.already_active), 202 if result.started else 200


@api_bp.post("/admin/runs/<int:run_id>/retry")
@api_auth(Role.ADMIN)
@api_spec.validate(resp=responses(schema.RetryStarted, *AUTHED, 404, 409, 413, status=202), tags=RUNS)
def api_retry_run(run_id: int) -> ResponseReturnValue:
    """Queue the failed partitions of a run again."""
    if run_detail(db_session(), run_id) is None:
        raise _no_run(run_id)
    try:  # a run that cannot be retried is a BatchRequestError: the one handler answers
        indexes = request_retry(settings(), run_id)
    except RedisError:
        raise _queue_down() from None
    return jsonify(run_id=run_id, partitions=indexes), 202


@api_bp.post("/admin/backfills/<int:backfill_id>/cancel")
@api_auth(Role.ADMIN)
@api_spec.validate(resp=responses(schema.BackfillCancelled, *AUTHED, 404, 409, 413), tags=RUNS)
def api_cancel_backfill(backfill_id: int) -> ResponseReturnValue:
    """Cancel the days of a backfill that have not started (409 when every day has)."""
    try:  # an unknown or fully started backfill is a BatchRequestError: the one handler answers
        cancelled = cancel_backfill(settings(), backfill_id)
    except RedisError:
        raise _queue_down() from None
    return jsonify(cancelled=sorted(cancelled))


@api_bp.get("/admin/status")
@api_auth(Role.ADMIN)
@api_spec.validate(query=queries.StatusQuery, resp=responses(schema.DataStatusMonth, *AUTHED, 422), tags=STATUS_TAGS)
def api_status() -> ResponseReturnValue:
    """The data status of every day of a month, and whether last night's run is on time."""
    config = settings()
    month = validated_query().month or today(config.tz).replace(day=1)
    first, last = month_range(month)
    session = db_session()
    health = nightly_health(session, config.tz, config.batch_health_deadline)
    days = calendar(session, first, last, config.tz)
    return jsonify(month=month.strftime("%Y-%m"), nightly=health.as_dict(),
                   days=[{"day": d.day.isoformat(), "status": d.status.value, "run_id": d.run_id,
                          "run_state": d.run_state.value if d.run_state else None,
                          "changed_events": d.changed_events, "plan_changed": d.plan_changed} for d in days])


@api_bp.get("/admin/ads/impressions")
@api_auth(Role.ADMIN)
@api_spec.validate(query=queries.AdImpressionsQuery, resp=responses(schema.AdImpressions, *AUTHED, 422),
                   tags=STATUS_TAGS)
def api_ad_impressions() -> ResponseReturnValue:
    """`?from=&to=` (YYYY-MM-DD, at most 93 days; default the last 14 days): per ad, impressions
    per business day and how many of them were inside counted play sessions."""
    first, last = date_range()
    ads = ad_impressions(db_session(), first, last)
    return jsonify(first=first.isoformat(), last=last.isoformat(), ads=[
        {"ad_id": a.ad_id, "title": a.title, "active": a.is_active, "impressions": a.total[0], "counted": a.total[1],
         "days": [{"day": d.isoformat(), "impressions": v[0], "counted": v[1]} for d, v in sorted(a.by_day.items())]}
        for a in ads])
