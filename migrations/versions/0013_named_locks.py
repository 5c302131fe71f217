"""cluster-wide named locks (issue 23, item 1)

- named_locks: one row per held lock (name, holder, lease expiry). Replaces GET_LOCK for
  planning the nightly run: GET_LOCK is local to one MariaDB server, so under Galera two
  nodes would both grant it; a committed row is certified cluster-wide
  (models/batch/named_lock.py).

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('named_locks',
    sa.Column('name', sa.String(length=191), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=False),
    sa.Column('expires_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_named_locks')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )


def downgrade() -> None:
    op.drop_table('named_locks')
