"""Price plans: each validation rule, one plan per date, a used plan immutable, access
control of the page and the API, and a past-dated plan making exactly the right days stale
(then re-priced by the backfill the page offers)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from jobs.inline import run_days_inline
from models import PricePlan, Role, RunTrigger, VideoDailySettlement
from models.batch.tables import RunState
from models.db import make_sessionmaker
from models.figures.data_status import DataStatus, day_statuses
from models.figures.date_window import day_window
from models.money.price_plans import PlanError, create_plan, parse_plan, stale_days
from portal import create_app
from settings import Settings
from tests.batch_support import DAY0, busy_world
from tests.ops_support import (
    add_run,
    clients_by_role,
    forget_runs,
    make_account,
    signed_in,
    tokens_by_role,
)

WINDOW = day_window(Settings())  # the default date window (DATE_MIN, DATE_MAX_YEARS_AHEAD)
DEFAULT = [{"from_unit": 1, "to_unit": 100_000, "view_rate": "1", "ad_rate": "10"},
           {"from_unit": 100_001, "to_unit": None, "view_rate": "1.1", "ad_rate": "12.5"}]


def plan_body(effective: str, brackets=None, **changes):  # type: ignore[no-untyped-def]
    return {"name": "Spring", "basis": "daily", "effective_from": effective,
            "brackets": DEFAULT if brackets is None else brackets, **changes}


def bracket(frm, to, view="1", ad="10"):  # type: ignore[no-untyped-def]
    return {"from_unit": frm, "to_unit": to, "view_rate": view, "ad_rate": ad}


@pytest.mark.parametrize(("body", "code"), [
    (plan_body("2090-01-01", name=" "), "invalid_name"),
    (plan_body("2090-01-01", name="x" * 101), "invalid_name"),
    (plan_body("2090-01-01", basis="weekly"), "invalid_basis"),
    (plan_body("2090-02-30"), "invalid_date"),
    (plan_body("2090-01-01", brackets=[]), "invalid_brackets"),
    (plan_body("2090-01-01", brackets=[bracket(2, None)]), "brackets_not_contiguous"),  # not from 1
    (plan_body("2090-01-01", brackets=[bracket(1, 10), bracket(12, None)]), "brackets_not_contiguous"),  # a gap
    (plan_body("2090-01-01", brackets=[bracket(1, 10), bracket(10, None)]), "brackets_not_contiguous"),  # overlap
    (plan_body("2090-01-01", brackets=[bracket(1, 10), bracket(11, 5), bracket(6, None)]), "brackets_not_ascending"),
    (plan_body("2090-01-01", brackets=[bracket(1, None), bracket(1, None)]), "open_bracket_not_last"),
    (plan_body("2090-01-01", brackets=[bracket(1, 10), bracket(11, 20)]), "last_bracket_closed"),
    (plan_body("2090-01-01", brackets=[bracket(1, None, view="-0.5")]), "invalid_rate"),
    (plan_body("2090-01-01", brackets=[bracket(1, None, ad="1.00001")]), "invalid_rate"),  # 5 decimals
    (plan_body("2090-01-01", brackets=[bracket(1, None, view="one")]), "invalid_rate"),
    (plan_body("2090-01-01", brackets=[bracket("a", None)]), "invalid_bracket"),
])
def test_each_plan_rule_is_checked(body, code):
    with pytest.raises(PlanError) as caught:
        parse_plan(**body, window=WINDOW)
    assert caught.value.code == code and caught.value.kind == "invalid" and caught.value.message


def test_rates_keep_their_four_decimals():
    plan = parse_plan(**plan_body("2090-01-01", brackets=[bracket(1, 5, view="1.2345", ad=0.1), bracket(6, None)]),
                      window=WINDOW)
    assert [str(b.view_rate) for b in plan.brackets] == ["1.2345", "1"] and str(plan.brackets[0].ad_rate) == "0.1"


@pytest.fixture(scope="module")
def tokens(app, session_factory):
    return tokens_by_role(app, session_factory)


@pytest.fixture(scope="module")
def by_role(app, session_factory):
    return clients_by_role(app, session_factory)


def test_plans_api_and_page_access_by_role(app, tokens, by_role):
    client = app.test_client()
    calls = [("get", "/api/v1/admin/plans", None), ("post", "/api/v1/admin/plans", plan_body("2090-03-01")),
             ("get", "/api/v1/admin/plans/1", None), ("put", "/api/v1/admin/plans/999999", plan_body("2090-03-02")),
             ("delete", "/api/v1/admin/plans/999999", None), ("get", "/api/v1/admin/runs", None),
             ("get", "/api/v1/admin/runs/999999", None), ("post", "/api/v1/admin/runs", {"first": "2999-01-01"}),
             ("post", "/api/v1/admin/runs/999999/retry", None), ("post", "/api/v1/admin/backfills/999999/cancel", None),
             ("get", "/api/v1/admin/status", None)]
    for method, url, body in calls:
        assert getattr(client, method)(url, json=body, headers=tokens["anonymous"]).status_code == 401, url
        for role in ("viewer", "seller"):
            assert getattr(client, method)(url, json=body, headers=tokens[role]).status_code == 403, (url, role)
        assert getattr(client, method)(url, json=body, headers=tokens["admin"]).status_code not in (401, 403), url
    anonymous = by_role["anonymous"].get("/admin/plans/")
    assert anonymous.status_code == 302 and "/auth/signin" in anonymous.headers["Location"]
    for role in ("viewer", "seller"):
        c = by_role[role]
        assert c.get("/admin/plans/").status_code == 403
        assert c.post("/admin/plans/", data={"csrf_token": c.csrf, "name": "x"}).status_code == 403
        assert c.post("/admin/plans/1/delete", data={"csrf_token": c.csrf}).status_code == 403
        assert c.get("/admin/plans/1/edit").status_code == 403
    assert by_role["admin"].get("/admin/plans/").status_code == 200
    assert by_role["admin"].post("/admin/plans/", data={"name": "no token"}).status_code == 400


def test_api_creates_a_plan_one_per_date_and_refuses_bad_ones(app, tokens):
    client = app.test_client()
    created = client.post("/api/v1/admin/plans", json=plan_body("2090-04-01"), headers=tokens["admin"])
    assert created.status_code == 201, created.get_json()
    plan = created.get_json()["plan"]
    assert plan["brackets"][1] == {"from_unit": 100_001, "to_unit": None, "view_rate": "1.1", "ad_rate": "12.5"}
    assert created.get_json()["stale_days"] == [] and created.get_json()["backfill"] is None
    again = client.post("/api/v1/admin/plans", json=plan_body("2090-04-01", name="Other"), headers=tokens["admin"])
    assert again.status_code == 409 and again.get_json()["error"] == "date_taken"
    bad = client.post("/api/v1/admin/plans", json=plan_body("2090-04-02", brackets=[bracket(1, 9)]),
                      headers=tokens["admin"])
    assert bad.status_code == 422 and bad.get_json()["error"] == "last_bracket_closed"
    assert client.post("/api/v1/admin/plans", data="[", headers={**tokens["admin"], "Content-Type": "application/json"}
                       ).status_code == 422
    listed = client.get("/api/v1/admin/plans", headers=tokens["admin"]).get_json()["plans"]
    assert plan["id"] in [p["id"] for p in listed]


def test_a_used_plan_cannot_be_edited_or_deleted_only_superseded(app, tokens, session_factory):
    client = app.test_client()
    admin = tokens["admin"]
    plan_id = client.post("/api/v1/admin/plans", json=plan_body("2091-01-01"), headers=admin).get_json()["plan"]["id"]
    edited = client.put(f"/api/v1/admin/plans/{plan_id}", json=plan_body("2091-01-02", name="Renamed"), headers=admin)
    assert edited.status_code == 200 and edited.get_json()["effective_from"] == "2091-01-02"
    add_run(session_factory, date(2091, 1, 5), RunState.SUCCEEDED)  # a computed day now used the plan
    try:
        assert client.get(f"/api/v1/admin/plans/{plan_id}", headers=admin).get_json()["used"] is True
        refused = client.put(f"/api/v1/admin/plans/{plan_id}", json=plan_body("2091-01-03"), headers=admin)
        assert refused.status_code == 409 and refused.get_json()["error"] == "plan_in_use"
        assert client.delete(f"/api/v1/admin/plans/{plan_id}", headers=admin).status_code == 409
        later = client.post("/api/v1/admin/plans", json=plan_body("2091-02-01", name="Successor"), headers=admin)
        assert later.status_code == 201  # superseded by a later plan
        with session_factory() as session:
            assert session.get(PricePlan, plan_id).name == "Renamed"
    finally:
        forget_runs(session_factory, date(2091, 1, 5))
    assert client.delete(f"/api/v1/admin/plans/{plan_id}", headers=admin).status_code == 204


def test_a_past_dated_plan_makes_exactly_the_days_it_covers_stale_and_the_backfill_reprices_them(backend, media_root):
    from dataclasses import replace

    settings = replace(backend.settings, media_root=media_root)
    busy_world(backend, days=6)
    days = [DAY0 + timedelta(days=i) for i in range(6)]
    factory = make_sessionmaker(backend.engine)
    with factory() as session:  # a plan from day 4 exists before the days are computed
        later = create_plan(session, parse_plan(**plan_body((DAY0 + timedelta(days=4)).isoformat(), name="Later"),
                                                          window=WINDOW))
    run_days_inline(settings, days, RunTrigger.BACKFILL, use_cache=False)
    with factory() as session:
        assert {s.status for s in day_statuses(session, days[0], days[-1], settings.tz).values()} == {DataStatus.FINAL}

    app = create_app(settings)
    admin = signed_in(app, make_account(factory, Role.ADMIN))
    form = {"csrf_token": admin.csrf, "name": "Retro", "basis": "daily", "effective_from": days[2].isoformat(),
            "b0_from_unit": "1", "b0_to_unit": "", "b0_view_rate": "2", "b0_ad_rate": "20"}
    created = admin.post("/admin/plans/", data=form)
    assert created.status_code == 303
    page = admin.get(created.headers["Location"]).get_data(as_text=True)
    assert "2 computed days" in page and f'name="first" value="{days[2].isoformat()}"' in page
    assert re.search(r'id="plan-\d+" data-used="no"', page)  # not used until the days are re-run
    assert f'name="last" value="{days[3].isoformat()}"' in page
    with factory() as session:
        statuses = day_statuses(session, days[0], days[-1], settings.tz)
        retro = session.scalar(select(PricePlan).where(PricePlan.name == "Retro"))
        assert stale_days(session, retro, settings.tz) == days[2:4]
    assert [statuses[d].status for d in days] == [DataStatus.FINAL, DataStatus.FINAL, DataStatus.STALE,
                                                 DataStatus.STALE, DataStatus.FINAL, DataStatus.FINAL]
    assert [statuses[d].plan_changed for d in days] == [False, False, True, True, False, False]
    calendar = admin.get(f"/admin/status/?month={DAY0.strftime('%Y-%m')}").get_data(as_text=True)
    assert len(re.findall(r'data-status="stale"', calendar)) == 2 and "new price plan" in calendar

    run_days_inline(settings, days[2:4], RunTrigger.BACKFILL, use_cache=False)  # what the offered button starts
    with factory() as session:
        statuses = day_statuses(session, days[0], days[-1], settings.tz)
        plans = dict(session.execute(select(VideoDailySettlement.day, VideoDailySettlement.plan_id)).all())
    assert {statuses[d].status for d in days} == {DataStatus.FINAL}
    assert plans[days[2]] == plans[days[3]] == retro.id and plans[days[4]] == later.id and plans[days[1]] == 1
    assert f'id="plan-{retro.id}" data-used="yes"' in admin.get("/admin/plans/").get_data(as_text=True)


def test_calendar_counts_changed_events_and_shows_failed_runs(backend, media_root):
    from dataclasses import replace

    from sqlalchemy import update

    from models import PlaySession
    from models.base import utcnow
    from models.batch.ops_status import CalendarStatus, calendar

    settings = replace(backend.settings, media_root=media_root)
    backend.reset()
    busy_world(backend, days=3)
    days = [DAY0 + timedelta(days=i) for i in range(3)]
    run_days_inline(settings, days, RunTrigger.BACKFILL, use_cache=False)
    factory = make_sessionmaker(backend.engine)
    with factory() as session:  # two late changes of day 0's raw events, a failed re-run of day 2
        ids = session.scalars(select(PlaySession.id).where(PlaySession.day == days[0]).limit(2)).all()
        session.execute(update(PlaySession).where(PlaySession.id.in_(ids)).values(updated_at=utcnow()))
        session.commit()
    add_run(factory, days[2], RunState.FAILED, partitions=1)
    with factory() as session:
        shown = {d.day: d for d in calendar(session, DAY0.replace(day=1), days[-1], settings.tz)}
    assert shown[days[0]].status == CalendarStatus.STALE and shown[days[0]].changed_events == 2
    assert shown[days[1]].status == CalendarStatus.FINAL and shown[days[1]].changed_events == 0
    assert shown[days[2]].status == CalendarStatus.FAILED
    assert shown[DAY0.replace(day=1)].status == CalendarStatus.PENDING
    admin = signed_in(create_app(settings), make_account(factory, Role.ADMIN))
    page = admin.get(f"/admin/status/?month={DAY0.strftime('%Y-%m')}").get_data(as_text=True)
    assert "2 changed events" in page
    assert f'name="first" value="{days[0].isoformat()}"' in page and f'name="last" value="{days[0].isoformat()}"' in page
    fragment = admin.get(f"/admin/status/?month={DAY0.strftime('%Y-%m')}", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).startswith('<div id="calendar">')
