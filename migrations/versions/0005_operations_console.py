"""operations console: cancelled runs, a backfill's runs grouped, the worker of a partition

- `batch_runs.state` / `batch_partitions.state` may be `cancelled` (a backfill's days an
  admin cancelled before they started);
- `batch_runs.backfill_id`: the first run of the backfill a run belongs to, so the
  remaining days of one backfill can be cancelled together;
- `batch_partitions.worker`: the RQ worker that last ran the partition.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATES = "('queued', 'running', 'succeeded', 'failed')"
NEW_STATES = "('queued', 'running', 'succeeded', 'failed', 'cancelled')"


def _states(table: str, name: str, states: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
        batch.create_check_constraint(op.f(f"ck_{table}_{name}"), f"state IN {states}")


def upgrade() -> None:
    _states("batch_runs", "run_state", NEW_STATES)
    _states("batch_partitions", "partition_state", NEW_STATES)
    with op.batch_alter_table("batch_runs") as batch:
        batch.add_column(sa.Column("backfill_id", sa.BigInteger(), nullable=True))
        batch.create_index(op.f("ix_batch_runs_backfill_id"), ["backfill_id"], unique=False)
    with op.batch_alter_table("batch_partitions") as batch:
        batch.add_column(sa.Column("worker", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batch_partitions") as batch:
        batch.drop_column("worker")
    with op.batch_alter_table("batch_runs") as batch:
        batch.drop_index(op.f("ix_batch_runs_backfill_id"))
        batch.drop_column("backfill_id")
    # A cancelled run never computed anything: as far as the old schema knows, it failed.
    op.execute("UPDATE batch_partitions SET state = 'failed' WHERE state = 'cancelled'")
    op.execute("UPDATE batch_runs SET state = 'failed' WHERE state = 'cancelled'")
    _states("batch_runs", "run_state", OLD_STATES)
    _states("batch_partitions", "partition_state", OLD_STATES)
