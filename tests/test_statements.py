"""§13 statements on MariaDB with the real batch: estimated → final, refused while a day is not
final, exactly once under parallel callers, immutable, and adjustments from restatements."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from jobs.inline import run_days_inline
from models.business_time import days_between, month_range
from models.money import ledger
from models.money.statements import (
    MonthNotReady,
    finalize_month,
    month_state,
    open_refusals,
    seller_statement,
)
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


def _value(v):
    """SQLite hands DATE columns of raw SQL back as text."""
    return date.fromisoformat(v) if isinstance(v, str) and len(v) == 10 and v[4] == "-" else v


def _all(backend, sql, **params):
    with backend.engine.connect() as conn:
        return [tuple(_value(v) for v in r) for r in conn.execute(text(sql), params)]


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
        [(month, shown, at)] = open_refusals(conn)
        assert (month, shown) == (FEB, reason) and at is not None
        estimate = seller_statement(conn, sellers[0], FEB, backend.settings.tz)
    assert estimate.status == "estimated"
    assert [d.day for d in estimate.days_not_final] == [date(2026, 2, 27), date(2026, 2, 28)]
    expected = expected_lines(backend, world, _days(FEB) - {date(2026, 2, 27), date(2026, 2, 28)}, FEB)
    assert estimate.earnings == sum(v[4] for (s, _), v in expected.items() if s == sellers[0])


@pytest.mark.slow
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
        assert open_refusals(conn) == []


@pytest.fixture(scope="module")
def sqlite_backend(redis_url, tmp_path_factory):
    b = Backend("sqlite", redis_url, tmp_path_factory.mktemp("statements-sqlite"))
    yield b
    b.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["mariadb", "sqlite"])
def test_a_final_statement_never_changes_and_a_restated_day_is_adjusted_once_on_the_next_month(kind, request):
    backend = request.getfixturevalue("backend" if kind == "mariadb" else "sqlite_backend")
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


@pytest.mark.slow
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


def test_the_schedule_finalizes_last_month_from_the_finalize_day_until_it_is_final(backend):
    from jobs.statements import finalize_due, month_due

    reset(backend)
    month_world(backend, [FEB])
    run_month(backend, FEB, skip_last=1)
    tenth = datetime(2026, 3, 9, 18, 0, tzinfo=UTC)  # 03:00 on 10 March in Seoul
    assert month_due(backend.settings, tenth - timedelta(hours=4)) is None  # still the 9th there
    assert month_due(backend.settings, tenth) == FEB
    assert month_due(replace(backend.settings, statement_finalize_day=11), tenth) is None
    refused = finalize_due(backend.settings, tenth)
    assert refused["state"] == "refused" and "2026-02-28 pending" in refused["reason"]
    run_days_inline(backend.settings, [date(2026, 2, 28)], use_cache=False)
    eleventh = tenth + timedelta(days=1)
    from tests.mail_support import smtp_server

    with smtp_server() as (inbox, port):  # the run that finalizes mails every seller, once
        mailing = replace(backend.settings, smtp_host="127.0.0.1", smtp_port=port,
                          public_base_url="https://pay.example.com")
        results, errors = parallel(4, lambda engine: finalize_due(mailing, eleventh), backend.url)
        assert errors == [] and sorted(r["state"] for r in results) == ["already_final"] * 3 + ["finalized"]
        [done] = [r for r in results if r["state"] == "finalized"]
        assert done["mailed"] == done["statements"] > 0
        assert len(inbox.messages) == done["statements"]
        assert len({m["To"] for m in inbox.messages}) == done["statements"]
        mail = inbox.messages[0]
        assert mail["Subject"] == "Your PaySystem statement for 2026-02 is final"
        assert "https://pay.example.com/statements/2026-02" in mail.get_payload(decode=True).decode()
    assert finalize_due(backend.settings, eleventh + timedelta(days=1))["state"] == "already_final"


def test_the_statement_job_is_scheduled_once_at_three_in_business_time(settings):
    import uuid

    from jobs.schedule import (
        STATEMENTS_FUNC,
        reconcile_nightly,
        reconcile_statements,
        scheduled_nightly_jobs,
        scheduled_statement_jobs,
        statements_job_id,
    )
    from jobs.scheduler import make_scheduler

    settings = replace(settings, batch_queue=f"stmt-{uuid.uuid4().hex[:6]}")
    scheduler = make_scheduler(settings)
    try:
        assert reconcile_statements(scheduler, settings) == "0 18 * * *"  # 03:00 Seoul is 18:00 UTC
        reconcile_nightly(scheduler, settings)
        reconcile_statements(scheduler, settings)  # a restart
        scheduler.cron("0 0 * * *", STATEMENTS_FUNC, id="stray", queue_name=settings.batch_queue)
        reconcile_statements(scheduler, settings)
        [job] = scheduled_statement_jobs(scheduler, settings)
        assert job.id == statements_job_id(settings) and job.meta["cron_string"] == "0 18 * * *"
        assert len(scheduled_nightly_jobs(scheduler, settings)) == 1  # each job reconciles only itself
    finally:
        for job in scheduled_statement_jobs(scheduler, settings) + scheduled_nightly_jobs(scheduler, settings):
            scheduler.cancel(job)
            job.delete()


def test_no_code_path_updates_or_deletes_final_statements_or_the_ledger():
    """Final statements, their lines and adjustments and the ledger are written once: nothing
    outside the tests updates or deletes them (SQL text or SQLAlchemy update/delete)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    tables = "statements|statement_lines|statement_adjustments|ledger_entries|ledger_postings"
    models = "Statement|StatementLine|Adjustment|LedgerEntry|LedgerPosting"
    pattern = re.compile(rf"(UPDATE\s+({tables})\b|DELETE\s+FROM\s+({tables})\b|"
                         rf"\b(update|delete)\(\s*({models})\b)", re.IGNORECASE)
    offenders = [f"{path.relative_to(root)}: {match.group(0)}"
                 for top in ("models", "jobs", "portal", "paysystem", "migrations", "bench", "scripts")
                 for path in (root / top).rglob("*.py")
                 for match in pattern.finditer(path.read_text(encoding="utf-8"))
                 if not (top == "migrations" and "drop_table" in match.group(0))]
    assert offenders == []
    assert pattern.search("conn.execute(text('UPDATE statement_lines SET total = 0'))")  # the check can see one
