"""§13 ledger: balanced immutable entries, the balance derived from them, and `paysystem
ledger-check` (run here against a real database) finding each broken invariant."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from models.money import ledger
from models.money.statements import finalize_month
from tests.money_support import month_world, reset, run_month
from tests.test_cli import run_cli

FEB = date(2026, 2, 1)
# Money is what these tests check, not the batch's partitioning (tests/test_batch_*.py): one
# partition per day runs the months they need in half the time.
BACKEND_SETTINGS = {"batch_partitions": 1}


@pytest.fixture(scope="module")
def backend(backend):
    """The shared scratch database (tests/conftest.py) holding February, computed."""
    reset(backend)
    month_world(backend, [FEB])
    run_month(backend, FEB)
    return backend


def _cli(backend, *args):
    return run_cli(*args, env={"DATABASE_URL": backend.url, "REDIS_URL": backend.settings.redis_url})


def _ledger_check_in_process(backend):  # type: ignore[no-untyped-def]
    """`paysystem ledger-check` run in this process (click's runner, the same command and exit
    code): the damage cases below run it eight times, at ~1.5 s of interpreter start each as a
    subprocess; the subprocess path itself is the first test's."""
    from click.testing import CliRunner

    from jobs.money_cli import ledger_check_command

    return CliRunner().invoke(ledger_check_command, [], env={"DATABASE_URL": backend.url,
                                                            "REDIS_URL": backend.settings.redis_url})


def test_finalize_command_refuses_then_finalizes_and_ledger_check_passes(backend):
    refused = _cli(backend, "finalize", "--month", "2026-03")
    assert refused.returncode == 1 and "2026-03 was not finalized" in refused.stderr
    done = _cli(backend, "finalize", "--month", "2026-02")
    assert done.returncode == 0 and "finalized" in done.stdout, done.stderr
    again = _cli(backend, "finalize", "--month", "2026-02")
    assert again.returncode == 0 and "already final" in again.stdout
    bad = _cli(backend, "finalize", "--month", "2026-2")
    assert bad.returncode == 1 and "is not a month" in bad.stderr
    check = _cli(backend, "ledger-check")
    assert check.returncode == 0, check.stderr
    with backend.engine.connect() as conn:
        statements = dict(conn.execute(text("SELECT seller_id, earnings FROM statements")).all())
        assert ledger.balances(conn) == statements
        assert conn.execute(text("SELECT COUNT(*) FROM ledger_postings")).scalar() == 2 * len(statements)


@pytest.mark.parametrize(("damage", "message"), [
    ("UPDATE ledger_postings SET amount = amount + 1 WHERE account = 'cash' LIMIT 1", "postings sum to 1, not 0"),
    ("UPDATE statements SET earnings = earnings + 5, lines_total = lines_total + 5 LIMIT 1",
     "but statements and payouts give"),
    ("UPDATE statement_lines SET total = total - 7 LIMIT 1", "(Σ lines"),
    ("DELETE FROM ledger_postings WHERE account = 'seller_payable' LIMIT 1", "postings sum to"),
])
def test_ledger_check_names_each_broken_invariant_and_exits_1(backend, damage, message):
    finalize_month(backend.engine, FEB, backend.settings.tz)  # (already final after the first test)
    with backend.engine.begin() as conn:
        before = {t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t}"))]
                  for t in ("ledger_postings", "statements", "statement_lines")}
        conn.execute(text(damage))
    try:
        result = _ledger_check_in_process(backend)
        assert result.exit_code == 1, result.output
        assert message in result.stderr, result.stderr
    finally:
        with backend.engine.begin() as conn:
            for table, rows in before.items():
                conn.execute(text(f"DELETE FROM {table}"))
                for row in rows:
                    conn.execute(text(f"INSERT INTO {table} VALUES ({', '.join(f':p{i}' for i in range(len(row)))})"),
                                 {f"p{i}": v for i, v in enumerate(row)})
    healed = _ledger_check_in_process(backend)
    assert healed.exit_code == 0 and "every invariant holds" in healed.stdout, healed.output
