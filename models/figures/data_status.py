"""How trustworthy a day's figures are (§10): live, final, stale, or pending.

- `live`: today (business time); figures are estimates computed from the raw events.
- `final`: a succeeded batch run started after the last change of the day's raw events.
- `stale`: raw events of the day changed after the latest succeeded run started, or the
  price plan in force on the day was created after that run started (§9: re-run to re-price).
- `pending`: a closed day no batch run has finished yet (never ran, or only failed
  runs), and days still in the future. The portal shows raw estimates or nothing.

That is the platform's status of a day: the batch health check and statement finalization
("every day of the month is final") read it. What a seller is shown is derived from it by
`seller_day_statuses` (one more status, `no_data`, and no future days).

Every change of a session or of its ad views bumps `play_sessions.updated_at`, so one
indexed MAX per day tells whether the batch saw the latest data.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.batch.tables import BatchRun, RunState
from models.business_time import business_day, days_between, today
from models.catalog.tables import Video
from models.money.pricing import in_force_on
from models.money.settlement import PricePlan
from models.playback.tables import PlaySession


class DataStatus(enum.StrEnum):
    LIVE = "live"
    FINAL = "final"
    STALE = "stale"
    PENDING = "pending"
    # Shown to sellers only (`seller_day_statuses`); `day_statuses` never says it.
    NO_DATA = "no_data"


@dataclass(frozen=True)
class DayStatus:
    day: date
    status: DataStatus
    run_id: int | None = None
    computed_at: datetime | None = None  # when the latest succeeded run finished
    last_change: datetime | None = None  # latest change of the day's raw events
    # Stale because the price plan now in force for the day was created after its run started.
    plan_changed: bool = False


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def day_statuses(session: Session, first: date, last: date, tz: ZoneInfo,
                 now: datetime | None = None) -> dict[date, DayStatus]:
    """The status of every day from `first` to `last` (two grouped queries, any range length)."""
    current = today(tz, now)
    changes = dict(session.execute(
        select(PlaySession.day, func.max(PlaySession.updated_at))
        .where(PlaySession.day.between(first, last)).group_by(PlaySession.day)
    ).all())
    runs: dict[date, tuple[int, datetime, datetime | None]] = {}
    rows = session.execute(
        select(BatchRun.day, BatchRun.id, BatchRun.started_at, BatchRun.finished_at)
        .where(BatchRun.day.between(first, last), BatchRun.state == RunState.SUCCEEDED)
        .order_by(BatchRun.day, BatchRun.started_at, BatchRun.id)
    ).all()
    for day, run_id, started, finished in rows:
        runs[day] = (run_id, started, finished)  # the latest started wins
    # A plan created after a day's run started, and in force on that day, re-prices it (§9).
    plans = session.execute(
        select(PricePlan.effective_from, PricePlan.created_at).where(PricePlan.effective_from <= last)
        .order_by(PricePlan.effective_from)
    ).all()
    result: dict[date, DayStatus] = {}
    for day in days_between(first, last):
        change = _aware(changes.get(day))
        if day == current:
            result[day] = DayStatus(day, DataStatus.LIVE, last_change=change)
            continue
        if day > current or day not in runs:
            result[day] = DayStatus(day, DataStatus.PENDING, last_change=change)
            continue
        run_id, started, finished = runs[day]
        plan = in_force_on(plans, day)
        repriced = plan is not None and _aware(plan.created_at) >= _aware(started)
        stale = (change is not None and change >= _aware(started)) or repriced
        result[day] = DayStatus(day, DataStatus.STALE if stale else DataStatus.FINAL, run_id, _aware(finished), change,
                                plan_changed=repriced)
    return result


def day_status(session: Session, day: date, tz: ZoneInfo, now: datetime | None = None) -> DayStatus:
    return day_statuses(session, day, day, tz, now)[day]


def seller_day_statuses(session: Session, seller_id: int | None, first: date, last: date, tz: ZoneInfo,
                        now: datetime | None = None, *, video_id: int | None = None,
                        platform: Mapping[date, str] | None = None) -> dict[date, DataStatus]:
    """What a seller (None: the platform, for admins; `video_id`: one video) is shown for each day
    from `first` to `last` (issue 21, item 6): the platform's status, except

    - days after today are left out: nothing can be known of them yet;
    - `no_data` for days before the first video (the seller's, the video's) was uploaded,
      and for closed days the batch has not computed that have none of its events: there
      is nothing to compute, so nothing is pending for it.

    `pending` is thus only a closed day the batch has not computed although it has events.
    `platform` (the days' `day_statuses` values, e.g. from the portal's memo) saves asking them again."""
    current = today(tz, now)
    last = min(last, current)
    if last < first:
        return {}
    if platform is None:
        platform = {d: s.status.value for d, s in day_statuses(session, first, last, tz, now).items()}
    videos = select(Video.id)
    if seller_id is not None:
        videos = videos.where(Video.seller_id == seller_id)
    if video_id is not None:
        videos = videos.where(Video.id == video_id)
    uploaded = _aware(session.scalar(select(func.min(Video.created_at)).where(Video.id.in_(videos.scalar_subquery()))))
    since = business_day(uploaded, tz) if uploaded is not None else current + timedelta(days=1)
    result = {d: DataStatus.NO_DATA if d < since else DataStatus(platform[d]) for d in days_between(first, last)}
    pending = [d for d, status in result.items() if status == DataStatus.PENDING]
    if pending:
        # Only the uncomputed days are asked, on the batch's (day, video_id) index.
        with_events = set(session.scalars(select(PlaySession.day).distinct().where(
            PlaySession.day.in_(pending), PlaySession.video_id.in_(videos.scalar_subquery()))))
        for day in pending:
            if day not in with_events:
                result[day] = DataStatus.NO_DATA
    return result
