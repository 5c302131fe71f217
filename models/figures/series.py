"""A seller's (or one video's) figures per business day and the view ledger (§8, §10): closed
days from the batch's rows through the figure cache, today as a live estimate from the raw
events, never cached."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.business_time import days_between, today
from models.catalog.tables import Video
from models.figures.cache import FigureCache, get_or_compute_in, month_scopes
from models.figures.daily_counts import live_figures
from models.figures.scope import FIGURES, cache_key, check_range, scoped, seller_video
from models.figures.shown_status import shown_statuses
from models.figures.summary import cards_first
from models.figures.tables import PeriodKind, VideoDailyStats
from models.figures.top import top5_scopes
from models.money.pricing import bracket_lines, plan_row_for_day
from models.money.settlement import PricingBasis, VideoDailySettlement


def _daily_rows(session: Session, seller_id: int | None, first: date, last: date,
                video_id: int | None) -> dict[str, dict[str, int]]:
    stats = select(VideoDailyStats.day, func.sum(VideoDailyStats.views), func.sum(VideoDailyStats.watch_seconds),
                   func.sum(VideoDailyStats.ad_views), func.sum(VideoDailyStats.rejected_own_video),
                   func.sum(VideoDailyStats.rejected_repeat)).where(
        VideoDailyStats.day.between(first, last)).group_by(VideoDailyStats.day)
    money = select(VideoDailySettlement.day, func.sum(VideoDailySettlement.video_amount),
                   func.sum(VideoDailySettlement.ad_amount), func.sum(VideoDailySettlement.total_amount)).where(
        VideoDailySettlement.day.between(first, last)).group_by(VideoDailySettlement.day)
    stats, money = scoped(stats, money, seller_id, video_id)
    out: dict[str, dict[str, int]] = {}
    for day in days_between(first, last):
        out[day.isoformat()] = {name: 0 for name in (*FIGURES, "rejected_own_video", "rejected_repeat")}
    for day, views, watch, ads, own, repeat in session.execute(stats):
        out[day.isoformat()].update(views=int(views), watch_seconds=int(watch), ad_views=int(ads),
                                    rejected_own_video=int(own), rejected_repeat=int(repeat))
    for day, video_amount, ad_amount, total in session.execute(money):
        out[day.isoformat()].update(video_amount=int(video_amount), ad_amount=int(ad_amount), total_amount=int(total))
    return out


# What `live_figures` counts per video-day, the same columns `_daily_rows` reads from the batch's rows.
_LIVE_COUNTS = ("views", "watch_seconds", "ad_views", "rejected_own_video", "rejected_repeat")


def _live_estimate(session: Session, seller_id: int | None, day: date, video_id: int | None) -> dict[str, int]:
    """Today's figures from the raw events, priced with the plan in force (an estimate, §10)."""
    query = select(Video.id)
    if seller_id is not None:
        query = query.where(Video.seller_id == seller_id)
    if video_id is not None:
        query = query.where(Video.id == video_id)
    ids = list(session.scalars(query))
    figures = live_figures(session, day, ids) if ids else {}
    totals = {name: 0 for name in (*FIGURES, "rejected_own_video", "rejected_repeat")}
    plan = plan_row_for_day(session, day)
    before: dict[int, tuple[int, int]] = {}
    if plan is not None and plan.basis == PricingBasis.LIFETIME and figures:
        latest = select(VideoDailyStats.video_id, func.max(VideoDailyStats.day).label("day")).where(
            VideoDailyStats.video_id.in_(list(figures)), VideoDailyStats.day < day).group_by(
            VideoDailyStats.video_id).subquery()
        before = {vid: (int(v), int(a)) for vid, v, a in session.execute(
            select(VideoDailyStats.video_id, VideoDailyStats.cum_views, VideoDailyStats.cum_ad_views).join(
                latest, (latest.c.video_id == VideoDailyStats.video_id) & (latest.c.day == VideoDailyStats.day)))}
    for vid, fig in figures.items():
        for name in _LIVE_COUNTS:
            totals[name] += getattr(fig, name)
        if plan is not None:
            vb, ab = before.get(vid, (0, 0))
            va = sum(line.amount for line in bracket_lines(plan.tiers, fig.views, vb))
            aa = sum(line.amount for line in bracket_lines(plan.tiers, fig.ad_views, ab, ad=True))
            totals["video_amount"] += va
            totals["ad_amount"] += aa
            totals["total_amount"] += va + aa
    return totals


