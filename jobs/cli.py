"""Batch commands of the `paysystem` command line."""

from __future__ import annotations

import click

from paysystem.config import load_settings


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@click.option("--name", default=None, help="Worker name (default: host and pid).")
def worker_command(burst: bool, name: str | None) -> None:
    """Run an RQ worker for the batch queue."""
    from jobs.worker import run_worker

    run_worker(load_settings(), burst=burst, name=name)


@click.command("scheduler")
@click.option("--interval", default=5, show_default=True, type=click.IntRange(1, 3600),
              help="Seconds between checks for due jobs.")
def scheduler_command(interval: int) -> None:
    """Run the rq-scheduler process (enqueues the nightly batch when due)."""
    from jobs.scheduler import run_scheduler

    run_scheduler(load_settings(), interval=interval)


COMMANDS = [worker_command, scheduler_command]
