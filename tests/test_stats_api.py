"""The read API of statistics and settlements on the generated data set: numbers against the
batch tables, §2 scoping (404 / empty list), viewers 403, dates validated (422)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import VideoDailySettlement, VideoDailyStats, VideoPeriodStats
from tests.portal_support import api_getter


@pytest.fixture
def api(portal_app, portal_data):
    return api_getter(portal_app, portal_data)


def test_settlements_and_receipts_match_the_batch_tables(api, portal_data):
    seller = portal_data.sellers[0]
    first, last = portal_data.first, portal_data.last
    with Session(portal_data.backend.engine) as s:
        daily = s.scalars(select(VideoDailySettlement).where(VideoDailySettlement.seller_id == seller.id)).all()
        months = s.scalars(select(VideoPeriodStats).where(VideoPeriodStats.seller_id == seller.id,
                                                          VideoPeriodStats.period == "month")).all()
    body = api(seller, f"/settlements?granularity=day&from={first}&to={last}&per_page=500").get_json()
    assert sorted((r["period_start"], r["video_id"], r["total_amount"]) for r in body["rows"]) == sorted(
        (r.day.isoformat(), r.video_id, r.total_amount) for r in daily)
    assert body["totals"]["total_amount"] == sum(r.total_amount for r in daily)
    monthly = api(seller, f"/settlements?granularity=month&from={first}&to={last}").get_json()
    assert sorted((r["period_start"], r["video_id"], r["video_amount"]) for r in monthly["rows"]) == sorted(
        (r.period_start.isoformat(), r.video_id, r.video_amount) for r in months)
    assert len({r["period_start"] for r in monthly["rows"]}) == 2  # the range crosses a month start
    for line in daily[:25]:
        receipt = api(seller, f"/settlements/{line.video_id}/{line.day}").get_json()
        assert receipt["computed_total"] == line.total_amount
        assert receipt["views"]["sum"] == line.video_amount and receipt["ad_views"]["sum"] == line.ad_amount
    week = api(seller, f"/settlements/{daily[0].video_id}/{daily[0].day}?granularity=week").get_json()
    assert week["sum"] == week["stored"]


def test_a_settlements_answer_is_the_bytes_of_its_pydantic_model(api, portal_app, portal_data):
    """The view encodes the table as it is: byte for byte what validating it as `SettlementPage`
    and dumping the model gives, for lines, periods, totals and restated flags."""
    from flask import jsonify

    from models.figures.settlements import settlement_table
    from portal.api.stats_schemas import SettlementPage
    from tests.portal_support import TZ

    seller, first, last = portal_data.sellers[1], portal_data.first, portal_data.last
    for granularity, sort, direction, per_page in (("day", "video", "asc", 9), ("week", "total_amount", "desc", 50),
                                                   ("month", "period", "asc", 500)):
        url = f"/settlements?granularity={granularity}&from={first}&to={last}&sort={sort}&dir={direction}" \
              f"&per_page={per_page}"
        answer = api(seller, url)
        assert answer.status_code == 200
        with portal_app.app_context(), Session(portal_data.backend.engine) as s:
            table = settlement_table(s, None, seller.id, granularity, first, last, TZ, sort=sort,
                                     descending=direction == "desc", per_page=per_page)
            assert table["rows"]
            as_model = jsonify(SettlementPage.model_validate(table).model_dump(mode="json")).get_data()
            assert jsonify(table).get_data() == as_model
        assert answer.get_json() == SettlementPage.model_validate(answer.get_json()).model_dump(mode="json")


def test_top5_summary_series_and_ledger(api, portal_data):
    seller = portal_data.sellers[1]
    last = portal_data.last
    with Session(portal_data.backend.engine) as s:
        best = s.execute(select(VideoDailyStats.video_id, VideoDailyStats.watch_seconds).where(
            VideoDailyStats.seller_id == seller.id, VideoDailyStats.day == last, VideoDailyStats.watch_seconds > 0)
            .order_by(VideoDailyStats.watch_seconds.desc(), VideoDailyStats.video_id).limit(5)).all()
        yesterday_views = s.scalar(select(func.coalesce(func.sum(VideoDailyStats.views), 0)).where(
            VideoDailyStats.seller_id == seller.id, VideoDailyStats.day == last))
    top = api(seller, f"/stats/top5?metric=watch_seconds&period=day&date={last}").get_json()
    assert [(i["video_id"], i["value"]) for i in top["items"]] == [tuple(r) for r in best]
    summary = api(seller, "/stats/summary").get_json()
    assert summary["cards"][0]["figures"]["views"]["value"] == yesterday_views
    assert summary["timezone"] == "Asia/Seoul" and summary["tier_progress"]
    vid = portal_data.videos[seller.id][0]
    series = api(seller, f"/videos/{vid}/stats?from={portal_data.first}&to={last}").get_json()
    ledger = api(seller, f"/videos/{vid}/ledger?from={portal_data.first}&to={last}").get_json()
    assert len(series["days"]) == len(ledger["days"]) == 32
    for s_day, l_day in zip(series["days"], ledger["days"], strict=True):
        assert l_day["counted"] == s_day["views"]
        assert l_day["started"] == s_day["views"] + s_day["rejected_own_video"] + s_day["rejected_repeat"]


def test_another_sellers_ids_are_404_or_an_empty_list_and_viewers_get_403(api, portal_data):
    seller = portal_data.sellers[2]
    other = portal_data.other_seller_video(seller)
    day = portal_data.last
    for url in (f"/settlements/{other}/{day}", f"/settlements/{other}/{day}?granularity=month",
                f"/videos/{other}/stats", f"/videos/{other}/ledger",
                f"/settlements?from={day}&to={day}&video_id={other}"):
        response = api(seller, url)
        assert response.status_code == 404, url
        assert set(response.get_json()) == {"error", "message"}
    forged_video = api(seller, f"/restatements?video_id={other}").get_json()
    assert forged_video["items"] == [] and forged_video["total_rows"] == forged_video["net_change_total"] == 0
    # seller_id is an admin's filter: a seller asking for another seller still gets their own figures.
    forged = api(seller, f"/settlements?from={portal_data.first}&to={day}&per_page=500"
                         f"&seller_id={portal_data.sellers[0].id}").get_json()
    assert {r["video_id"] for r in forged["rows"]} <= set(portal_data.videos[seller.id])
    for url in ("/stats/summary", "/stats/top5", f"/settlements?from={day}&to={day}", f"/settlements/{other}/{day}",
                f"/videos/{other}/stats", f"/videos/{other}/ledger", "/restatements"):
        response = api(portal_data.viewer, url)
        assert response.status_code == 403 and response.get_json()["error"] == "forbidden", url


def test_admins_see_the_platform_or_one_seller(api, portal_data):
    first, last = portal_data.first, portal_data.last
    everyone = api(portal_data.admin, f"/settlements?granularity=month&from={first}&to={last}&per_page=500").get_json()
    assert {r["video_id"] for r in everyone["rows"]} == set(portal_data.world.sellers)
    seller = portal_data.sellers[0]
    one = api(portal_data.admin, f"/settlements?granularity=month&from={first}&to={last}&seller_id={seller.id}")
    assert {r["video_id"] for r in one.get_json()["rows"]} == set(portal_data.videos[seller.id])


@pytest.mark.parametrize(("query", "needle"), [
    ("from=2026-03-10&to=2026-03-01", "before the start"),
    ("from=2025-01-01&to=2026-03-01", "366"),
    ("from=2026-02-30&to=2026-03-01", "from"),
    ("from=yesterday&to=2026-03-01", "from"),
    ("to=2026-03-01", "from"),
    ("from=2026-03-01&to=2026-03-02&granularity=year", "granularity"),
    ("from=2026-03-01&to=2026-03-02&page=0", "page"),
    ("from=2026-03-01&to=2026-03-02&sort=secret", "sort"),
])
def test_bad_queries_get_422_with_a_message(api, portal_data, query, needle):
    response = api(portal_data.sellers[0], f"/settlements?{query}")
    body = response.get_json()
    assert response.status_code == 422 and body["error"] == "invalid_request" and needle in body["message"]


def test_bad_dates_elsewhere_get_422(api, portal_data):
    seller = portal_data.sellers[0]
    vid = portal_data.videos[seller.id][0]
    assert api(seller, "/stats/top5?date=2026-13-01").status_code == 422
    assert api(seller, "/stats/top5?metric=likes").status_code == 422
    assert api(seller, f"/settlements/{vid}/not-a-day").status_code == 422
    too_long = portal_data.last - timedelta(days=400)
    assert api(seller, f"/videos/{vid}/stats?from={too_long}&to={portal_data.last}").status_code == 422
    assert api(seller, f"/videos/{vid}/ledger?from={portal_data.last}&to={portal_data.first}").status_code == 422
