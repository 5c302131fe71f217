"""audience retention per video (issue 22, item 1)

- video_daily_retention: per (day, video) the counted views, their summed reach (min of
  furthest position, credited watch time and length) and the histogram of their reach in whole
  percents as "bucket:views,…" text (models/figures/retention.py).
- The play sessions' batch index also covers furthest_position_ms, so the nightly histogram
  reads a day without row lookups (it gets an explicit name: the generated one is over 64
  characters).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_INDEX = ('ix_play_sessions_day_video_id_counted_reject_reason_watch_ms',
              ['day', 'video_id', 'counted', 'reject_reason', 'watch_ms'])
_NEW_INDEX = ('ix_play_sessions_day_batch',
              ['day', 'video_id', 'counted', 'reject_reason', 'watch_ms', 'furthest_position_ms'])


def upgrade() -> None:
    op.create_table('video_daily_retention',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('video_id', BIG_ID, nullable=False),
    sa.Column('views', sa.BigInteger(), nullable=False),
    sa.Column('reach_ms', sa.BigInteger(), nullable=False),
    sa.Column('histogram', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'video_id', name=op.f('pk_video_daily_retention')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_video_daily_retention_video_id_day'), 'video_daily_retention', ['video_id', 'day'],
                    unique=False)
    with op.batch_alter_table('play_sessions') as batch:
        batch.create_index(_NEW_INDEX[0], _NEW_INDEX[1], unique=False)
        batch.drop_index(_OLD_INDEX[0])


def downgrade() -> None:
    with op.batch_alter_table('play_sessions') as batch:
        batch.create_index(_OLD_INDEX[0], _OLD_INDEX[1], unique=False)
        batch.drop_index(_NEW_INDEX[0])
    op.drop_index(op.f('ix_video_daily_retention_video_id_day'), table_name='video_daily_retention')
    op.drop_table('video_daily_retention')
