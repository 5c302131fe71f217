"""The settlement tables (§9): per-video lines of days, weeks or months with the totals of each
period and of the range, a page at a time (pages, API) or streamed (CSV)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
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

from models.catalog.tables import Video
from models.figures.cache import TITLES_SCOPE, FigureCache, get_or_compute_in, month_scopes
from models.figures.data_status import DataStatus
from models.figures.period_calendar import (
    GRANULARITIES,
    period_end,
    period_start,
    period_start_sql,
    periods_span,
)
from models.figures.scope import MONEY, FigureError, cache_key, check_range, seller_video
from models.figures.shown_status import shown_statuses, status_summary
from models.figures.tables import RollupPeriod, VideoPeriodStats
from models.listing import page_count
from models.money.restatements import Restatement
from models.money.settlement import VideoDailySettlement
from models.sql_dialect import Dialect

SETTLEMENT_SORTS = ("period", "video", "views", "ad_views", "video_amount", "ad_amount", "total_amount")


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
    return {"first": period_start(granularity, first), "last": last, "seller_id": seller_id, "video_id": video_id}


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
                              literal_column(period_start_sql(Dialect.of(mysql), granularity, "restatements.day")) == page.c.period_start)
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


def _line(granularity: str, row: Any) -> dict[str, Any]:
    return {"period_start": row.period_start.isoformat(),
            "period_end": period_end(granularity, row.period_start).isoformat(),
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
    start, end = periods_span(granularity, first, last)
    return start, end, [*month_scopes(start, end), TITLES_SCOPE]  # its lines show titles


def settlement_table_key(seller_id: int | None, granularity: str, first: date, last: date, video_id: int | None,
                         sort: str, descending: bool, page: int, per_page: int) -> tuple[list[str], str]:
    """The cache scopes and key of a `settlement_table` value (the API's read fast path fetches
    it together with the whole answer)."""
    return (settlement_span(granularity, first, last)[2],
            cache_key("settlements", seller_id, granularity, first, last, video_id, sort, descending, page, per_page))


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
        table_periods = [{"period_start": start.isoformat(), "period_end": period_end(granularity, start).isoformat(),
                          **{n: int(sums[n]) for n in names}} for start, sums in sorted(summed, key=lambda p: p[0])]
        totals = {n: sum(p[n] for p in table_periods) for n in names}
        return {"rows": lines, "periods": table_periods, "totals": totals,
                "total_rows": count, "pages": page_count(count, per_page)}

    body = get_or_compute_in(cache, scopes, key, compute)
    statuses = shown_statuses(session, cache, seller_id, start, end, tz, video_id=video_id)
    return {"granularity": granularity, "first": first.isoformat(), "last": last.isoformat(), "sort": sort,
            "descending": descending, "page": page, "per_page": per_page,
            "status": status_summary([DataStatus(s) for s in statuses.values()]), **body}
