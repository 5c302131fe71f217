"""Receipts (§9): the arithmetic behind a video-day line, and the days behind a week or month line."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.figures.period_calendar import period_range
from models.figures.restatement_pages import restatement_page
from models.figures.scope import MAX_PER_PAGE, MONEY, FigureError, seller_video
from models.figures.tables import RollupPeriod, VideoPeriodStats
from models.money.pricing import bracket_lines
from models.money.settlement import PricePlan, VideoDailySettlement, scaled_to_rate


def _restatement_dicts(session: Session, video_id: int, first: date, last: date) -> list[dict[str, Any]]:
    return restatement_page(session, None, first=first, last=last, video_id=video_id, per_page=MAX_PER_PAGE)["items"]


def _brackets(tiers: list, units: int, before: int, ad: bool) -> list[dict[str, Any]]:
    return [{"from_unit": line.from_unit, "to_unit": line.to_unit, "units": line.units,
             "unit_price": str(scaled_to_rate(line.rate_e4)), "exact": str(scaled_to_rate(line.units * line.rate_e4)),
             "amount": line.amount} for line in bracket_lines(tiers, units, before, ad=ad)]


def day_receipt(session: Session, seller_id: int | None, video_id: int, day: date) -> dict[str, Any]:
    """The arithmetic behind one video-day line (§9): plan, basis, units before the day, each
    bracket's units × unit price floored, and the sums, next to the stored amounts."""
    video = seller_video(session, seller_id, video_id)
    line = session.get(VideoDailySettlement, (day, video_id))
    if line is None:
        raise FigureError("not_found", "no_settlement", f"{video.title} has no settlement on {day.isoformat()}.")
    plan = session.get(PricePlan, line.plan_id)
    assert plan is not None
    views = _brackets(plan.tiers, line.views, line.views_before, False)
    ads = _brackets(plan.tiers, line.ad_views, line.ad_views_before, True)
    video_amount, ad_amount = sum(b["amount"] for b in views), sum(b["amount"] for b in ads)
    return {"kind": "day", "video_id": video_id, "title": video.title, "day": day.isoformat(),
            "plan": {"id": plan.id, "name": plan.name, "effective_from": plan.effective_from.isoformat(),
                     "basis": line.basis.value},
            "views": {"units": line.views, "before": line.views_before, "brackets": views, "sum": video_amount},
            "ad_views": {"units": line.ad_views, "before": line.ad_views_before, "brackets": ads, "sum": ad_amount},
            "computed_total": video_amount + ad_amount,
            "stored": {"video_amount": line.video_amount, "ad_amount": line.ad_amount,
                       "total_amount": line.total_amount},
            "restatements": _restatement_dicts(session, video_id, day, day)}


def period_receipt(session: Session, seller_id: int | None, video_id: int, granularity: str,
                   day: date) -> dict[str, Any]:
    """A week or month line of a video: the days that add up to it, and the stored period row."""
    if granularity not in ("week", "month"):
        raise FigureError("invalid", "bad_granularity", "A period receipt is of a week or a month.")
    video = seller_video(session, seller_id, video_id)
    first, last = period_range(granularity, day)
    days = [{"day": r.day.isoformat(), "views": r.views, "ad_views": r.ad_views, "video_amount": r.video_amount,
             "ad_amount": r.ad_amount, "total_amount": r.total_amount}
            for r in session.scalars(select(VideoDailySettlement).where(
                VideoDailySettlement.video_id == video_id, VideoDailySettlement.day.between(first, last))
                .order_by(VideoDailySettlement.day))]
    stored = session.get(VideoPeriodStats, (RollupPeriod(granularity), first, video_id))
    if stored is None and not days:
        raise FigureError("not_found", "no_settlement", f"{video.title} has no settlement in that {granularity}.")
    sums = {n: sum(d[n] for d in days) for n in ("views", "ad_views", *MONEY)}
    return {"kind": granularity, "video_id": video_id, "title": video.title, "first": first.isoformat(),
            "last": last.isoformat(), "days": days, "sum": sums,
            "stored": None if stored is None else {
                "views": stored.views, "ad_views": stored.ad_views, "video_amount": stored.video_amount,
                "ad_amount": stored.ad_amount, "total_amount": stored.video_amount + stored.ad_amount},
            "restatements": _restatement_dicts(session, video_id, first, last)}
