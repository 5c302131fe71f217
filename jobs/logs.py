"""Job-aware logging: every line a batch job writes names its run, partition and day.

The values live in context variables set around each job, so code deep inside a job
logs normally and still gets them, and concurrent inline runs cannot mix them up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

LOGGER_NAME = "paysystem.jobs"
FORMAT = "%(asctime)s %(levelname)s [run=%(run)s partition=%(partition)s day=%(day)s] %(message)s"

_run: ContextVar[str] = ContextVar("batch_run", default="-")
_partition: ContextVar[str] = ContextVar("batch_partition", default="-")
_day: ContextVar[str] = ContextVar("batch_day", default="-")

log = logging.getLogger(LOGGER_NAME)


class JobContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.run = _run.get()
        record.partition = _partition.get()
        record.day = _day.get()
        return True


@contextmanager
def job_context(run: int, day: date, partition: int | str = "final") -> Iterator[None]:
    tokens = (_run.set(str(run)), _partition.set(str(partition)), _day.set(day.isoformat()))
    try:
        yield
    finally:
        _day.reset(tokens[2])
        _partition.reset(tokens[1])
        _run.reset(tokens[0])


def configure_job_logging(level: int = logging.INFO) -> None:
    """Attach one stderr handler with the job format (idempotent)."""
    if any(getattr(h, "_paysystem_jobs", False) for h in log.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(JobContextFilter())
    handler._paysystem_jobs = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False