def series_scopes(first: date, last: date, current: date) -> list[str]:
    """The scopes of a series' closed days (today's live estimate is never cached)."""
    closed_last = min(last, current - timedelta(days=1))
    return month_scopes(first, closed_last) if closed_last >= first else []


def dashboard_scopes(kind: PeriodKind, top_day: date, first: date, last: date, tz: ZoneInfo) -> list[str]:
    """Every cache scope the dashboard reads its figures under (its Top-5, its daily series
    and its cards), so a request can read all their versions in one query
    (`FigureCache.prefetch`) instead of one per figure."""
    current = today(tz)
    return [*top5_scopes(kind, top_day), *series_scopes(first, last, current),
            *month_scopes(cards_first(current), current - timedelta(days=1))]


def daily_series(session: Session, cache: FigureCache | None, seller_id: int | None, first: date, last: date,
                 tz: ZoneInfo, video_id: int | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Per business day: views, watch seconds, ad views, filtered sessions and money, zero-filled,
    each day with its data status; today (when in range) is the live estimate.

    `now` (default: the clock) is the instant the series is read at: a test reads a day while it
    is today and again once it is over, to see the estimate become the batch's figures."""
    check_range(first, last)
    if video_id is not None:
        seller_video(session, seller_id, video_id)
    current = today(tz, now)
    closed_last = min(last, current - timedelta(days=1))
    rows: dict[str, dict[str, int]] = {}
    if closed_last >= first:
        rows = get_or_compute_in(cache, series_scopes(first, last, current),
                                 cache_key("series", seller_id, video_id, first, closed_last),
                                 lambda: _daily_rows(session, seller_id, first, closed_last, video_id))
    if first <= current <= last:
        rows[current.isoformat()] = _live_estimate(session, seller_id, current, video_id)
    # Days after today are not listed (issue 21, item 6): there is nothing to show of them yet.
    statuses = shown_statuses(session, cache, seller_id, first, last, tz, now, video_id)
    zero = {name: 0 for name in (*FIGURES, "rejected_own_video", "rejected_repeat")}
    days = [{"day": d.isoformat(), "status": statuses[d], **rows.get(d.isoformat(), zero)}
            for d in days_between(first, min(last, current))]
    return {"first": first.isoformat(), "last": min(last, current).isoformat(), "video_id": video_id, "days": days,
            "totals": {name: sum(d[name] for d in days) for name in FIGURES}}


def view_ledger(session: Session, cache: FigureCache | None, seller_id: int | None, video_id: int, first: date,
                last: date, tz: ZoneInfo, now: datetime | None = None) -> dict[str, Any]:
    """Per day: play sessions started, counted, filtered by reason (§6), average watch per view
    (read at `now`, as `daily_series`)."""
    series = daily_series(session, cache, seller_id, first, last, tz, video_id, now)
    days = []
    for d in series["days"]:
        started = d["views"] + d["rejected_own_video"] + d["rejected_repeat"]
        avg = d["watch_seconds"] // d["views"] if d["views"] else 0
        days.append({"day": d["day"], "status": d["status"], "started": started, "counted": d["views"],
                     "own_video": d["rejected_own_video"], "repeat_within_30s": d["rejected_repeat"],
                     "avg_watch_seconds": avg})
    return {"first": series["first"], "last": series["last"], "video_id": video_id, "days": days}
