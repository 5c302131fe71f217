"""What the operations console and monitoring ask about the batch (issue 12).

- `nightly_health`: did yesterday's run succeed by the configured time? One rule for
  `GET /healthz/batch` (monitoring pages someone) and the data-status calendar (which
  shows a missing nightly run loudly).
- `month_calendar`: every business day of a month as final, stale (with how many raw
  events changed since its run started), pending, live or failed. Staleness itself is
  decided by `models.figures.data_status.day_statuses`, the one home of that rule.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from models.batch.backfill_progress import BackfillProgress, active_backfills
from models.batch.tables import BatchRun, RunState, RunTrigger
from models.business_time import today
from models.figures.data_status import DataStatus, day_statuses
from models.listing import Paged
from models.playback.tables import PlaySession


class CalendarStatus(enum.StrEnum):
    FINAL = "final"
    STALE = "stale"
    PENDING = "pending"
    LIVE = "live"
    FAILED = "failed"


@dataclass(frozen=True)
class NightlyHealth:
    """Whether monitoring should page someone about yesterday's batch."""

    day: date
    ok: bool
    reason: str  # machine-readable: succeeded, not_due, missing, failed, running, queued
    message: str
    deadline: datetime  # when yesterday's run must have succeeded (aware, business time)
    run_id: int | None = None
    run_state: RunState | None = None

    def as_dict(self) -> dict:
        return {"ok": self.ok, "day": self.day.isoformat(), "reason": self.reason, "message": self.message,
                "deadline": self.deadline.isoformat(), "run_id": self.run_id,
                "run_state": self.run_state.value if self.run_state else None}


def _latest_runs(session: Session, first: date, last: date) -> dict[date, tuple[int, RunState, RunTrigger]]:
    """The most recently created run of each day in the range."""
    rows = session.execute(
        select(BatchRun.day, BatchRun.id, BatchRun.state, BatchRun.trigger)
        .where(BatchRun.day.between(first, last)).order_by(BatchRun.day, BatchRun.id)
    ).all()
    return {day: (run_id, state, trigger) for day, run_id, state, trigger in rows}


def nightly_health(session: Session, tz: ZoneInfo, deadline_hhmm: str, now: datetime | None = None) -> NightlyHealth:
    """Yesterday (business time) must have a succeeded run by `deadline_hhmm` today.

    Any succeeded run of the day counts, the nightly one or an admin's re-run that fixed it:
    what monitoring cares about is whether yesterday's figures exist.
    """
    now = now or datetime.now(UTC)
    current = today(tz, now)
    day = current - timedelta(days=1)
    hour, minute = (int(part) for part in deadline_hhmm.split(":"))
    deadline = datetime.combine(current, time(hour, minute), tzinfo=tz)
    succeeded = session.scalar(
        select(func.max(BatchRun.id)).where(BatchRun.day == day, BatchRun.state == RunState.SUCCEEDED))
    latest = _latest_runs(session, day, day).get(day)
    run_id, state = (latest[0], latest[1]) if latest else (None, None)
    if succeeded is not None:
        return NightlyHealth(day, True, "succeeded", f"{day.isoformat()} was computed (run {succeeded}).",
                             deadline, succeeded, RunState.SUCCEEDED)
    if now < deadline:
        return NightlyHealth(day, True, "not_due", f"{day.isoformat()} is due by {deadline_hhmm} business time.",
                             deadline, run_id, state)
    if latest is None:
        return NightlyHealth(day, False, "missing", f"No batch run of {day.isoformat()} exists; "
                             f"the nightly run did not start. Run the day from the job-runs page.", deadline)
    assert state is not None
    if state == RunState.FAILED:
        message = f"The latest run of {day.isoformat()} (run {run_id}) failed; retry its failed partitions."
    else:
        message = f"The run of {day.isoformat()} (run {run_id}) is still {state.value} after {deadline_hhmm}."
    return NightlyHealth(day, False, state.value, message, deadline, run_id, state)


@dataclass(frozen=True)
class CalendarDay:
    day: date
    status: CalendarStatus
    run_id: int | None = None  # the latest run of the day (any state)
    run_state: RunState | None = None
    changed_events: int = 0  # raw events changed since the succeeded run started (stale days)
    plan_changed: bool = False  # stale because a later-created price plan is in force on it
    computed_at: datetime | None = None


def changed_event_counts(session: Session, since: dict[date, datetime]) -> dict[date, int]:
    """Per day, how many play sessions (with their ad views) changed at or after `since[day]`."""
    if not since:
        return {}
    condition = or_(*(and_(PlaySession.day == day, PlaySession.updated_at >= moment) for day, moment in since.items()))
    rows = session.execute(select(PlaySession.day, func.count()).where(condition).group_by(PlaySession.day)).all()
    return {day: int(count) for day, count in rows}


def calendar(session: Session, first: date, last: date, tz: ZoneInfo,
             now: datetime | None = None) -> list[CalendarDay]:
    """The status of every day from `first` to `last` for the operator (a handful of queries)."""
    statuses = day_statuses(session, first, last, tz, now)
    latest = _latest_runs(session, first, last)
    starts = dict(session.execute(
        select(BatchRun.id, BatchRun.started_at).where(BatchRun.id.in_([s.run_id for s in statuses.values()
                                                                        if s.status == DataStatus.STALE]))
    ).all()) if any(s.status == DataStatus.STALE for s in statuses.values()) else {}
    counts = changed_event_counts(
        session, {s.day: starts[s.run_id] for s in statuses.values() if s.run_id in starts and starts[s.run_id]})
    result = []
    for day, status in statuses.items():
        run_id, run_state, _ = latest.get(day, (None, None, None))
        kind = CalendarStatus(status.status.value)
        if run_state == RunState.FAILED and kind != CalendarStatus.LIVE:
            kind = CalendarStatus.FAILED
        result.append(CalendarDay(day, kind, run_id, run_state, counts.get(day, 0), status.plan_changed,
                                  status.computed_at))
    return result


