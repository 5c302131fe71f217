"""the daily retention histogram as a bounded ASCII VARCHAR instead of TEXT (issue 22, the step's cost)

- video_daily_retention.histogram: VARCHAR(2424) CHARACTER SET ascii. 2424 is the longest text
  the batch can write (101 "bucket:views" pairs with a BIGINT's 19 digits, commas between;
  models/figures/retention.py HISTOGRAM_CHARS). A bounded column lets MariaDB's sort carry the
  text with the key when the week and month closings group the daily rows by video, instead of
  sorting row ids and reading every row again (with max_length_for_sort_data raised for that
  statement): a month's closing 400 → 230 ms of server CPU on bench.pipeline's 30 days.
  SQLite keeps its TEXT affinity; the length is not enforced there.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHARS = 2424


def upgrade() -> None:
    with op.batch_alter_table('video_daily_retention') as batch:
        batch.alter_column('histogram', existing_type=sa.Text(), existing_nullable=False,
                           type_=sa.String(_CHARS).with_variant(mysql.VARCHAR(_CHARS, charset="ascii"),
                                                                "mysql", "mariadb"))


def downgrade() -> None:
    with op.batch_alter_table('video_daily_retention') as batch:
        batch.alter_column('histogram', existing_type=sa.String(_CHARS), existing_nullable=False, type_=sa.Text())
