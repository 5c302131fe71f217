"""Batch commands of the `paysystem` command line."""

from __future__ import annotations

import time
from datetime import date

import click

from settings import ConfigError, Settings, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from exc


class _DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)


DATE = _DateType()


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@click.option("--name", default=None, help="Worker name (default: host and pid).")
@click.option("--fork", is_flag=True, help="Fork a work horse per job (RQ's default Worker).")
def worker_command(burst: bool, name: str | None, fork: bool) -> None:
    """Run an RQ worker for the batch queue."""
    from jobs.worker import run_worker

    run_worker(_settings(), burst=burst, name=name, fork=fork)


@click.command("scheduler")
@click.option("--interval", default=5, show_default=True, type=click.IntRange(1, 3600),
              help="Seconds between checks for due jobs.")
def scheduler_command(interval: int) -> None:
    """Run the rq-scheduler process (enqueues the nightly batch when due)."""
    from jobs.scheduler import run_scheduler

    run_scheduler(_settings(), interval=interval)


def _report(results) -> None:  # type: ignore[no-untyped-def]
    failed = [r for r in results if r.state.value != "succeeded"]
    for r in results:
        click.echo(f"{r.day.isoformat()}  run {r.run_id}  {r.state.value}  {r.rows_written} rows")
    if failed:
        raise click.ClickException(
            f"{len(failed)} run(s) did not succeed; see `paysystem retry --run ID` and the job-runs page"
        )


def _wait(settings: Settings, run_ids: list[int], timeout: float | None) -> None:
    """Follow enqueued runs with a progress bar until they are all finished."""
    from tqdm import tqdm

    from jobs.engine import engine_for
    from jobs.run_state import failed_runs, run_states
    from models.batch.tables import RunState

    engine = engine_for(settings.database_url)
    deadline = None if timeout is None else time.monotonic() + timeout
    done_states = (RunState.SUCCEEDED, RunState.FAILED)
    with tqdm(total=len(run_ids), unit="day", desc="batch") as bar:
        while True:
            finished = sum(1 for state in run_states(engine, run_ids).values() if state in done_states)
            bar.update(finished - bar.n)
            if finished == len(run_ids):
                break
            if deadline is not None and time.monotonic() > deadline:
                raise click.ClickException("timed out waiting for the workers; the jobs stay queued")
            time.sleep(0.2)
    failed = failed_runs(engine, run_ids)
    if failed:
        for run_id, day, error in failed:
            click.echo(f"run {run_id} ({day}) failed: {error}", err=True)
        raise click.ClickException(f"{len(failed)} run(s) failed; retry them with `paysystem retry --run ID`")


def _run_days(days: list[date], trigger_name: str, inline: bool, wait: bool, timeout: float | None) -> None:
    from jobs.enqueue import BatchRequestError, check_closed_days, enqueue_runs
    from jobs.queues import queue_name
    from models.batch.tables import RunTrigger
    from models.figures.date_window import DateOutOfRange

    settings = _settings()
    trigger = RunTrigger(trigger_name)
    try:
        check_closed_days(settings, days[0], days[-1])
    except (BatchRequestError, DateOutOfRange) as exc:
        raise click.ClickException(str(exc)) from exc
    if inline:
        from tqdm import tqdm

        from jobs.inline import run_days_inline
        from jobs.logs import configure_job_logging

        configure_job_logging()
        with tqdm(total=len(days), unit="day", desc="batch", disable=len(days) == 1) as bar:
            results = run_days_inline(settings, days, trigger, progress=lambda _r: bar.update(1))
        _report(results)
        return
    run_ids = enqueue_runs(settings, days, trigger)
    click.echo(f"enqueued run(s) {run_ids[0]}" + (f"-{run_ids[-1]}" if len(run_ids) > 1 else "")
               + f" on queue {queue_name(settings)!r}")
    if wait:
        _wait(settings, run_ids, timeout)
        click.echo("all runs succeeded")


@click.command("run")
@click.option("--date", "day", required=True, type=DATE, help="Business day to compute.")
@click.option("--inline", is_flag=True, help="Run in this process instead of enqueueing for workers.")
@click.option("--wait/--no-wait", default=False, show_default=True, help="Follow the enqueued run until it ends.")
@click.option("--timeout", type=float, default=None, help="Give up waiting after this many seconds.")
def run_command(day: date, inline: bool, wait: bool, timeout: float | None) -> None:
    """Compute one closed business day (stats, cumulative figures, settlements, rollups, Top-5)."""
    _run_days([day], "manual", inline, wait, timeout)


@click.command("backfill")
@click.option("--from", "first", required=True, type=DATE, help="First business day.")
@click.option("--to", "last", required=True, type=DATE, help="Last business day (inclusive).")
@click.option("--inline", is_flag=True, help="Run in this process instead of enqueueing for workers.")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Follow the runs with a progress bar.")
@click.option("--timeout", type=float, default=None, help="Give up waiting after this many seconds.")
def backfill_command(first: date, last: date, inline: bool, wait: bool, timeout: float | None) -> None:
    """Compute every day from --from to --to, in order."""
    if last < first:
        raise click.ClickException(f"--to ({last}) is before --from ({first})")
    from models.business_time import days_between

    _run_days(days_between(first, last), "backfill", inline, wait, timeout)


@click.command("retry")
@click.option("--run", "run_id", required=True, type=int, help="The batch run to finish.")
@click.option("--force", is_flag=True, help="Also retry partitions still marked running (their worker is gone).")
@click.option("--inline", is_flag=True, help="Run in this process instead of enqueueing for workers.")
def retry_command(run_id: int, force: bool, inline: bool) -> None:
    """Re-run only the partitions of a run that did not succeed, then its final step."""
    from jobs.enqueue import BatchRequestError, enqueue_retry

    settings = _settings()
    try:
        if inline:
            from jobs.inline import retry_inline
            from jobs.logs import configure_job_logging

            configure_job_logging()
            _report([retry_inline(settings, run_id, force=force)])
            return
        retried = enqueue_retry(settings, run_id, force=force)
    except BatchRequestError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"run {run_id}: re-enqueued partitions {retried or 'none'} and the final step")


COMMANDS = [worker_command, scheduler_command, run_command, backfill_command, retry_command]
