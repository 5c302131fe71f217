"""ads spread by their picks over a recent window (issue 21, item 11)

- ad_pick_hours: picks per ad per UTC hour. The server plays the active ad picked least over
  the last AD_BALANCE_WINDOW_HOURS hours (models/playback/ad_rotation.py), so a newly registered ad
  shares the breaks instead of winning every one until its lifetime impressions caught up.
  Starts empty: right after the upgrade every active ad stands level.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ad_pick_hours',
    sa.Column('ad_id', BIG_ID, nullable=False),
    sa.Column('hour_start', UTC_DATETIME, nullable=False),
    sa.Column('picks', BIG_ID, nullable=False),
    sa.ForeignKeyConstraint(['ad_id'], ['ads.id'], name=op.f('fk_ad_pick_hours_ad_id_ads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ad_id', 'hour_start', name=op.f('pk_ad_pick_hours')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )


def downgrade() -> None:
    op.drop_table('ad_pick_hours')
