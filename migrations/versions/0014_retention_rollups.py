"""week and month rollups of audience retention (issue 22, item 1)

- video_period_retention: per (week or month, video) the sums of its video_daily_retention rows:
  views, summed reach, and the days' histogram texts joined in day order
  (models/figures/retention.py). The nightly batch adds each day into them; here the rows of the
  days computed before this revision are built from the daily rows.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Period starts in SQL, as models/figures/period_calendar.py's period_start_sql (a migration does
# not import the models it may outlive): ISO weeks from Monday, calendar months.
_STARTS = {
    "mysql": {"week": "DATE_SUB(day, INTERVAL WEEKDAY(day) DAY)",
              "month": "DATE_SUB(day, INTERVAL DAYOFMONTH(day) - 1 DAY)"},
    "sqlite": {"week": "date(day, '-' || ((CAST(strftime('%w', day) AS INTEGER) + 6) % 7) || ' days')",
               "month": "date(day, 'start of month')"},
}


def upgrade() -> None:
    op.create_table('video_period_retention',
    sa.Column('period', sa.Enum('week', 'month', name='rollup_period', native_enum=False, create_constraint=True,
                                length=9), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('video_id', BIG_ID, nullable=False),
    sa.Column('views', sa.BigInteger(), nullable=False),
    sa.Column('reach_ms', sa.BigInteger(), nullable=False),
    sa.Column('histogram', sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"), nullable=False),
    sa.PrimaryKeyConstraint('period', 'period_start', 'video_id', name=op.f('pk_video_period_retention')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    bind = op.get_bind()
    mysql_ = bind.dialect.name in ("mysql", "mariadb")
    if mysql_:
        op.execute("SET SESSION group_concat_max_len = 16777215")
    for period, start in _STARTS["mysql" if mysql_ else "sqlite"].items():
        pieces = ("GROUP_CONCAT(histogram ORDER BY day SEPARATOR ',')" if mysql_ else "group_concat(histogram, ',')")
        source = ("video_daily_retention" if mysql_ else
                  "(SELECT * FROM video_daily_retention ORDER BY video_id, day)")
        op.execute(f"""
            INSERT INTO video_period_retention (period, period_start, video_id, views, reach_ms, histogram)
            SELECT '{period}', {start}, video_id, SUM(views), SUM(reach_ms), {pieces}
            FROM {source} r
            GROUP BY {start}, video_id""")


def downgrade() -> None:
    op.drop_table('video_period_retention')
