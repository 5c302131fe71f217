"""The figures of the seller portal (§8, §9, §11): one query function per figure.

Pages, CSV exports and the JSON API all call these, so a number can only differ between
them if the data changed. Every function is scoped by `seller_id` (None: platform-wide,
for admins); a video of another seller is "not found", never someone else's numbers.

Values are plain JSON-ready dicts (dates as ISO strings) because they are read through
the Redis figure cache (`models/figure_cache.py`): a cache hit and a miss must look the
same. Closed days are cached under the scopes the batch invalidates (day, ISO week,
month; a range under every month it overlaps); today's live estimate is never cached, and
the data status of days only in the portal's short per-process memo (models/status_memo.py,
a few seconds) — without a cache (exports, command line) it is asked every time. The rules themselves (ranking, pricing, data status,
business periods) are called from their own modules, never re-implemented here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    bindparam,
    exists,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from models.business_time import days_between, month_range, month_start, today, week_range
from models.catalog import Video
from models.daily_counts import live_figures
from models.data_status import DataStatus, seller_day_statuses
from models.figure_cache import TITLES_SCOPE, FigureCache, get_or_compute_in, month_scopes, scope
from models.figures.changes import changes
from models.figures.period_windows import same_days_of_previous_month
from models.pricing import bracket_lines, plan_row_for_day
from models.rankings import period_start, top_videos
from models.restatements import REASON_TEXT, Restatement, RestatementReason
from models.settlement import PricePlan, PricingBasis, VideoDailySettlement, scaled_to_rate
from models.sql_dialect import Dialect
from models.stats import Metric, PeriodKind, RollupPeriod, VideoDailyStats, VideoPeriodStats

MAX_RANGE_DAYS = 366
MAX_PER_PAGE = 500
FIGURES = ("views", "watch_seconds", "ad_views", "video_amount", "ad_amount", "total_amount")
MONEY = ("video_amount", "ad_amount", "total_amount")
SETTLEMENT_SORTS = ("period", "video", "views", "ad_views", "video_amount", "ad_amount", "total_amount")
GRANULARITIES = ("day", "week", "month")


class FigureError(Exception):
    """A figure request refused; `kind` is transport-neutral (`not_found`, `invalid`)."""

    def __init__(self, kind: str, code: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.message = message


# ------------------------------------------------------------------------------ scope and input


def seller_video(session: Session, seller_id: int | None, video_id: int) -> Video:
    """The video if the caller may see it (its seller, or anybody when seller_id is None)."""
    video = session.get(Video, video_id)
    if video is None or (seller_id is not None and video.seller_id != seller_id):
        raise FigureError("not_found", "video_not_found", "There is no such video among yours.")
    return video


def check_range(first: date, last: date) -> None:
    """A range the portal computes: ordered and at most 366 days."""
    if last < first:
        raise FigureError("invalid", "inverted_range", "The end date is before the start date.")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise FigureError("invalid", "range_too_long", f"A range covers at most {MAX_RANGE_DAYS} days.")


def _titles(session: Session, video_ids: list[int]) -> dict[int, str]:
    if not video_ids:
        return {}
    return dict(session.execute(select(Video.id, Video.title).where(Video.id.in_(video_ids))).all())


def _key(*parts: object) -> str:
    return ":".join("all" if p is None else str(p) for p in parts)


def status_summary(statuses: list[DataStatus]) -> str:
    """One status for a set of days: the least trustworthy of them; days without data count
    only when no day has any."""
    for status in (DataStatus.PENDING, DataStatus.STALE, DataStatus.LIVE, DataStatus.FINAL):
        if status in statuses:
            return status.value
    return DataStatus.NO_DATA.value


def _statuses(session: Session, cache: FigureCache | None, seller_id: int | None, first: date, last: date,
              tz: ZoneInfo, now: datetime | None = None, video_id: int | None = None) -> dict[date, str]:
    """The days' statuses as the seller (or one video of theirs) is shown them, future days left
    out (`seller_day_statuses`). The platform's statuses underneath are exact, or through the
    portal's short-lived memo when the cache carries one (models/status_memo.py says how stale
    they may be). The memo follows the clock, so statuses as of another instant `now` are
    always asked exactly."""
    memo = cache.statuses if cache is not None else None
    shown = min(last, today(tz, now))
    platform = None
    if memo is not None and now is None and shown >= first:
        platform = memo.statuses(session, first, shown, tz)
    return {d: s.value for d, s in seller_day_statuses(session, seller_id, first, last, tz, now, video_id=video_id,
                                                       platform=platform).items()}


# ------------------------------------------------------------------------------ totals and cards


def _scoped(stats: Select, money: Select, seller_id: int | None, video_id: int | None) -> tuple[Select, Select]:
    """The stats and settlement queries narrowed to a seller's (or one video's) rows."""
    if seller_id is not None:
        stats = stats.where(VideoDailyStats.seller_id == seller_id)
        money = money.where(VideoDailySettlement.seller_id == seller_id)
    if video_id is not None:
        stats = stats.where(VideoDailyStats.video_id == video_id)
        money = money.where(VideoDailySettlement.video_id == video_id)
    return stats, money


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
    stats, money = _scoped(stats, money, seller_id, video_id)
    views, watch, ads = session.execute(stats).one()
    video_amount, ad_amount, total = session.execute(money).one()
    return dict(zip(FIGURES, map(int, (views, watch, ads, video_amount, ad_amount, total)), strict=True))


def period_totals(session: Session, cache: FigureCache | None, seller_id: int | None, first: date,
                  last: date) -> dict[str, int]:
    """Views, watch seconds, ad views and money of a seller's (or the platform's) closed days."""
    return get_or_compute_in(cache, month_scopes(first, last), _key("totals", seller_id, first, last),
                             lambda: _range_totals(session, seller_id, first, last))


def _cards_first(current: date) -> date:
    """The first day any card reads: the previous month's start or the day before yesterday."""
    yesterday = current - timedelta(days=1)
    prev_first, _ = same_days_of_previous_month(month_start(yesterday), yesterday)
    return min(prev_first, yesterday - timedelta(days=1))