@dataclass
class RunHistory(Paged):
    """Runs grouped by business day, newest day first, a page of days at a time."""

    days: list[tuple[date, list[BatchRun]]]
    total: int
    page: int
    per_page: int
    # Backfills still going, shown above the days with their progress (issue 21, item 13).
    backfills: list[BackfillProgress] = field(default_factory=list)

    @property
    def active(self) -> bool:
        """Whether a shown run or a backfill is still queued or running (the page keeps polling while so)."""
        return bool(self.backfills) or any(
            run.state in (RunState.QUEUED, RunState.RUNNING) for _, runs in self.days for run in runs)


def run_history(session: Session, page: int = 1, per_page: int = 10) -> RunHistory:
    """The runs (with their partitions) of `per_page` business days per page."""
    total = session.scalar(select(func.count(func.distinct(BatchRun.day)))) or 0
    days = session.scalars(
        select(BatchRun.day).group_by(BatchRun.day).order_by(BatchRun.day.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    runs = session.scalars(
        select(BatchRun).where(BatchRun.day.in_(days)).order_by(BatchRun.day.desc(), BatchRun.id.desc())
        .options(selectinload(BatchRun.partitions))
    ).all() if days else []
    grouped: dict[date, list[BatchRun]] = {day: [] for day in days}
    for run in runs:
        grouped[run.day].append(run)
    return RunHistory(list(grouped.items()), int(total), page, per_page, active_backfills(session))


def run_detail(session: Session, run_id: int) -> BatchRun | None:
    return session.scalar(select(BatchRun).where(BatchRun.id == run_id).options(selectinload(BatchRun.partitions)))


@dataclass(frozen=True)
class BatchFigures:
    """Batch outcomes and durations for /metrics, read from the run bookkeeping: correct
    however many worker hosts ran the jobs, since every step records itself in the database."""

    runs: dict[tuple[str, str], int]  # (trigger, state) -> runs
    run_seconds: dict[str, tuple[int, float]]  # state -> (count, total seconds) of finished runs
    partitions: dict[str, int]  # state -> partitions
    partition_seconds: dict[str, tuple[int, float]]  # state -> (count, total seconds) of finished partitions
    last_nightly_success: datetime | None


def _seconds(session: Session, model, group):  # type: ignore[no-untyped-def]
    """(count, total seconds) of the finished rows of `model` per `group` value, in Python so it
    is the same on MariaDB and SQLite (a few thousand rows a year)."""
    totals: dict[str, tuple[int, float]] = {}
    rows = session.execute(select(group, model.started_at, model.finished_at)
                           .where(model.started_at.is_not(None), model.finished_at.is_not(None))).all()
    for key, started, finished in rows:
        count, total = totals.get(key.value, (0, 0.0))
        totals[key.value] = (count + 1, total + max(0.0, (finished - started).total_seconds()))
    return totals


def batch_figures(session: Session) -> BatchFigures:
    from models.batch.tables import BatchPartition

    runs = {(trigger.value, state.value): int(n) for trigger, state, n in session.execute(
        select(BatchRun.trigger, BatchRun.state, func.count()).group_by(BatchRun.trigger, BatchRun.state))}
    partitions = {state.value: int(n) for state, n in session.execute(
        select(BatchPartition.state, func.count()).group_by(BatchPartition.state))}
    last = session.scalar(select(func.max(BatchRun.finished_at)).where(
        BatchRun.trigger == RunTrigger.NIGHTLY, BatchRun.state == RunState.SUCCEEDED))
    return BatchFigures(runs, _seconds(session, BatchRun, BatchRun.state), partitions,
                        _seconds(session, BatchPartition, BatchPartition.state), last)


@dataclass(frozen=True)
class AdImpressions:
    """One ad's impressions per business day: every recorded ad view, and those inside counted
    play sessions (the ones a seller's ad revenue is computed from, §6)."""

    ad_id: int
    title: str
    is_active: bool
    by_day: dict[date, tuple[int, int]]  # day -> (impressions, counted)

    @property
    def total(self) -> tuple[int, int]:
        return sum(v[0] for v in self.by_day.values()), sum(v[1] for v in self.by_day.values())


MAX_IMPRESSION_DAYS = 93


def ad_impressions(session: Session, first: date, last: date) -> list[AdImpressions]:
    """Impressions per ad per day from the ad views (one grouped query), every ad listed."""
    from sqlalchemy import case

    from models.catalog.tables import Ad
    from models.playback.tables import AdView

    rows = session.execute(
        select(AdView.ad_id, AdView.day, func.count(), func.sum(case((AdView.counted.is_(True), 1), else_=0)))
        .where(AdView.day.between(first, last)).group_by(AdView.ad_id, AdView.day)
    ).all()
    by_ad: dict[int, dict[date, tuple[int, int]]] = {}
    for ad_id, day, count, counted in rows:
        by_ad.setdefault(ad_id, {})[day] = (int(count), int(counted or 0))
    ads = session.execute(select(Ad.id, Ad.title, Ad.is_active).order_by(Ad.id)).all()
    return [AdImpressions(ad_id, title, active, by_ad.get(ad_id, {})) for ad_id, title, active in ads]
