"""Bookkeeping of the nightly pipeline: one run per requested day, one row per partition.

Everything an operator needs to judge and restart a run lives here (state, attempt,
timings, rows written, error), independent of RQ's own short-lived job records.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TABLE_ARGS, Base, BigId, UTCDateTime, enum_column_type, utcnow


class RunState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # A backfill day an admin cancelled before it started (it never computed anything).
    CANCELLED = "cancelled"


class RunTrigger(enum.StrEnum):
    NIGHTLY = "nightly"
    MANUAL = "manual"
    BACKFILL = "backfill"


class BatchRun(Base):
    __tablename__ = "batch_runs"
    __table_args__ = (Index(None, "day", "created_at"), Index(None, "state"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    trigger: Mapped[RunTrigger] = mapped_column(enum_column_type(RunTrigger, "run_trigger"))
    state: Mapped[RunState] = mapped_column(enum_column_type(RunState, "run_state"), default=RunState.QUEUED)
    requested_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    partitions_total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The final step (rollups, Top-5, cache) after every partition succeeded.
    finalize_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rows_written: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # The first run of the backfill this run belongs to (None outside backfills).
    backfill_id: Mapped[int | None] = mapped_column(BigInteger, index=True)

    partitions: Mapped[list[BatchPartition]] = relationship(
        back_populates="run", order_by="BatchPartition.partition_index", cascade="all, delete-orphan"
    )


class BatchPartition(Base):
    """The work of one run on videos `video_id_lo` … `video_id_hi` (inclusive)."""

    __tablename__ = "batch_partitions"
    __table_args__ = (UniqueConstraint("run_id", "partition_index"), Index(None, "state"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("batch_runs.id", ondelete="CASCADE"))
    partition_index: Mapped[int] = mapped_column(Integer)
    video_id_lo: Mapped[int] = mapped_column(BigInteger)
    video_id_hi: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[RunState] = mapped_column(enum_column_type(RunState, "partition_state"), default=RunState.QUEUED)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rows_written: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # The RQ worker that last ran the partition.
    worker: Mapped[str | None] = mapped_column(String(200))

    run: Mapped[BatchRun] = relationship(back_populates="partitions")