def cards(session: Session, cache: FigureCache | None, seller_id: int | None, tz: ZoneInfo,
          on: date | None = None) -> dict[str, Any]:
    """Yesterday and month-to-date (the month of yesterday, up to yesterday), each against the
    previous period (the day before; the same days of the previous month), with data status."""
    current = on or today(tz)
    yesterday = current - timedelta(days=1)
    mtd_first = month_start(yesterday)
    prev_first, prev_last = same_days_of_previous_month(mtd_first, yesterday)
    statuses = _statuses(session, cache, seller_id, _cards_first(current), yesterday, tz)

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


# ------------------------------------------------------------------------------ Top-5


def _top5_scopes(kind: PeriodKind, day: date) -> list[str]:
    return [scope(kind.value, period_start(kind, day)), TITLES_SCOPE]  # it shows titles


def top5_span(kind: PeriodKind, day: date) -> tuple[date, date, list[str]]:
    """The first and last day of the Top-5 period of `day` and the cache scopes it is read under
    (the API's whole-answer cache keys its answer by the same scopes)."""
    start = period_start(kind, day)
    end = {PeriodKind.DAY: start, PeriodKind.WEEK: week_range(start)[1], PeriodKind.MONTH: month_range(start)[1]}[kind]
    return start, end, _top5_scopes(kind, day)


def top5(session: Session, cache: FigureCache | None, seller_id: int | None, metric: Metric,
         kind: PeriodKind, day: date, tz: ZoneInfo) -> dict[str, Any]:
    """The Top-5 of a day, week or month (§8), ranked by `models.rankings`, with titles."""
    start, end, scopes = top5_span(kind, day)

    def compute() -> dict[str, Any]:
        ranked = top_videos(session, kind, day, metric, seller_id)
        titles = _titles(session, [r.video_id for r in ranked])
        return {"items": [{"rank": r.rank, "video_id": r.video_id, "title": titles.get(r.video_id, ""),
                           "value": r.value} for r in ranked]}

    body = get_or_compute_in(cache, scopes, _key("top5", seller_id, metric.value), compute)
    statuses = _statuses(session, cache, seller_id, start, end, tz)
    return {"metric": metric.value, "period": kind.value, "first": start.isoformat(), "last": end.isoformat(),
            "status": status_summary([DataStatus(s) for s in statuses.values()]), **body}


