"""The dashboard's cards (yesterday, month-to-date, each against the previous period) and tier
progress: what `GET /stats/summary` and the top of the dashboard show (§8, §9)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.business_time import days_between, today
from models.catalog.tables import Video
from models.figures.cache import FigureCache, get_or_compute_in, month_scopes
from models.figures.changes import changes
from models.figures.data_status import DataStatus
from models.figures.period_calendar import period_start
from models.figures.period_windows import same_days_of_previous_month
from models.figures.scope import FIGURES, cache_key, scoped
from models.figures.shown_status import shown_statuses, status_summary
from models.figures.tables import PeriodKind, VideoDailyStats
from models.money.pricing import plan_row_for_day
from models.money.settlement import PricingBasis, VideoDailySettlement


def _range_totals(session: Session, seller_id: int | None, first: date, last: date,
                  video_id: int | None = None) -> dict[str, int]:
    stats = select(func.coalesce(func.sum(VideoDailyStats.views), 0),
                   func.coalesce(func.sum(VideoDailyStats.watch_seconds), 0),
                   func.coalesce(func.sum(VideoDailyStats.ad_views), 0)).where(
        VideoDailyStats.day.between(first, last))
    money = select(func.coalesce(func.sum(VideoDailySettlement.video_amount), 0),
                   func.coalesce(func.sum(VideoDailySettlement.ad_amount), 0),
                   func.coalesce(func.sum(VideoDailySettlement.total_amount), 0)).where(
        VideoDailySettlement.day.between(first, last))
    stats, money = scoped(stats, money, seller_id, video_id)
    views, watch, ads = session.execute(stats).one()
    video_amount, ad_amount, total = session.execute(money).one()
    return dict(zip(FIGURES, map(int, (views, watch, ads, video_amount, ad_amount, total)), strict=True))


def period_totals(session: Session, cache: FigureCache | None, seller_id: int | None, first: date,
                  last: date) -> dict[str, int]:
    """Views, watch seconds, ad views and money of a seller's (or the platform's) closed days."""
    return get_or_compute_in(cache, month_scopes(first, last), cache_key("totals", seller_id, first, last),
                             lambda: _range_totals(session, seller_id, first, last))


def cards_first(current: date) -> date:
    """The first day any card reads: the previous month's start or the day before yesterday."""
    yesterday = current - timedelta(days=1)
    prev_first, _ = same_days_of_previous_month(period_start(PeriodKind.MONTH, yesterday), yesterday)
    return min(prev_first, yesterday - timedelta(days=1))


def cards(session: Session, cache: FigureCache | None, seller_id: int | None, tz: ZoneInfo,
          on: date | None = None) -> dict[str, Any]:
    """Yesterday and month-to-date (the month of yesterday, up to yesterday), each against the
    previous period (the day before; the same days of the previous month), with data status."""
    current = on or today(tz)
    yesterday = current - timedelta(days=1)
    mtd_first = period_start(PeriodKind.MONTH, yesterday)
    prev_first, prev_last = same_days_of_previous_month(mtd_first, yesterday)
    statuses = shown_statuses(session, cache, seller_id, cards_first(current), yesterday, tz)

    def card(label: str, first: date, last: date, pfirst: date, plast: date) -> dict[str, Any]:
        now = period_totals(session, cache, seller_id, first, last)
        before = period_totals(session, cache, seller_id, pfirst, plast)
        return {"label": label, "first": first.isoformat(), "last": last.isoformat(),
                "previous_first": pfirst.isoformat(), "previous_last": plast.isoformat(),
                "status": status_summary([DataStatus(statuses[d]) for d in days_between(first, last)]),
                "figures": changes(now, before, FIGURES)}

    day_before = yesterday - timedelta(days=1)
    return {"today": current.isoformat(), "cards": [
        card("yesterday", yesterday, yesterday, day_before, day_before),
        card("month_to_date", mtd_first, yesterday, prev_first, prev_last),
    ]}


def tier_progress(session: Session, seller_id: int | None, tz: ZoneInfo, on: date | None = None,
                  video_id: int | None = None) -> list[dict[str, Any]]:
    """Per video: where this month's count (or, on the `lifetime` basis, the cumulative count)
    stands against the bracket boundaries of the plan in force, and how many views to the next."""
    current = on or today(tz)
    plan = plan_row_for_day(session, current)
    if plan is None:
        return []
    videos = select(Video.id, Video.title)
    if seller_id is not None:
        videos = videos.where(Video.seller_id == seller_id)
    if video_id is not None:
        videos = videos.where(Video.id == video_id)
    titles = dict(session.execute(videos.order_by(Video.id)).all())
    if not titles:
        return []
    if plan.basis == PricingBasis.LIFETIME:
        latest = select(VideoDailyStats.video_id, func.max(VideoDailyStats.day).label("day")).where(
            VideoDailyStats.video_id.in_(list(titles))).group_by(VideoDailyStats.video_id).subquery()
        counts = dict(session.execute(select(VideoDailyStats.video_id, VideoDailyStats.cum_views).join(
            latest, (latest.c.video_id == VideoDailyStats.video_id) & (latest.c.day == VideoDailyStats.day))).all())
        counted_since = None
    else:
        first = period_start(PeriodKind.MONTH, current)
        counts = dict(session.execute(select(VideoDailyStats.video_id, func.sum(VideoDailyStats.views)).where(
            VideoDailyStats.video_id.in_(list(titles)), VideoDailyStats.day.between(first, current))
            .group_by(VideoDailyStats.video_id)).all())
        counted_since = first.isoformat()
    tiers = sorted(plan.tiers, key=lambda t: t.from_unit)
    out = []
    for vid, title in titles.items():
        count = int(counts.get(vid, 0) or 0)
        tier = next((t for t in tiers if count + 1 >= t.from_unit and (t.to_unit is None or count + 1 <= t.to_unit)),
                    tiers[-1])
        following = next((t for t in tiers if t.from_unit > count + 1), None)
        out.append({"video_id": vid, "title": title, "basis": plan.basis.value, "plan": plan.name,
                    "counted_since": counted_since, "count": count, "rate": str(tier.view_rate),
                    "next_rate": None if following is None else str(following.view_rate),
                    "to_next": None if following is None else following.from_unit - 1 - count})
    return out
