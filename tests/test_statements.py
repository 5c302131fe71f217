"""§13 statements on MariaDB with the real batch: estimated → final, refused while a day is not
final, exactly once under parallel callers, immutable, and adjustments from restatements."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from jobs.inline import run_days_inline
from models.business_time import days_between, month_range
from models.money import ledger
from models.money.statements import MonthNotReady, finalize_month, month_state, seller_statement
from tests.batch_support import Backend
from tests.money_support import (
    expected_lines,
    late_session,
    month_world,
    parallel,
    reset,
    run_month,
)

FEB, MAR = date(2026, 2, 1), date(2026, 3, 1)


@pytest.fixture(scope="module")
def backend(redis_url, tmp_path_factory):
    b = Backend("mariadb", redis_url, tmp_path_factory.mktemp("statements"))
    yield b
    b.close()


def _all(backend, sql, **params):
    with backend.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _stored_lines(backend, month):
    return {(s, v): [views, ads, va, aa, total] for s, v, views, ads, va, aa, total in _all(
        backend, "SELECT seller_id, video_id, views, ad_views, video_amount, ad_amount, total FROM statement_lines "
                 "WHERE month = :m", m=month)}


def _days(month):
    return set(days_between(*month_range(month)))


def test_a_month_with_a_day_not_final_is_refused_and_nothing_is_written(backend):
    reset(backend)
    world, sellers = month_world(backend, [FEB])
    run_month(backend, FEB, skip_last=2)
    with pytest.raises(MonthNotReady) as refused:
        finalize_month(backend.engine, "2026-02", backend.settings.tz)
    assert "2026-02-27…2026-02-28 pending" in refused.value.message
    assert _all(backend, "SELECT COUNT(*) FROM statements") == [(0,)]
    assert _all(backend, "SELECT COUNT(*) FROM ledger_entries") == [(0,)]
    with backend.engine.connect() as conn:
        state, reason = month_state(conn, FEB)
        assert state == "open" and "2026-02-27…2026-02-28 pending" in reason
        estimate = seller_statement(conn, sellers[0], FEB, backend.settings.tz)
    assert estimate.status == "estimated"
    assert [d.day for d in estimate.days_not_final] == [date(2026, 2, 27), date(2026, 2, 28)]
    expected = expected_lines(backend, world, _days(FEB) - {date(2026, 2, 27), date(2026, 2, 28)}, FEB)
    assert estimate.earnings == sum(v[4] for (s, _), v in expected.items() if s == sellers[0])


def test_finalization_happens_once_under_parallel_callers_and_matches_the_raw_rows(backend):
    reset(backend)
    world, sellers = month_world(backend, [FEB])
    run_month(backend, FEB)
    results, errors = parallel(8, lambda engine: finalize_month(engine, FEB, backend.settings.tz), backend.url)
    assert errors == []
    assert sorted(r.finalized for r in results) == [False] * 7 + [True]
    expected = expected_lines(backend, world, _days(FEB), FEB)
    assert _stored_lines(backend, FEB) == expected
    earnings = {s: sum(v[4] for (seller, _), v in expected.items() if seller == s) for s in sellers}
    assert dict(_all(backend, "SELECT seller_id, earnings FROM statements WHERE month = :m", m=FEB)) == {
        s: e for s, e in earnings.items() if any(k[0] == s for k in expected)}
    assert _all(backend, "SELECT COUNT(*) FROM ledger_entries") == [(len({k[0] for k in expected}),)]
    with backend.engine.connect() as conn:
        assert ledger.check(conn) == []
        assert ledger.balances(conn) == {s: e for s, e in earnings.items() if any(k[0] == s for k in expected)}
        assert month_state(conn, FEB) == ("final", None)


def test_a_final_statement_never_changes_and_a_restated_day_is_adjusted_once_on_the_next_month(backend):
    reset(backend)
    world, sellers = month_world(backend, [FEB, MAR])
    run_month(backend, FEB)
    finalize_month(backend.engine, FEB, backend.settings.tz)
    frozen = (_stored_lines(backend, FEB), _all(backend, "SELECT * FROM statements ORDER BY seller_id"))

    # Late events for 2026-02-10 of a video; the real batch re-runs the day.
    video = next(iter(world.sellers))
    seller = world.sellers[video]
    late_session(backend, world, date(2026, 2, 10), video)
    assert finalize_month(backend.engine, FEB, backend.settings.tz).finalized is False  # pressing again
    run_days_inline(backend.settings, [date(2026, 2, 10)], use_cache=False)
    run_days_inline(backend.settings, [date(2026, 2, 10)], use_cache=False)  # again: nothing new to carry
    assert (_stored_lines(backend, FEB), _all(backend, "SELECT * FROM statements ORDER BY seller_id")) == frozen

    new = expected_lines(backend, world, _days(FEB), FEB)
    old = frozen[0]
    difference = sum(new[k][4] for k in new) - sum(old[k][4] for k in old)
    assert difference > 0
    adjustments = _all(backend, "SELECT month, seller_id, video_id, day, amount FROM statement_adjustments")
    assert adjustments == [(MAR, seller, video, date(2026, 2, 10), difference)]
    restated = _all(backend, "SELECT a.restatement_id, r.now_total_amount - r.was_total_amount FROM "
                             "statement_adjustments a JOIN restatements r ON r.id = a.restatement_id")
    assert [amount for _, amount in restated] == [difference]

    with backend.engine.connect() as conn:
        estimate = seller_statement(conn, seller, MAR, backend.settings.tz)
    assert estimate.adjustments_total == difference

    run_month(backend, MAR)
    finalize_month(backend.engine, MAR, backend.settings.tz)
    march = expected_lines(backend, world, _days(FEB) | _days(MAR), MAR)
    assert _stored_lines(backend, MAR) == march
    lines = sum(v[4] for (s, _), v in march.items() if s == seller)
    assert _all(backend, "SELECT lines_total, adjustments_total, earnings FROM statements "
                         "WHERE month = :m AND seller_id = :s", m=MAR, s=seller) == [
        (lines, difference, lines + difference)]
    with backend.engine.connect() as conn:
        assert ledger.check(conn) == []
        february = sum(v[4] for (s, _), v in old.items() if s == seller)
        assert ledger.balance(conn, seller) == february + lines + difference


def test_months_are_finalized_in_order(backend):
    reset(backend)
    month_world(backend, [FEB, MAR])
    run_month(backend, FEB)
    run_month(backend, MAR)
    with pytest.raises(MonthNotReady, match="2026-02 is not final yet"):
        finalize_month(backend.engine, MAR, backend.settings.tz)
    assert finalize_month(backend.engine, FEB, backend.settings.tz).finalized
    assert finalize_month(backend.engine, MAR, backend.settings.tz).finalized


def test_a_malformed_month_is_a_clear_error(backend):
    from models.money.months import BadMonth

    for bad in ("2026-13", "26-11", "november"):
        with pytest.raises(BadMonth):
            finalize_month(backend.engine, bad, backend.settings.tz)