# ------------------------------------------------------------------------------ daily series


def _daily_rows(session: Session, seller_id: int | None, first: date, last: date,
                video_id: int | None) -> dict[str, dict[str, int]]:
    stats = select(VideoDailyStats.day, func.sum(VideoDailyStats.views), func.sum(VideoDailyStats.watch_seconds),
                   func.sum(VideoDailyStats.ad_views), func.sum(VideoDailyStats.rejected_own_video),
                   func.sum(VideoDailyStats.rejected_repeat)).where(
        VideoDailyStats.day.between(first, last)).group_by(VideoDailyStats.day)
    money = select(VideoDailySettlement.day, func.sum(VideoDailySettlement.video_amount),
                   func.sum(VideoDailySettlement.ad_amount), func.sum(VideoDailySettlement.total_amount)).where(
        VideoDailySettlement.day.between(first, last)).group_by(VideoDailySettlement.day)
    stats, money = _scoped(stats, money, seller_id, video_id)
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


def _series_scopes(first: date, last: date, current: date) -> list[str]:
    """The scopes of a series' closed days (today's live estimate is never cached)."""
    closed_last = min(last, current - timedelta(days=1))
    return month_scopes(first, closed_last) if closed_last >= first else []


def dashboard_scopes(kind: PeriodKind, top_day: date, first: date, last: date, tz: ZoneInfo) -> list[str]:
    """Every cache scope the dashboard reads its figures under (its Top-5, its daily series
    and its cards), so a request can read all their versions in one query
    (`FigureCache.prefetch`) instead of one per figure."""
    current = today(tz)
    return [*_top5_scopes(kind, top_day), *_series_scopes(first, last, current),
            *month_scopes(_cards_first(current), current - timedelta(days=1))]


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
        rows = get_or_compute_in(cache, _series_scopes(first, last, current),
                                 _key("series", seller_id, video_id, first, closed_last),
                                 lambda: _daily_rows(session, seller_id, first, closed_last, video_id))
    if first <= current <= last:
        rows[current.isoformat()] = _live_estimate(session, seller_id, current, video_id)
    # Days after today are not listed (issue 21, item 6): there is nothing to show of them yet.
    statuses = _statuses(session, cache, seller_id, first, last, tz, now, video_id)
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


# ------------------------------------------------------------------------------ settlement tables


@cache
def _settlement_lines_select(granularity: str, by_seller: bool, by_video: bool) -> Select:
    """Per-video lines of the settlement table: days, or the weeks / months overlapping the range.

    Core (no ORM entities) and built once per shape: a request only binds `first` (for weeks and
    months the start of the period of the range's first day), `last`, `seller_id`, `video_id`
    (`_lines_params`)."""
    v, first, last = Video.__table__, bindparam("first"), bindparam("last")
    if granularity == "day":
        t = VideoDailySettlement.__table__
        query = select(t.c.day.label("period_start"), t.c.video_id, v.c.title, t.c.views, t.c.ad_views,
                       t.c.video_amount, t.c.ad_amount, t.c.total_amount).join(v, v.c.id == t.c.video_id).where(
            t.c.day.between(first, last))
    else:
        t = VideoPeriodStats.__table__
        query = select(t.c.period_start, t.c.video_id, v.c.title, t.c.views, t.c.ad_views, t.c.video_amount,
                       t.c.ad_amount, (t.c.video_amount + t.c.ad_amount).label("total_amount")).join(
            v, v.c.id == t.c.video_id).where(t.c.period == RollupPeriod(granularity),
                                             t.c.period_start.between(first, last))
    if by_seller:
        query = query.where(t.c.seller_id == bindparam("seller_id"))
    if by_video:
        query = query.where(t.c.video_id == bindparam("video_id"))
    return query


