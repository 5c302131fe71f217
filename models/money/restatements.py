"""Restatements (§9): the old and new figures of a video-day a re-run changed after it was final.

A computed day is what a seller was shown; when a later run of the same day (late
events, a plan created with an earlier effective date, a backfill) changes it, the seller
must see that it changed, from what to what, when and why. The batch records this in
the same transaction that rewrites the rows (`snapshot` before, `record` after), so a
restatement exists exactly when the figures it describes were committed.

The SQL is set-based: a partition copies the rows it may rewrite (its videos, the day
and, for running totals and `lifetime` re-pricing, the later days) into a temporary
table, and one INSERT … SELECT per direction stores every difference.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Connection, Date, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TABLE_ARGS, Base, BigId, UTCDateTime, utcnow
from models.money import adjustments

_OLD = "tmp_restate_old"
FIGURES = ("views", "watch_seconds", "ad_views", "video_amount", "ad_amount", "total_amount")


class RestatementReason(enum.StrEnum):
    EVENTS_CHANGED = "events_changed"  # the day's own counted figures changed (late or removed events)
    PRICE_PLAN = "price_plan"  # same figures, priced with another plan
    EARLIER_DAY = "earlier_day"  # a `lifetime`-basis day re-priced because an earlier day changed


REASON_TEXT = {
    RestatementReason.EVENTS_CHANGED: "the day's events changed",
    RestatementReason.PRICE_PLAN: "re-priced with another price plan",
    RestatementReason.EARLIER_DAY: "an earlier day changed the running total it is priced from",
}


class Restatement(Base):
    """One changed video-day: what it was, what it is now, which run changed it and why."""

    __tablename__ = "restatements"
    __table_args__ = (Index(None, "seller_id", "day"), Index(None, "video_id", "day"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    video_id: Mapped[int] = mapped_column(BigId)
    seller_id: Mapped[int] = mapped_column(BigId)
    run_id: Mapped[int | None] = mapped_column(BigId)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(20))
    was_views: Mapped[int] = mapped_column(BigInteger)
    was_watch_seconds: Mapped[int] = mapped_column(BigInteger)
    was_ad_views: Mapped[int] = mapped_column(BigInteger)
    was_video_amount: Mapped[int] = mapped_column(BigInteger)
    was_ad_amount: Mapped[int] = mapped_column(BigInteger)
    was_total_amount: Mapped[int] = mapped_column(BigInteger)
    now_views: Mapped[int] = mapped_column(BigInteger)
    now_watch_seconds: Mapped[int] = mapped_column(BigInteger)
    now_ad_views: Mapped[int] = mapped_column(BigInteger)
    now_video_amount: Mapped[int] = mapped_column(BigInteger)
    now_ad_amount: Mapped[int] = mapped_column(BigInteger)
    now_total_amount: Mapped[int] = mapped_column(BigInteger)


def _mysql(conn: Connection) -> bool:
    return conn.dialect.name in ("mysql", "mariadb")


def snapshot(conn: Connection, day: date, lo: int, hi: int) -> bool:
    """Copy the rows of videos `lo`…`hi` from `day` on that a partition may rewrite.

    Returns False (and copies nothing) when the day was never computed for these videos
    and nothing later exists: the usual first nightly run costs one indexed probe.
    """
    params = {"day": day, "lo": lo, "hi": hi}
    drop = f"DROP TEMPORARY TABLE IF EXISTS {_OLD}" if _mysql(conn) else f"DROP TABLE IF EXISTS temp.{_OLD}"
    conn.execute(text(drop))
    exists = conn.execute(text(
        "SELECT 1 FROM video_daily_stats WHERE day >= :day AND video_id BETWEEN :lo AND :hi LIMIT 1"), params).first()
    if exists is None:
        return False
    engine = " ENGINE=MEMORY" if _mysql(conn) else ""
    temp = "TEMPORARY" if _mysql(conn) else "TEMP"
    conn.execute(text(
        f"CREATE {temp} TABLE {_OLD} (day DATE NOT NULL, video_id BIGINT NOT NULL, seller_id BIGINT NOT NULL, "
        "plan_id BIGINT NULL, views BIGINT NOT NULL, watch_seconds BIGINT NOT NULL, ad_views BIGINT NOT NULL, "
        "video_amount BIGINT NOT NULL, ad_amount BIGINT NOT NULL, total_amount BIGINT NOT NULL, "
        f"PRIMARY KEY (day, video_id)){engine}"))
    conn.execute(text(f"""
        INSERT INTO {_OLD} (day, video_id, seller_id, plan_id, views, watch_seconds, ad_views,
                            video_amount, ad_amount, total_amount)
        SELECT s.day, s.video_id, s.seller_id, m.plan_id, s.views, s.watch_seconds, s.ad_views,
               COALESCE(m.video_amount, 0), COALESCE(m.ad_amount, 0), COALESCE(m.total_amount, 0)
        FROM video_daily_stats s
        LEFT JOIN video_daily_settlements m ON m.day = s.day AND m.video_id = s.video_id
        WHERE s.day >= :day AND s.video_id BETWEEN :lo AND :hi"""), params)
    return True


def record(conn: Connection, day: date, lo: int, hi: int, run_id: int | None, day_was_final: bool,
           snapshotted: bool) -> int:
    """Store a restatement for every video-day of the snapshot whose figures now differ, and for
    video-days of `day` that appeared although the day was already final. Returns how many."""
    params = {"day": day, "lo": lo, "hi": hi, "run_id": run_id, "now": utcnow(),
              "events": RestatementReason.EVENTS_CHANGED.value, "plan": RestatementReason.PRICE_PLAN.value,
              "earlier": RestatementReason.EARLIER_DAY.value}
    columns = ("day, video_id, seller_id, run_id, recorded_at, reason, "
               + ", ".join(f"was_{c}" for c in FIGURES) + ", " + ", ".join(f"now_{c}" for c in FIGURES))
    written = 0
    if snapshotted:
        differs = " OR ".join(f"o.{c} <> COALESCE(n.{c}, 0)" for c in FIGURES)
        now_values = ", ".join(f"COALESCE(n.{c}, 0)" for c in FIGURES)
        # Rows that were there before: changed, or gone (a row without events is zero, §8).
        written += conn.execute(text(f"""
            INSERT INTO restatements ({columns})
            SELECT o.day, o.video_id, o.seller_id, :run_id, :now,
                   CASE WHEN o.views <> COALESCE(n.views, 0) OR o.watch_seconds <> COALESCE(n.watch_seconds, 0)
                             OR o.ad_views <> COALESCE(n.ad_views, 0) THEN :events
                        WHEN o.day = :day THEN :plan ELSE :earlier END,
                   {", ".join(f"o.{c}" for c in FIGURES)}, {now_values}
            FROM {_OLD} o
            LEFT JOIN (
                SELECT s.day, s.video_id, s.views, s.watch_seconds, s.ad_views,
                       COALESCE(m.video_amount, 0) AS video_amount, COALESCE(m.ad_amount, 0) AS ad_amount,
                       COALESCE(m.total_amount, 0) AS total_amount
                FROM video_daily_stats s
                LEFT JOIN video_daily_settlements m ON m.day = s.day AND m.video_id = s.video_id
                WHERE s.day >= :day AND s.video_id BETWEEN :lo AND :hi
            ) n ON n.day = o.day AND n.video_id = o.video_id
            WHERE {differs}"""), params).rowcount
    if day_was_final:
        # Video-days of a final day that had no row before (late events of a video unseen that day).
        missing = f"NOT EXISTS (SELECT 1 FROM {_OLD} o WHERE o.day = s.day AND o.video_id = s.video_id)" \
            if snapshotted else "1 = 1"
        written += conn.execute(text(f"""
            INSERT INTO restatements ({columns})
            SELECT s.day, s.video_id, s.seller_id, :run_id, :now, :events, 0, 0, 0, 0, 0, 0,
                   s.views, s.watch_seconds, s.ad_views, COALESCE(m.video_amount, 0), COALESCE(m.ad_amount, 0),
                   COALESCE(m.total_amount, 0)
            FROM video_daily_stats s
            LEFT JOIN video_daily_settlements m ON m.day = s.day AND m.video_id = s.video_id
            WHERE s.day = :day AND s.video_id BETWEEN :lo AND :hi AND {missing}"""), params).rowcount
    if snapshotted:
        drop = f"DROP TEMPORARY TABLE IF EXISTS {_OLD}" if _mysql(conn) else f"DROP TABLE IF EXISTS temp.{_OLD}"
        conn.execute(text(drop))
    if written:
        # §13: what this call restated in a final month goes to the next open statement, now.
        adjustments.carry(conn, "r.recorded_at = :now AND r.video_id BETWEEN :lo AND :hi AND r.day >= :day "
                                "AND (r.run_id = :run_id OR (r.run_id IS NULL AND :run_id IS NULL))", params)
    return written


def day_was_final(conn: Connection, day: date) -> bool:
    """Whether a run of `day` had already succeeded: its figures were published as final."""
    return conn.execute(text("SELECT 1 FROM batch_runs WHERE day = :day AND state = 'succeeded' LIMIT 1"),
                        {"day": day}).first() is not None
