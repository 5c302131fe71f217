"""Price plans (`/admin/plans`): the effective-dated plans, a form to add one (or fix an
unused one), and, after a plan dated in the past, the backfill that re-prices the days it
made stale. The rules themselves live in `models.money.price_plans`."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from models import Role
from models.business_time import today
from models.figures.date_window import day_window
from models.money.price_plans import (
    PlanError,
    create_plan,
    delete_plan,
    get_plan,
    list_plans,
    parse_plan,
    stale_days,
    update_plan,
    used_plan_ids,
)
from models.money.settlement import PricePlan
from portal.auth import role_required
from portal.database import db_session
from portal.errors import sentence, status_of
from portal.queries.ops import PLAN_FORM_ROWS, PlanForm, PlansQuery
from portal.queries.parse import parse_query
from portal.settings import settings

bp = Blueprint("ops_plans", __name__, url_prefix="/admin/plans")
FORM_ROWS = PLAN_FORM_ROWS


def _values(plan: PricePlan | None) -> dict:
    if plan is None:
        return {"name": "", "basis": "daily", "effective_from": (today(settings().tz) + timedelta(days=1)).isoformat(),
                "brackets": []}
    return {"name": plan.name, "basis": plan.basis.value, "effective_from": plan.effective_from.isoformat(),
            "brackets": [{"from_unit": t.from_unit, "to_unit": "" if t.to_unit is None else t.to_unit,
                          "view_rate": format(t.view_rate.normalize(), "f"),
                          "ad_rate": format(t.ad_rate.normalize(), "f")} for t in plan.tiers]}


def _page(values: dict, error: str | None = None, status: int = 200, editing: PricePlan | None = None,
          stale: list[date] | None = None, created: PricePlan | None = None) -> ResponseReturnValue:
    session = db_session()
    return render_template("ops/plans.html", plans=list_plans(session), used=used_plan_ids(session), values=values,
                           error=error, rows=FORM_ROWS, editing=editing, stale=stale or [], created=created), status


@bp.get("/")
@role_required(Role.ADMIN)
def index() -> ResponseReturnValue:
    created = stale = None
    plan_id = parse_query(PlansQuery).created
    if plan_id is not None:
        session = db_session()
        try:
            created = get_plan(session, plan_id)
            stale = stale_days(session, created, settings().tz)
        except PlanError:  # the created plan is gone (deleted meanwhile): the page without its notice
            created = None
    return _page(_values(None), stale=stale, created=created)


def _submitted() -> dict:
    """The plan form as typed (a value too long for its field is the one 422 refusal)."""
    return parse_query(PlanForm, request.form).model_dump()


def _parsed(values: dict):  # type: ignore[no-untyped-def]
    return parse_plan(**values, window=day_window(settings()))


@bp.post("/")
@role_required(Role.ADMIN)
def create() -> ResponseReturnValue:
    values = _submitted()
    session = db_session()
    try:
        plan = create_plan(session, _parsed(values), created_by=current_user.id)
    except PlanError as exc:  # the form again with the rule's message and the error's status
        return _page(values, sentence(exc.message), status_of(exc))
    flash(f"Plan {plan.id} ({plan.name}) takes effect on {plan.effective_from.isoformat()}.", "info")
    return redirect(url_for("ops_plans.index", created=plan.id), 303)


@bp.route("/<int:plan_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit(plan_id: int) -> ResponseReturnValue:
    session = db_session()
    plan = get_plan(session, plan_id)
    if request.method == "GET":
        return _page(_values(plan), editing=plan)
    values = _submitted()
    try:
        update_plan(session, plan_id, _parsed(values))
    except PlanError as exc:  # the form again with the rule's message and the error's status
        session.rollback()
        return _page(values, sentence(exc.message), status_of(exc),
                     editing=get_plan(session, plan_id))
    flash(f"Plan {plan_id} saved.", "info")
    return redirect(url_for("ops_plans.index", created=plan_id), 303)


@bp.post("/<int:plan_id>/delete")
@role_required(Role.ADMIN)
def delete(plan_id: int) -> ResponseReturnValue:
    delete_plan(db_session(), plan_id)
    flash(f"Plan {plan_id} deleted.", "info")
    return redirect(url_for("ops_plans.index"), 303)