def _lines_params(seller_id: int | None, granularity: str, first: date, last: date,
                  video_id: int | None) -> dict[str, Any]:
    start = first if granularity == "day" else (week_range(first)[0] if granularity == "week" else month_start(first))
    return {"first": start, "last": last, "seller_id": seller_id, "video_id": video_id}


def _period_of_day(dialect: Dialect, granularity: str, day: str) -> ColumnElement[Any]:
    """SQL: the start of the period (of `granularity`) that the day column `day` falls in."""
    if granularity == "day":
        return literal_column(day)
    return literal_column(dialect.week_start(day) if granularity == "week" else dialect.month_start(day))


@lru_cache(maxsize=2048)
def _settlement_page_select(mysql: bool, granularity: str, by_seller: bool, by_video: bool, sort: str,
                            descending: bool, part: str) -> Select | CompoundSelect:
    """The statements of a table page, built once per shape and dialect and kept.

    `part` "lines": the page's lines in the page's order, each with whether a day of it was
    restated (§9; looked up for the page's lines only, after the LIMIT, on the (video_id, day)
    index); "periods": every period's line count and sums; "both": the two in one round trip
    (a UNION ALL, the lines first). Binds the lines' parameters plus `limit`, `offset` and `end`
    (the last day of the range's last period)."""
    lines = _settlement_lines_select(granularity, by_seller, by_video).subquery("lines")
    money = ("views", "ad_views", *MONEY)
    periods = select(literal_column("1").label("part"), lines.c.period_start, null().label("video_id"),
                     null().label("title"), *(func.coalesce(func.sum(lines.c[n]), 0).label(n) for n in money),
                     null().label("restated"), func.count().label("line_count")).group_by(lines.c.period_start)
    if part == "periods":
        return periods
    column = {"period": lines.c.period_start, "video": lines.c.title}.get(sort, lines.c.get(sort))
    assert column is not None
    page = select(lines).order_by(column.desc() if descending else column, lines.c.period_start,
                                  lines.c.video_id).limit(bindparam("limit")).offset(bindparam("offset")).subquery("page")
    r = Restatement.__table__
    restated = exists().where(r.c.video_id == page.c.video_id, r.c.day.between(page.c.period_start, bindparam("end")),
                              _period_of_day(Dialect.of(mysql), granularity, "restatements.day") == page.c.period_start)
    rows = select(literal_column("0").label("part"), page.c.period_start, page.c.video_id, page.c.title,
                  *(page.c[n] for n in money), restated.label("restated"), null().label("line_count"))
    # The page's order again (neither a derived table's nor a UNION's rows keep one of their own);
    # the periods are sorted by the caller (by date, exactly).
    if part == "lines":
        sort_column = {"period": page.c.period_start, "video": page.c.title}.get(sort, page.c.get(sort))
        return rows.order_by(sort_column.desc() if descending else sort_column, page.c.period_start,
                             page.c.video_id)
    both = union_all(rows, periods)
    out = both.selected_columns
    sort_name = {"period": "period_start", "video": "title"}.get(sort, sort)
    return both.order_by(out.part, out[sort_name].desc() if descending else out[sort_name], out.period_start,
                         out.video_id)


def _period_end(granularity: str, start: date) -> date:
    if granularity == "week":
        return week_range(start)[1]
    if granularity == "month":
        return month_range(start)[1]
    return start


def _line(granularity: str, row: Any) -> dict[str, Any]:
    return {"period_start": row.period_start.isoformat(),
            "period_end": _period_end(granularity, row.period_start).isoformat(),
            "video_id": row.video_id, "title": row.title, "views": int(row.views), "ad_views": int(row.ad_views),
            "video_amount": int(row.video_amount), "ad_amount": int(row.ad_amount),
            "total_amount": int(row.total_amount)}


def _check_granularity(granularity: str) -> None:
    if granularity not in GRANULARITIES:
        raise FigureError("invalid", "bad_granularity", "granularity must be day, week or month.")


