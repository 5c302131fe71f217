"""e-mail verification (issue 18, item 16)

- users.email_verified_at: when the owner proved the address (the mailed link) or a social
  provider vouched for it. Every existing account with an address counts as verified: they
  were made before sign-up asked for proof (by sign-up, an admin, the command line or a
  social provider that verified the address).
- password_reset_tokens.purpose: the table now holds every mailed single-use link
  (models/accounts/mailed_links.py), "reset" or "verify"; existing rows are reset links.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('email_verified_at', UTC_DATETIME, nullable=True))
    op.execute("UPDATE users SET email_verified_at = created_at WHERE email IS NOT NULL")
    with op.batch_alter_table('password_reset_tokens') as batch:
        batch.add_column(sa.Column('purpose', sa.String(length=16), server_default='reset', nullable=False))


def downgrade() -> None:
    op.execute("DELETE FROM password_reset_tokens WHERE purpose <> 'reset'")
    with op.batch_alter_table('password_reset_tokens') as batch:
        batch.drop_column('purpose')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('email_verified_at')
