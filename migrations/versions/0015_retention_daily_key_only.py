"""video_daily_retention read by its key alone (issue 22, the nightly step's cost)

- drops ix_video_daily_retention_video_id_day. A video's range of days is read by the primary key
  (day, video_id) as one point per listed day (models/figures/retention.py `retention_over_days`
  lists its days), which was no slower than through this index; the batch writes, deletes and
  closes by day ranges of the key. With the index, the nightly step's INSERT took 240 against
  200 ms of server CPU per day (README "Backfill with and without the step").

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(op.f('ix_video_daily_retention_video_id_day'), table_name='video_daily_retention')


def downgrade() -> None:
    op.create_index(op.f('ix_video_daily_retention_video_id_day'), 'video_daily_retention', ['video_id', 'day'],
                    unique=False)