def settlement_lines(session: Session, seller_id: int | None, granularity: str, first: date, last: date,
                     video_id: int | None = None) -> Iterator[dict[str, Any]]:
    """Every line of the table in period then video order, streamed (for CSV exports)."""
    _check_granularity(granularity)
    check_range(first, last)
    if video_id is not None:
        seller_video(session, seller_id, video_id)
    query = _settlement_lines_select(granularity, seller_id is not None, video_id is not None)
    cols = query.selected_columns
    # A buffered result read row by row (no server-side cursor: the request's connection stays
    # usable while the download streams).
    result = session.execute(query.order_by(cols.period_start, cols.video_id),
                             _lines_params(seller_id, granularity, first, last, video_id))
    for row in result:
        yield _line(granularity, row)


def settlement_span(granularity: str, first: date, last: date) -> tuple[date, date, list[str]]:
    """The first and last day the periods of a settlement table cover, and the cache scopes it is
    read under (the API's whole-answer cache keys its answer by the same scopes)."""
    start = first if granularity == "day" else (week_range(first)[0] if granularity == "week" else month_start(first))
    end = _period_end(granularity, period_start(PeriodKind(granularity), last))
    return start, end, [*month_scopes(start, end), TITLES_SCOPE]  # its lines show titles


def settlement_table_key(seller_id: int | None, granularity: str, first: date, last: date, video_id: int | None,
                         sort: str, descending: bool, page: int, per_page: int) -> tuple[list[str], str]:
    """The cache scopes and key of a `settlement_table` value (the API's read fast path fetches
    it together with the whole answer)."""
    return (settlement_span(granularity, first, last)[2],
            _key("settlements", seller_id, granularity, first, last, video_id, sort, descending, page, per_page))


