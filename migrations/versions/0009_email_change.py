"""e-mail change by a mailed link (issue 21, item 14)

- password_reset_tokens.new_email: the address an "email" link moves its account to once
  followed (models/accounts/email_change.py); NULL for reset and verification links.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('password_reset_tokens') as batch:
        batch.add_column(sa.Column('new_email', sa.String(length=254), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM password_reset_tokens WHERE purpose = 'email'")
    with op.batch_alter_table('password_reset_tokens') as batch:
        batch.drop_column('new_email')
