"""viewer and seller experience: ad skips, video posters, deleted videos and ads, password resets

- ad_views.skipped_at: when the viewer skipped the ad (§5: the skip is recorded with the view).
- videos.poster_path: a poster frame extracted with PyAV at upload, relative to the media root.
- videos.deleted_at / ads.deleted_at: a deleted video or ad leaves the catalog and its media is
  removed, but the row stays so statistics, ad views and settlements keep their history.
- password_reset_tokens: single-use, expiring account-recovery links (only a hash is stored).

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ad_views') as batch:
        batch.add_column(sa.Column('skipped_at', UTC_DATETIME, nullable=True))
    with op.batch_alter_table('videos') as batch:
        batch.add_column(sa.Column('poster_path', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('deleted_at', UTC_DATETIME, nullable=True))
    with op.batch_alter_table('ads') as batch:
        batch.add_column(sa.Column('deleted_at', UTC_DATETIME, nullable=True))
    op.create_table('password_reset_tokens',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('user_id', BIG_ID, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('expires_at', UTC_DATETIME, nullable=False),
    sa.Column('used_at', UTC_DATETIME, nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_reset_tokens_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_reset_tokens_token_hash')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_password_reset_tokens_user_id'), 'password_reset_tokens', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('password_reset_tokens')
    with op.batch_alter_table('ads') as batch:
        batch.drop_column('deleted_at')
    with op.batch_alter_table('videos') as batch:
        batch.drop_column('deleted_at')
        batch.drop_column('poster_path')
    with op.batch_alter_table('ad_views') as batch:
        batch.drop_column('skipped_at')