def settlement_table(session: Session, cache: FigureCache | None, seller_id: int | None, granularity: str,
                     first: date, last: date, tz: ZoneInfo, *, video_id: int | None = None, sort: str = "period",
                     descending: bool = False, page: int = 1, per_page: int = 50) -> dict[str, Any]:
    """One page of per-video lines, sorted, plus the totals of each period and of the whole range."""
    _check_granularity(granularity)
    check_range(first, last)
    if sort not in SETTLEMENT_SORTS:
        raise FigureError("invalid", "bad_sort", f"sort must be one of {', '.join(SETTLEMENT_SORTS)}.")
    if page < 1 or not 1 <= per_page <= 500:
        raise FigureError("invalid", "bad_page", "page must be 1 or more and per_page between 1 and 500.")
    if video_id is not None:
        seller_video(session, seller_id, video_id)
    start, end, _ = settlement_span(granularity, first, last)
    scopes, key = settlement_table_key(seller_id, granularity, first, last, video_id, sort, descending, page,
                                       per_page)

    def compute() -> dict[str, Any]:
        shape = (Dialect(session.connection()).mysql, granularity, seller_id is not None, video_id is not None,
                 sort, descending)
        params = {**_lines_params(seller_id, granularity, first, last, video_id), "end": end,
                  "limit": per_page, "offset": (page - 1) * per_page}
        names = ("views", "ad_views", *MONEY)
        if page == 1:
            # Usually every line fits on the first page: then its lines are the whole table and
            # the periods' sums are added up from them, in one cheap statement. One line more
            # than the page says whether that is so; if not, the periods are asked for.
            rows = session.execute(_settlement_page_select(*shape, "lines"), {**params, "limit": per_page + 1}).all()
            if len(rows) <= per_page:
                periods: dict[date, dict[str, int]] = {}
                for row in rows:
                    sums = periods.setdefault(row.period_start, {"line_count": 0, **{n: 0 for n in names}})
                    sums["line_count"] += 1
                    for n in names:
                        sums[n] += int(row._mapping[n])
                summed = [(start, sums) for start, sums in periods.items()]
            else:
                rows = rows[:per_page]
                summed = [(row.period_start, row._mapping) for row in session.execute(
                    _settlement_page_select(*shape, "periods"), params)]
        else:
            both = session.execute(_settlement_page_select(*shape, "both"), params).all()
            rows = [row for row in both if row.part == 0]
            summed = [(row.period_start, row._mapping) for row in both if row.part != 0]
        lines = []
        for row in rows:
            line = _line(granularity, row)
            line["restated"] = bool(row.restated)
            lines.append(line)
        count = sum(int(sums["line_count"]) for _, sums in summed)
        table_periods = [{"period_start": start.isoformat(), "period_end": _period_end(granularity, start).isoformat(),
                          **{n: int(sums[n]) for n in names}} for start, sums in sorted(summed, key=lambda p: p[0])]
        totals = {n: sum(p[n] for p in table_periods) for n in names}
        return {"rows": lines, "periods": table_periods, "totals": totals,
                "total_rows": count, "pages": max(1, -(-count // per_page))}

    body = get_or_compute_in(cache, scopes, key, compute)
    statuses = _statuses(session, cache, seller_id, start, end, tz, video_id=video_id)
    return {"granularity": granularity, "first": first.isoformat(), "last": last.isoformat(), "sort": sort,
            "descending": descending, "page": page, "per_page": per_page,
            "status": status_summary([DataStatus(s) for s in statuses.values()]), **body}


# ------------------------------------------------------------------------------ receipts


def _restatement_dicts(session: Session, video_id: int, first: date, last: date) -> list[dict[str, Any]]:
    return restatement_page(session, None, first=first, last=last, video_id=video_id, per_page=MAX_PER_PAGE)["items"]


def restatement_dict(r: Restatement, title: str | None) -> dict[str, Any]:
    """One restatement: the video's title, what the day's figures were and are, and the net change
    of its money (now − was, whole won; negative when the day is now worth less)."""
    reason = RestatementReason(r.reason)
    return {"id": r.id, "day": r.day.isoformat(), "video_id": r.video_id, "title": title, "run_id": r.run_id,
            "recorded_at": r.recorded_at.isoformat(), "reason": reason.value, "reason_text": REASON_TEXT[reason],
            "was": {n: getattr(r, f"was_{n}") for n in FIGURES}, "now": {n: getattr(r, f"now_{n}") for n in FIGURES},
            "net_change": r.now_total_amount - r.was_total_amount}


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
    first, last = week_range(day) if granularity == "week" else month_range(day)
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


# ------------------------------------------------------------------------------ tier progress


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
        first = month_start(current)
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


def restatement_page(session: Session, seller_id: int | None, *, first: date | None = None, last: date | None = None,
                     video_id: int | None = None, page: int = 1, per_page: int = 50) -> dict[str, Any]:
    """One page of the restatements of the caller's videos (days `first`..`last`, one video),
    newest first, with titles, how many there are in all and their net change in total (an
    empty page for a forged video). The dashboard's list used to stop silently at ten: the
    count and the pages say how many more there are (issue 21, item 7)."""
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise FigureError("invalid", "bad_page", f"page must be 1 or more and per_page between 1 and {MAX_PER_PAGE}.")
    where = []
    if seller_id is not None:
        where.append(Restatement.seller_id == seller_id)
    if video_id is not None:
        where.append(Restatement.video_id == video_id)
    if first is not None:
        where.append(Restatement.day >= first)
    if last is not None:
        where.append(Restatement.day <= last)
    count, net = session.execute(select(
        func.count(), func.coalesce(func.sum(Restatement.now_total_amount - Restatement.was_total_amount), 0))
        .where(*where)).one()
    rows = session.execute(select(Restatement, Video.title).join(Video, Video.id == Restatement.video_id).where(*where)
                           .order_by(Restatement.recorded_at.desc(), Restatement.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [restatement_dict(r, title) for r, title in rows], "page": page, "per_page": per_page,
            "total_rows": int(count), "pages": max(1, -(-int(count) // per_page)), "net_change_total": int(net)}


def restatement_list(session: Session, seller_id: int | None, first: date | None = None,
                     last: date | None = None, video_id: int | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """The newest `limit` restatements of the caller's videos (`restatement_page`'s first page)."""
    return restatement_page(session, seller_id, first=first, last=last, video_id=video_id, per_page=limit)["items"]
