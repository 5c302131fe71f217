"""security: counted-view gate on the resume row, per-user session version, remember-me tokens

- play_history.last_counted_at: the start of the viewer's latest counted session of the
  video; opening a session decides §6 from this locked row (issue 13, defect 1).
- users.session_version: bumped by sign-out, password change and deactivation; a cookie
  session carries the version it was made with and is refused once it differs (defect 2).
- remember_tokens: random, expiring remember-me tokens, stored as SHA-256 digests (defect 2).
- ix_users_role_is_active: a role change locks the active admins through it (defect 9).
- figure_versions: the figure cache's versions, so an invalidation made while Redis is
  down is not lost (issue 13, faults).
- ad_picks: the ad the server chose for a slot of a session; an ad view must be it (defect 7).

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-30
"""
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = '0003'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('play_history') as batch:
        batch.add_column(sa.Column('last_counted_at', UTC_DATETIME, nullable=True))
    # Sessions counted just before the upgrade still block a repeat (§6: 30 s); older ones cannot.
    cutoff = (datetime.now(UTC) - timedelta(minutes=2)).replace(tzinfo=None)
    op.execute(sa.text(
        "UPDATE play_history SET last_counted_at = ("
        " SELECT MAX(ps.started_at) FROM play_sessions ps"
        " WHERE ps.viewer_id = play_history.viewer_id AND ps.video_id = play_history.video_id"
        " AND ps.counted = 1 AND ps.started_at >= :cutoff)"
        " WHERE updated_at >= :cutoff"
    ).bindparams(cutoff=cutoff))
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))
    op.create_index(op.f('ix_users_role_is_active'), 'users', ['role', 'is_active'], unique=False)
    op.create_table('remember_tokens',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('user_id', BIG_ID, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('expires_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_remember_tokens_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remember_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_remember_tokens_token_hash')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_remember_tokens_user_id'), 'remember_tokens', ['user_id'], unique=False)
    op.create_table('ad_picks',
    sa.Column('session_id', BIG_ID, nullable=False),
    sa.Column('slot_index', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('ad_id', BIG_ID, nullable=False),
    sa.Column('picked_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['ad_id'], ['ads.id'], name=op.f('fk_ad_picks_ad_id_ads')),
    sa.ForeignKeyConstraint(['session_id'], ['play_sessions.id'], name=op.f('fk_ad_picks_session_id_play_sessions'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'slot_index', name=op.f('pk_ad_picks')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )


    op.create_table('figure_versions',
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_figure_versions')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )


def downgrade() -> None:
    op.drop_table('figure_versions')
    op.drop_table('ad_picks')
    op.drop_table('remember_tokens')
    op.drop_index(op.f('ix_users_role_is_active'), table_name='users')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_version')
    with op.batch_alter_table('play_history') as batch:
        batch.drop_column('last_counted_at')
