"""The content table (issue 22, item 3): every video of a seller with its views, watch time,
average view duration, ad views, revenue and RPM over a period, sorted and paged in SQL.

One set-based statement over the batch tables (`video_daily_stats`, `video_daily_settlement`,
summed per video on their (seller_id, day) indexes), so it covers closed days only: a period
that reaches today stops at yesterday (`closed_last`) and says so; today's views are on the
last-48-hours page, live. A page is read through the figure cache under the months it covers
and the titles scope; its key also carries the seller's video count and newest video id, so an
upload shows up at once although no batch has run since.

Deleted videos stay listed when they have figures in the period (figures describe what was
watched, §8); without figures only the videos still in the catalog are listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Literal, get_args

from sqlalchemy import TextClause, func, select, text
from sqlalchemy.orm import Session

from models.catalog.tables import Video
from models.errors import DomainError
from models.figures.cache import TITLES_SCOPE, FigureCache, get_or_compute_in, month_scopes
from models.figures.per_view import average_view_seconds, average_view_seconds_sql, rpm, rpm_sql
from models.figures.tables import VideoDailyStats
from models.listing import page_count
from models.money.settlement import VideoDailySettlement
from models.sql_dialect import Dialect

Sort = Literal["title", "views", "watch_seconds", "average_view_seconds", "ad_views", "revenue", "rpm"]
SORTS: tuple[str, ...] = get_args(Sort)
COLUMNS = ("video_id", "title", "views", "watch_seconds", "average_view_seconds", "ad_views", "revenue", "rpm")
MAX_PER_PAGE = 500


def closed_last(last: date, today: date) -> date:
    """The last day the table covers: `last`, or yesterday when the period reaches today."""
    return min(last, today - timedelta(days=1))


@lru_cache(maxsize=64)
def _rows_sql(mysql: bool, by_seller: bool, sort: str, descending: bool, paged: bool) -> TextClause:
    """The per-video lines of a period, in the asked order (ties: lower video id first)."""
    d = Dialect.of(mysql)
    seller = " AND seller_id = :seller_id" if by_seller else ""
    order = {"title": "v.title"}.get(sort, sort)
    direction = " DESC" if descending else ""
    return text(f"""
        SELECT v.id AS video_id, v.title,
               COALESCE(s.views, 0) AS views, COALESCE(s.watch_seconds, 0) AS watch_seconds,
               {average_view_seconds_sql(d, 'COALESCE(s.watch_seconds, 0)', 'COALESCE(s.views, 0)')}
                   AS average_view_seconds,
               COALESCE(s.ad_views, 0) AS ad_views, COALESCE(m.revenue, 0) AS revenue,
               {rpm_sql(d, 'COALESCE(m.revenue, 0)', 'COALESCE(s.views, 0)')} AS rpm
        FROM {Video.__tablename__} v
        LEFT JOIN (SELECT video_id, SUM(views) AS views, SUM(watch_seconds) AS watch_seconds,
                          SUM(ad_views) AS ad_views
                   FROM {VideoDailyStats.__tablename__} WHERE day BETWEEN :first AND :last{seller}
                   GROUP BY video_id) s ON s.video_id = v.id
        LEFT JOIN (SELECT video_id, SUM(total_amount) AS revenue
                   FROM {VideoDailySettlement.__tablename__} WHERE day BETWEEN :first AND :last{seller}
                   GROUP BY video_id) m ON m.video_id = v.id
        WHERE (v.deleted_at IS NULL OR s.video_id IS NOT NULL OR m.video_id IS NOT NULL)
              {"AND v.seller_id = :seller_id" if by_seller else ""}
        ORDER BY {order}{direction}, v.id
        {"LIMIT :limit OFFSET :offset" if paged else ""}""")


def _totals_sql(mysql: bool, by_seller: bool) -> TextClause:
    inner = _rows_sql(mysql, by_seller, "views", False, False).text.rsplit("ORDER BY", 1)[0]
    return text(f"""SELECT COUNT(*) AS total_rows, COALESCE(SUM(views), 0) AS views,
                           COALESCE(SUM(watch_seconds), 0) AS watch_seconds,
                           COALESCE(SUM(ad_views), 0) AS ad_views, COALESCE(SUM(revenue), 0) AS revenue
                    FROM ({inner}) t""")


def _line(row: Any) -> dict[str, Any]:
    return {"video_id": int(row.video_id), "title": row.title,
            **{n: int(getattr(row, n)) for n in COLUMNS[2:]}}


def check_sort(sort: str) -> None:
    if sort not in SORTS:
        raise DomainError(f"sort must be one of {', '.join(SORTS)}.", code="bad_sort")


def content_lines(session: Session, seller_id: int | None, first: date, last: date, sort: str = "views",
                  descending: bool = True) -> Iterator[dict[str, Any]]:
    """Every line, in order (the CSV download); `first`..`last` should be closed days."""
    check_sort(sort)
    mysql = Dialect(session.connection()).mysql
    params = {"first": first, "last": last, "seller_id": seller_id}
    for row in session.execute(_rows_sql(mysql, seller_id is not None, sort, descending, False), params):
        yield _line(row)


def _video_fingerprint(session: Session, seller_id: int | None) -> str:
    query = select(func.count(), func.max(Video.id))
    if seller_id is not None:
        query = query.where(Video.seller_id == seller_id)
    count, newest = session.execute(query).one()
    return f"{count}-{newest or 0}"


def content_table(session: Session, cache: FigureCache | None, seller_id: int | None, first: date, last: date,
                  today: date, *, sort: str = "views", descending: bool = True, page: int = 1,
                  per_page: int = 50) -> dict[str, Any]:
    """One page of the table for `first`..`last` (cut at yesterday), with the totals of every
    line and how many lines and pages there are."""
    check_sort(sort)
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise DomainError(f"page must be 1 or more and per_page between 1 and {MAX_PER_PAGE}.")
    end = closed_last(last, today)
    head = {"first": first.isoformat(), "last": last.isoformat(), "closed_last": end.isoformat(), "sort": sort,
            "descending": descending, "page": page, "per_page": per_page}
    if end < first:  # nothing closed yet (this month, on its first day)
        end = first - timedelta(days=1)
    key = ":".join(str(p) for p in ("content", "all" if seller_id is None else seller_id, first, end, sort,
                                    int(descending), page, per_page, _video_fingerprint(session, seller_id)))

    def compute() -> dict[str, Any]:
        mysql = Dialect(session.connection()).mysql
        params = {"first": first, "last": end, "seller_id": seller_id, "limit": per_page,
                  "offset": (page - 1) * per_page}
        rows = [_line(r) for r in session.execute(_rows_sql(mysql, seller_id is not None, sort, descending, True),
                                                  params)]
        t = session.execute(_totals_sql(mysql, seller_id is not None), params).one()
        totals = {n: int(getattr(t, n)) for n in ("views", "watch_seconds", "ad_views", "revenue")}
        totals.update(average_view_seconds=average_view_seconds(totals["watch_seconds"], totals["views"]),
                      rpm=rpm(totals["revenue"], totals["views"]))
        count = int(t.total_rows)
        return {"rows": rows, "totals": totals, "total_rows": count, "pages": page_count(count, per_page)}

    scopes = [*month_scopes(first, end), TITLES_SCOPE] if end >= first else [TITLES_SCOPE]
    return {**head, **get_or_compute_in(cache, scopes, key, compute)}
