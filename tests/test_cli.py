"""The `paysystem` command line, run as a real subprocess against the test services."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import func, select, text

from models import (
    BatchRun,
    PlaySession,
    Restatement,
    Role,
    RunState,
    User,
    Video,
    VideoDailySettlement,
    VideoDailyStats,
)
from models.business_time import today
from models.db import database_identity, make_engine, make_sessionmaker
from paysystem import migrate
from paysystem.demo import demo_window
from settings import PROJECT_ROOT, load_settings
from tests.support import TEST_SECRET, create_mysql_database, drop_mysql_database, unique_email


def run_cli(*args: str, env: dict[str, str], input: str | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "paysystem", *args],
        env={**os.environ, "SECRET_KEY": TEST_SECRET, **env},
        cwd=PROJECT_ROOT,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def scratch_db():
    url = create_mysql_database("paysystem_cli")
    yield url
    drop_mysql_database(url)


def test_migrate_creates_the_schema(scratch_db):
    result = run_cli("migrate", env={"DATABASE_URL": scratch_db})
    assert result.returncode == 0, result.stderr
    engine = make_engine(scratch_db)
    with engine.connect() as conn:
        # the single head, whatever revision the newest one is
        assert [conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()] == migrate.heads()
    engine.dispose()


def test_create_admin(database_url, session_factory):
    email = unique_email("admin")
    result = run_cli("create-admin", "--email", email, "--name", "Ops", "--password", "a strong password",
                     env={"DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    with session_factory() as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None and user.role == Role.ADMIN and user.display_name == "Ops"
        assert user.password_hash.startswith("$argon2")


def test_create_admin_refuses_duplicates_and_short_passwords(database_url, make_user):
    existing = make_user(Role.VIEWER)
    duplicate = run_cli("create-admin", "--email", existing.email, "--password", "a strong password",
                        env={"DATABASE_URL": database_url})
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr
    short = run_cli("create-admin", "--email", unique_email(), "--password", "short",
                    env={"DATABASE_URL": database_url})
    assert short.returncode == 1
    assert "at least 8 characters" in short.stderr


def test_create_admin_reports_configuration_errors():
    result = run_cli("create-admin", "--email", unique_email(), "--password", "a strong password",
                     env={"PAYSYSTEM_ENV": "production", "SECRET_KEY": "x"})
    assert result.returncode == 1
    assert "SECRET_KEY" in result.stderr


@pytest.mark.slow
def test_seed_demo_is_idempotent(scratch_db, tmp_path):
    env = {"DATABASE_URL": scratch_db, "MEDIA_ROOT": str(tmp_path)}
    assert run_cli("migrate", env=env).returncode == 0
    first = run_cli("seed-demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "seller1@demo.paysystem.test" in first.stdout
    factory = make_sessionmaker(make_engine(scratch_db))
    with factory() as session:
        videos = session.scalars(select(Video)).all()
        sessions_before = session.scalar(select(func.count()).select_from(PlaySession))
        days = session.scalars(select(PlaySession.day).distinct()).all()
    assert len(videos) >= 5 and sessions_before > 100
    assert len(days) >= 30
    with factory() as session:  # the seeded closed days were computed by the batch
        states = session.scalars(select(BatchRun.state)).all()
        stats_days = session.scalars(select(VideoDailyStats.day).distinct()).all()
        restated = session.scalars(select(Restatement)).all()
        lifetime = session.scalars(select(VideoDailySettlement.basis).distinct()).all()
    # 30 days widened back to the first of last month (so it can be final), then the re-run of
    # the day with late plays, which restated it (and, on the lifetime basis, the later days
    # priced from its running total).
    first, yesterday = demo_window(load_settings().tz, 30)
    assert len(states) == (yesterday - first).days + 2 and set(states) == {RunState.SUCCEEDED}
    assert restated and {r.reason for r in restated} >= {"events_changed"}
    assert {b.value for b in lifetime} == {"daily", "lifetime"}
    with factory() as session:
        titles = session.scalars(select(Video.title)).all()
        demo_users = session.scalars(select(User).where(User.email.like("%@demo.paysystem.test"))).all()
    assert len(demo_users) == 7 and all(user.is_verified for user in demo_users)  # issue 18, item 16
    with factory() as session:  # §13: a final month paid and carried, an adjustment in the open month
        current = today(load_settings().tz).replace(day=1)
        last_month = (current - timedelta(days=1)).replace(day=1)
        assert session.execute(text("SELECT state FROM statement_months WHERE month = :m"),
                               {"m": last_month}).scalar() == "final"
        outcomes = dict(session.execute(text(
            "SELECT u.email, p.state FROM payouts p JOIN users u ON u.id = p.seller_id")).all())
        assert outcomes == {"seller1@demo.paysystem.test": "paid", "seller2@demo.paysystem.test": "paid"}
        carried = session.execute(text("SELECT u.email, c.reason FROM payout_carries c "
                                       "JOIN users u ON u.id = c.seller_id")).all()
        assert carried == [("seller3@demo.paysystem.test", "below_threshold")]
        adjusted = session.execute(text("SELECT month FROM statement_adjustments")).scalars().all()
        assert adjusted and set(adjusted) == {current}  # carried into the open, estimated month
    assert "ledger: every invariant holds" in run_cli("ledger-check", env=env).stdout
    assert any("한강" in t for t in titles) and len(titles) >= 9
    assert len(stats_days) >= 29
    for video in videos:
        media = tmp_path / video.media_path
        assert media.stat().st_size == video.size_bytes > 1000
    second = run_cli("seed-demo", env=env)
    assert second.returncode == 0 and "already present" in second.stdout
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(PlaySession)) == sessions_before


def test_worker_runs_queued_jobs(redis_url, database_url):
    queue = Queue(f"batch-{database_identity(database_url)}", connection=Redis.from_url(redis_url))  # BATCH_QUEUE's
    job = queue.enqueue("models.business_time.week_start", date(2026, 11, 26))
    result = run_cli("worker", "--burst", env={"REDIS_URL": redis_url, "DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    job.refresh()
    assert job.return_value() == date(2026, 11, 23)


@pytest.mark.slow
def test_scheduler_starts_and_stops(redis_url, database_url):
    proc = subprocess.Popen(
        [sys.executable, "-m", "paysystem", "scheduler", "--interval", "1"],
        env={**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET},
        cwd=PROJECT_ROOT,
    )
    try:
        client = Redis.from_url(redis_url)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not client.keys("rq:scheduler_instance:*"):
            time.sleep(0.2)
        assert client.keys("rq:scheduler_instance:*"), "the scheduler never registered itself"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_unknown_command_exits_with_usage():
    result = run_cli("no-such-command", env={})
    assert result.returncode == 2
    assert "No such command" in result.stderr
