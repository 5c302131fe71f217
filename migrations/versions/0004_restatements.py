"""restatements: old and new figures of video-days a re-run changed after they were final

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FIGURES = ("views", "watch_seconds", "ad_views", "video_amount", "ad_amount", "total_amount")

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('restatements',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('video_id', BIG_ID, nullable=False),
    sa.Column('seller_id', BIG_ID, nullable=False),
    sa.Column('run_id', BIG_ID, nullable=True),
    sa.Column('recorded_at', UTC_DATETIME, nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    *[sa.Column(f'{prefix}_{name}', sa.BigInteger(), nullable=False) for prefix in ('was', 'now') for name in FIGURES],
    sa.PrimaryKeyConstraint('id', name=op.f('pk_restatements')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_restatements_seller_id_day'), 'restatements', ['seller_id', 'day'], unique=False)
    op.create_index(op.f('ix_restatements_video_id_day'), 'restatements', ['video_id', 'day'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_restatements_video_id_day'), table_name='restatements')
    op.drop_index(op.f('ix_restatements_seller_id_day'), table_name='restatements')
    op.drop_table('restatements')
