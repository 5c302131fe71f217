"""The pipeline's output against an independent recomputation, on MariaDB and on SQLite:
§9 money vectors, random events (hypothesis), idempotency, late events and the cascade."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from jobs.inline import run_days_inline
from jobs.pipeline import Plan, insert_settlements
from models import BatchRun, RunState, RunTrigger, VideoDailySettlement, VideoDailyStats
from models import PricePlan as PricePlanTable
from models.figures.data_status import DataStatus, day_status
from models.money.pricing import amount
from models.money.settlement import PriceTier, PricingBasis
from tests.batch_support import (
    DAY0,
    DEFAULT_TIERS,
    World,
    add_plan,
    add_sessions,
    add_users_and_videos,
    busy_world,
    plan_ids,
    reference,
    snapshot,
)

VideoDailyStatsInsert = insert(VideoDailyStats).values(
    watch_seconds=0, rejected_own_video=0, rejected_repeat=0, cum_watch_seconds=0)
select_settlements = select(VideoDailySettlement).where(VideoDailySettlement.day == text(":day"))
VECTORS = [(99_999, 99_999, 999_990), (100_000, 100_000, 1_000_000), (100_009, 100_009, 1_000_108),
           (150_000, 155_000, 1_600_000), (1_200_000, 1_490_000, 17_300_000)]


BACKENDS = ["mariadb", "sqlite"]  # the shared `backend` fixture (tests/conftest.py) runs each


def _tiers() -> list[PriceTier]:
    return [PriceTier(from_unit=lo, to_unit=hi, view_rate_e4=v, ad_rate_e4=a) for lo, hi, v, a in DEFAULT_TIERS]


@pytest.mark.parametrize(("units", "video_amount", "ad_amount"), VECTORS)
def test_python_bracket_arithmetic_matches_the_spec_vectors(units, video_amount, ad_amount):
    assert amount(_tiers(), units) == video_amount
    assert amount(_tiers(), units, ad=True) == ad_amount


def test_python_lifetime_vector():
    assert amount(_tiers(), 600_000, before=550_000) == 810_000


def test_sql_settlement_matches_the_spec_vectors(backend):
    """The SQL that prices partitions, fed the §9 vectors as daily rows (both bases)."""
    backend.reset()
    world = World()
    videos, _ = add_users_and_videos(backend.engine, world, 1, len(VECTORS) + 1)
    day = date(2026, 5, 4)
    with backend.engine.begin() as conn:
        for vid, (units, _, _) in zip(videos, VECTORS, strict=False):
            conn.execute(VideoDailyStatsInsert, dict(day=day, video_id=vid, seller_id=world.sellers[vid], views=units,
                                                     ad_views=units, cum_views=units, cum_ad_views=units))
        # Lifetime vector: 550,000 views before the day, 600,000 on it.
        conn.execute(VideoDailyStatsInsert, dict(day=day, video_id=videos[-1], seller_id=world.sellers[videos[-1]],
                                                 views=600_000, ad_views=0, cum_views=1_150_000, cum_ad_views=0))
        daily = Plan(1, PricingBasis.DAILY, date(2000, 1, 1))
        assert insert_settlements(conn, daily, "s.day = :day AND s.video_id <> :last",
                                  {"day": day, "last": videos[-1]}) == len(VECTORS)
        lifetime = Plan(1, PricingBasis.LIFETIME, date(2000, 1, 1))
        assert insert_settlements(conn, lifetime, "s.day = :day AND s.video_id = :last",
                                  {"day": day, "last": videos[-1]}) == 1
        rows = conn.execute(select_settlements, {"day": day}).all()
    got = {r.video_id: (r.video_amount, r.ad_amount, r.total_amount, r.views_before) for r in rows}
    for vid, (_, video_amount, ad_amount) in zip(videos, VECTORS, strict=False):
        assert got[vid] == (video_amount, ad_amount, video_amount + ad_amount, 0)
    assert got[videos[-1]] == (810_000, 0, 810_000, 550_000)


# ------------------------------------------------------------------ random events (hypothesis)

session_rows = st.lists(
    st.tuples(
        st.integers(0, 3),  # video index
        st.integers(0, 5),  # day offset
        st.integers(0, 86_399),  # second of the day
        st.integers(0, 3_000_000),  # watch ms
        st.sampled_from([None, None, None, "own_video", "repeat_within_30s"]),
        st.integers(0, 3),  # ad views in the session
    ),
    min_size=0,
    max_size=40,
)
tier_sets = st.sampled_from([
    [(1, 2, 10_000, 100_000), (3, 5, 11_000, 120_000), (6, None, 13_333, 150_001)],
    [(1, 1, 9_999, 1), (2, None, 15_000, 200_000)],
    [(1, None, 12_345, 67_891)],
])


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=session_rows, tiers=tier_sets, basis=st.sampled_from(["daily", "lifetime"]),
       plan_from=st.integers(0, 6), order_seed=st.integers(0, 10_000))
def test_pipeline_equals_a_straightforward_recomputation(backend, rows, tiers, basis, plan_from, order_seed):
    """Random events, a random second price plan from a random day on, days run in a random
    order (some twice): every stats row, amount, rollup and Top-5 equals the reference."""
    backend.reset()
    world = World()
    videos, viewer = add_users_and_videos(backend.engine, world, 2, 4)
    add_plan(backend.engine, world, DAY0 + timedelta(days=plan_from), basis, tiers)
    sessions = [dict(video_id=videos[v], viewer_id=viewer, day=DAY0 + timedelta(days=d), second=s, watch_ms=w,
                     reason=r) for v, d, s, w, r, _ in rows]
    add_sessions(backend.engine, world, sessions, [a for *_, a in rows])
    days = [DAY0 + timedelta(days=i) for i in range(6)]
    order = random.Random(order_seed)
    run_order = days + order.sample(days, 2)
    order.shuffle(run_order)
    for day in run_order:
        [result] = run_days_inline(backend.settings, [day], use_cache=False)
        assert result.state == RunState.SUCCEEDED
    assert snapshot(backend.engine) == reference(world, set(days), plan_ids(backend.engine))


# ------------------------------------------------------------------ idempotency, late events

def test_running_a_day_twice_gives_identical_tables(backend):
    backend.reset()
    world = busy_world(backend)
    days = [DAY0 + timedelta(days=i) for i in range(4)]
    run_days_inline(backend.settings, days, RunTrigger.BACKFILL, use_cache=False)
    first = snapshot(backend.engine)
    assert first == reference(world, set(days), plan_ids(backend.engine))
    [again] = run_days_inline(backend.settings, [days[1]], use_cache=False)
    assert again.state == RunState.SUCCEEDED and again.rows_written > 0
    assert snapshot(backend.engine) == first


def test_late_event_marks_the_day_stale_and_a_rerun_updates_later_days(backend):
    backend.reset()
    world = busy_world(backend, lifetime=True)
    days = [DAY0 + timedelta(days=i) for i in range(4)]
    run_days_inline(backend.settings, days, RunTrigger.BACKFILL, use_cache=False)
    now = datetime.now(UTC)
    with backend.engine.connect() as conn:
        session = Session(bind=conn)
        assert day_status(session, days[1], backend.settings.tz, now=now).status == DataStatus.FINAL
    before = snapshot(backend.engine)

    # A late counted view with two ad views arrives for day 1 of a video that also has later rows.
    video = next(s["video_id"] for s in world.sessions if s["day"] == days[3])
    late = dict(video_id=video, viewer_id=world.sessions[0]["viewer_id"], day=days[1], second=100,
                watch_ms=700_000, reason=None, updated_at=datetime.now(UTC))
    add_sessions(backend.engine, world, [late], [2])
    with backend.engine.connect() as conn:
        session = Session(bind=conn)
        assert day_status(session, days[1], backend.settings.tz, now=now).status == DataStatus.STALE
        assert day_status(session, days[2], backend.settings.tz, now=now).status == DataStatus.FINAL
    assert snapshot(backend.engine) == before  # nothing changes until the day is re-run

    [rerun] = run_days_inline(backend.settings, [days[1]], use_cache=False)
    assert rerun.state == RunState.SUCCEEDED
    after = snapshot(backend.engine)
    assert after == reference(world, set(days), plan_ids(backend.engine))
    later = [r for r in after["stats"] if r[1] == video and r[0] > days[1]]
    earlier = {(r[0], r[1]): r for r in before["stats"]}
    assert later and all(r[8] == earlier[(r[0], r[1])][8] + 1 for r in later)  # cum_views moved by one
    with backend.engine.connect() as conn:
        assert day_status(Session(bind=conn), days[1], backend.settings.tz).status == DataStatus.FINAL


def test_a_day_without_a_price_plan_fails_clearly_and_writes_nothing(backend):
    backend.reset()
    busy_world(backend, days=1)
    with backend.engine.begin() as conn:
        conn.execute(update(PricePlanTable).values(effective_from=date(2030, 1, 1)))
    try:
        [result] = run_days_inline(backend.settings, [DAY0], use_cache=False)
        assert result.state == RunState.FAILED
        with backend.engine.connect() as conn:
            run = conn.execute(select(BatchRun.state, BatchRun.error)).one()
            errors = conn.execute(text("SELECT error FROM batch_partitions")).scalars().all()
        assert run.state == RunState.FAILED and "did not succeed" in run.error
        assert errors and all("no price plan is in force on 2026-03-02" in e for e in errors)
        assert snapshot(backend.engine)["stats"] == []
    finally:
        with backend.engine.begin() as conn:
            conn.execute(update(PricePlanTable).values(effective_from=date(2000, 1, 1)))
