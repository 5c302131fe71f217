"""The batch commands: generate, run, backfill and retry, with their errors; and the
generator's data (LOAD DATA on MariaDB) through the pipeline against the reference."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from jobs.engine import engine_for
from jobs.inline import run_days_inline
from models import AdView, BatchRun, PlaySession, RunState, RunTrigger, User, Video
from models.business_time import days_between, today
from paysystem.synthetic_data import GenerateError, GenerateSpec, generate
from settings import Settings
from tests.batch_support import Backend, plan_ids, reference, snapshot, world_from_db
from tests.support import migrated_sqlite_database
from tests.test_cli import run_cli

LAST = date(2026, 3, 4)


@pytest.fixture(scope="module")
def mariadb(redis_url, tmp_path_factory):
    b = Backend("mariadb", redis_url, tmp_path_factory.mktemp("gen"))
    yield b
    b.close()


def test_generated_data_through_the_pipeline_equals_the_reference(mariadb):
    mariadb.reset()
    spec = GenerateSpec(videos=40, sellers=4, viewers=300, days=3, sessions=4_000, ad_views=3_000, seed=11,
                        last_day=LAST)
    result = generate(mariadb.engine, spec, mariadb.settings.tz)
    assert (result.users, result.videos, result.sessions, result.ad_views) == (304, 40, 4_000, 3_000)
    with mariadb.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(PlaySession)) == 4_000
        assert conn.scalar(select(func.count()).select_from(AdView)) == 3_000
        assert conn.scalar(select(func.count()).select_from(PlaySession).where(PlaySession.counted.is_(False))) > 0
        reasons = set(conn.scalars(select(PlaySession.reject_reason).distinct()).all())
        assert {r.value if r else None for r in reasons} == {None, "own_video", "repeat_within_30s"}
    days = days_between(spec.first_day, LAST)
    run_days_inline(mariadb.settings, days, RunTrigger.BACKFILL, use_cache=False)
    assert snapshot(mariadb.engine) == reference(world_from_db(mariadb.engine), set(days), plan_ids(mariadb.engine))
    with pytest.raises(GenerateError, match="already in this database"):
        generate(mariadb.engine, spec, mariadb.settings.tz)


def _event_table_ddl(engine) -> list[str]:
    with engine.connect() as conn:
        return [conn.exec_driver_sql(f"SHOW CREATE TABLE {t}").one()[1] for t in ("play_sessions", "ad_views")]


def test_bulk_load_rebuilds_the_deferred_keys_exactly_also_after_a_failure(mariadb):
    """Into empty event tables the generator drops the random-order keys for the load; the
    schema afterwards must be the migrated one, whether the load finished or not."""
    mariadb.reset()
    migrated = _event_table_ddl(mariadb.engine)
    assert "fk_play_sessions_video_id_videos" in migrated[0] and "fk_ad_views_video_id_videos" in migrated[1]
    seen: list[list[str]] = []

    def fail_on_second_day(step: str, rows: int) -> None:
        seen.append(_event_table_ddl(mariadb.engine))
        if len(seen) == 3:
            raise RuntimeError("stopped half-way")

    spec = GenerateSpec(videos=10, sellers=2, viewers=30, days=3, sessions=600, ad_views=300, seed=21,
                        last_day=LAST)
    with pytest.raises(RuntimeError, match="half-way"):
        generate(mariadb.engine, spec, mariadb.settings.tz, progress=fail_on_second_day)
    assert "ix_play_sessions_viewer_id_video_id_started_at" not in seen[1][0], "keys were not deferred"
    assert _event_table_ddl(mariadb.engine) == migrated
    # Not empty any more: a second generation keeps every key in place while it loads.
    seen.clear()
    generate(mariadb.engine, replace(spec, seed=22), mariadb.settings.tz, progress=lambda *_: seen.append(
        _event_table_ddl(mariadb.engine)))
    assert all(ddl == migrated for ddl in seen) and _event_table_ddl(mariadb.engine) == migrated


def test_generator_is_reproducible(mariadb, tmp_path):
    spec = GenerateSpec(videos=5, sellers=2, viewers=20, days=2, sessions=300, ad_views=200, seed=4, last_day=LAST)
    dumps = []
    for name in ("a", "b"):
        url = migrated_sqlite_database(tmp_path / f"{name}.db")
        engine = engine_for(url)
        generate(engine, spec, mariadb.settings.tz)
        with engine.connect() as conn:
            dumps.append((conn.execute(select(PlaySession.__table__)).all(),
                          conn.execute(select(AdView.__table__)).all(),
                          conn.execute(select(Video.seller_id, Video.duration_seconds)).all()))
        engine.dispose()
    assert dumps[0] == dumps[1] and len(dumps[0][0]) == 300


@pytest.mark.slow
def test_batch_commands_on_sqlite(tmp_path, redis_url):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "REDIS_URL": redis_url, "BATCH_RETRIES": "0"}
    assert run_cli("migrate", env=env).returncode == 0
    yesterday = today(Settings().tz) - timedelta(days=1)
    gen = run_cli("generate", "--videos", "12", "--sellers", "3", "--viewers", "50", "--days", "3",
                  "--sessions", "600", "--ad-views", "400", "--seed", "9", env=env)
    assert gen.returncode == 0, gen.stderr
    assert "600 play sessions and" in gen.stdout
    again = run_cli("generate", "--videos", "1", "--sellers", "1", "--viewers", "1", "--days", "1",
                    "--sessions", "1", "--ad-views", "0", "--seed", "9", env=env)
    assert again.returncode == 1 and "already in this database" in again.stderr

    first = (yesterday - timedelta(days=2)).isoformat()
    backfill = run_cli("backfill", "--from", first, "--to", yesterday.isoformat(), "--inline", env=env)
    assert backfill.returncode == 0, backfill.stderr
    assert backfill.stdout.count("succeeded") == 3
    assert "partition=0 day=" in backfill.stderr  # job-aware log lines

    rerun = run_cli("run", "--date", yesterday.isoformat(), "--inline", env=env)
    assert rerun.returncode == 0 and "succeeded" in rerun.stdout

    not_over = run_cli("run", "--date", (yesterday + timedelta(days=1)).isoformat(), "--inline", env=env)
    assert not_over.returncode == 1 and "not over yet" in not_over.stderr
    backwards = run_cli("backfill", "--from", yesterday.isoformat(), "--to", first, "--inline", env=env)
    assert backwards.returncode == 1 and "before" in backwards.stderr
    bad_date = run_cli("run", "--date", "2026-02-30", env=env)
    assert bad_date.returncode == 2 and "is not a date" in bad_date.stderr
    missing = run_cli("retry", "--run", "999", "--inline", env=env)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    done = run_cli("retry", "--run", "1", "--inline", env=env)
    assert done.returncode == 1 and "already succeeded" in done.stderr

    engine = engine_for(env["DATABASE_URL"])
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(BatchRun).where(BatchRun.state == RunState.SUCCEEDED)) == 4
        assert conn.scalar(select(func.count()).select_from(User)) == 53
    engine.dispose()
