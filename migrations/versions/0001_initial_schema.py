"""initial schema: accounts, catalog, playback facts, statistics, settlement, batch runs

The column types are spelled out here rather than imported from `models` so this
revision keeps creating the same schema whatever the models become later.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""
from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# Microsecond UTC instants on MySQL/MariaDB; SQLite keeps ISO strings with microseconds.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
# SQLite auto-increments only INTEGER PRIMARY KEY columns.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# §9 default price plan: marginal brackets, rates in ten-thousandths of a won.
DEFAULT_TIERS = [
    # position, from_unit, to_unit, per view, per ad view
    (1, 1, 100_000, 10_000, 100_000),
    (2, 100_001, 500_000, 11_000, 120_000),
    (3, 500_001, 1_000_000, 13_000, 150_000),
    (4, 1_000_001, None, 15_000, 200_000),
]

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('top_videos',
    sa.Column('period', sa.Enum('day', 'week', 'month', name='top_period_kind', native_enum=False, create_constraint=True, length=9), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('metric', sa.Enum('views', 'watch_seconds', name='top_metric', native_enum=False, create_constraint=True, length=17), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('video_id', BIG_ID, nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('period', 'period_start', 'metric', 'rank', name=op.f('pk_top_videos')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('users',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.Enum('viewer', 'seller', 'admin', name='user_role', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('last_login_at', UTC_DATETIME, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('video_daily_stats',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('video_id', BIG_ID, nullable=False),
    sa.Column('seller_id', BIG_ID, nullable=False),
    sa.Column('views', sa.BigInteger(), nullable=False),
    sa.Column('watch_seconds', sa.BigInteger(), nullable=False),
    sa.Column('ad_views', sa.BigInteger(), nullable=False),
    sa.Column('rejected_own_video', sa.BigInteger(), nullable=False),
    sa.Column('rejected_repeat', sa.BigInteger(), nullable=False),
    sa.Column('cum_views', sa.BigInteger(), nullable=False),
    sa.Column('cum_watch_seconds', sa.BigInteger(), nullable=False),
    sa.Column('cum_ad_views', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'video_id', name=op.f('pk_video_daily_stats')),
    sa.UniqueConstraint('video_id', 'day', name=op.f('uq_video_daily_stats_video_id_day')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_video_daily_stats_day_views'), 'video_daily_stats', ['day', 'views'], unique=False)
    op.create_index(op.f('ix_video_daily_stats_day_watch_seconds'), 'video_daily_stats', ['day', 'watch_seconds'], unique=False)
    op.create_index(op.f('ix_video_daily_stats_seller_id_day'), 'video_daily_stats', ['seller_id', 'day'], unique=False)
    op.create_table('video_period_stats',
    sa.Column('period', sa.Enum('week', 'month', name='rollup_period', native_enum=False, create_constraint=True, length=9), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('video_id', BIG_ID, nullable=False),
    sa.Column('seller_id', BIG_ID, nullable=False),
    sa.Column('views', sa.BigInteger(), nullable=False),
    sa.Column('watch_seconds', sa.BigInteger(), nullable=False),
    sa.Column('ad_views', sa.BigInteger(), nullable=False),
    sa.Column('video_amount', sa.BigInteger(), nullable=False),
    sa.Column('ad_amount', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('period', 'period_start', 'video_id', name=op.f('pk_video_period_stats')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_video_period_stats_seller_id_period_period_start'), 'video_period_stats', ['seller_id', 'period', 'period_start'], unique=False)
    op.create_table('ads',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('media_path', sa.String(length=500), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('impressions', sa.BigInteger(), nullable=False),
    sa.Column('created_by', BIG_ID, nullable=True),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_ads_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ads')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_ads_is_active_impressions'), 'ads', ['is_active', 'impressions'], unique=False)
    op.create_table('batch_runs',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('trigger', sa.Enum('nightly', 'manual', 'backfill', name='run_trigger', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'succeeded', 'failed', name='run_state', native_enum=False, create_constraint=True, length=13), nullable=False),
    sa.Column('requested_by', BIG_ID, nullable=True),
    sa.Column('partitions_total', sa.Integer(), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('started_at', UTC_DATETIME, nullable=True),
    sa.Column('finalize_started_at', UTC_DATETIME, nullable=True),
    sa.Column('finished_at', UTC_DATETIME, nullable=True),
    sa.Column('rows_written', sa.BigInteger(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_batch_runs_requested_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_runs')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_batch_runs_day_created_at'), 'batch_runs', ['day', 'created_at'], unique=False)
    op.create_index(op.f('ix_batch_runs_state'), 'batch_runs', ['state'], unique=False)
    op.create_table('price_plans',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('basis', sa.Enum('daily', 'lifetime', name='pricing_basis', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('created_by', BIG_ID, nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_price_plans_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_plans')),
    sa.UniqueConstraint('effective_from', name=op.f('uq_price_plans_effective_from')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('social_identities',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('user_id', BIG_ID, nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_social_identities_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_identities')),
    sa.UniqueConstraint('provider', 'subject', name=op.f('uq_social_identities_provider_subject')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_social_identities_user_id'), 'social_identities', ['user_id'], unique=False)
    op.create_table('videos',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('seller_id', BIG_ID, nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('media_path', sa.String(length=500), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=False),
    sa.Column('is_published', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['users.id'], name=op.f('fk_videos_seller_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_videos')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_videos_is_published_created_at'), 'videos', ['is_published', 'created_at'], unique=False)
    op.create_index(op.f('ix_videos_seller_id_created_at'), 'videos', ['seller_id', 'created_at'], unique=False)
    op.create_table('ad_slots',
    sa.Column('video_id', BIG_ID, nullable=False),
    sa.Column('slot_index', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('position_seconds', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['video_id'], ['videos.id'], name=op.f('fk_ad_slots_video_id_videos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('video_id', 'slot_index', name=op.f('pk_ad_slots')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('batch_partitions',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('run_id', BIG_ID, nullable=False),
    sa.Column('partition_index', sa.Integer(), nullable=False),
    sa.Column('video_id_lo', sa.BigInteger(), nullable=False),
    sa.Column('video_id_hi', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'succeeded', 'failed', name='partition_state', native_enum=False, create_constraint=True, length=13), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=100), nullable=True),
    sa.Column('started_at', UTC_DATETIME, nullable=True),
    sa.Column('finished_at', UTC_DATETIME, nullable=True),
    sa.Column('rows_written', sa.BigInteger(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['batch_runs.id'], name=op.f('fk_batch_partitions_run_id_batch_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_partitions')),
    sa.UniqueConstraint('run_id', 'partition_index', name=op.f('uq_batch_partitions_run_id_partition_index')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_batch_partitions_state'), 'batch_partitions', ['state'], unique=False)
    op.create_table('play_history',
    sa.Column('viewer_id', BIG_ID, nullable=False),
    sa.Column('video_id', BIG_ID, nullable=False),
    sa.Column('last_position_ms', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('PLAY', 'PAUSE', 'END', name='play_status', native_enum=False, create_constraint=True, length=9), nullable=False),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['video_id'], ['videos.id'], name=op.f('fk_play_history_video_id_videos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['viewer_id'], ['users.id'], name=op.f('fk_play_history_viewer_id_users')),
    sa.PrimaryKeyConstraint('viewer_id', 'video_id', name=op.f('pk_play_history')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('play_sessions',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('viewer_id', BIG_ID, nullable=False),
    sa.Column('video_id', BIG_ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('started_at', UTC_DATETIME, nullable=False),
    sa.Column('last_report_at', UTC_DATETIME, nullable=False),
    sa.Column('last_position_ms', sa.BigInteger(), nullable=False),
    sa.Column('furthest_position_ms', sa.BigInteger(), nullable=False),
    sa.Column('watch_ms', sa.BigInteger(), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('reject_reason', sa.Enum('own_video', 'repeat_within_30s', name='reject_reason', native_enum=False, create_constraint=True, length=21), nullable=True),
    sa.Column('ended_at', UTC_DATETIME, nullable=True),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['video_id'], ['videos.id'], name=op.f('fk_play_sessions_video_id_videos')),
    sa.ForeignKeyConstraint(['viewer_id'], ['users.id'], name=op.f('fk_play_sessions_viewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_play_sessions')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_play_sessions_day_updated_at'), 'play_sessions', ['day', 'updated_at'], unique=False)
    op.create_index(op.f('ix_play_sessions_day_video_id_counted_reject_reason_watch_ms'), 'play_sessions', ['day', 'video_id', 'counted', 'reject_reason', 'watch_ms'], unique=False)
    op.create_index(op.f('ix_play_sessions_viewer_id_video_id_started_at'), 'play_sessions', ['viewer_id', 'video_id', 'started_at'], unique=False)
    op.create_table('price_tiers',
    sa.Column('plan_id', BIG_ID, nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('from_unit', sa.BigInteger(), nullable=False),
    sa.Column('to_unit', sa.BigInteger(), nullable=True),
    sa.Column('view_rate_e4', sa.BigInteger(), nullable=False),
    sa.Column('ad_rate_e4', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('from_unit >= 1', name=op.f('ck_price_tiers_from_unit_positive')),
    sa.CheckConstraint('to_unit IS NULL OR to_unit >= from_unit', name=op.f('ck_price_tiers_range_ordered')),
    sa.CheckConstraint('view_rate_e4 >= 0 AND ad_rate_e4 >= 0', name=op.f('ck_price_tiers_rates_non_negative')),
    sa.ForeignKeyConstraint(['plan_id'], ['price_plans.id'], name=op.f('fk_price_tiers_plan_id_price_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plan_id', 'position', name=op.f('pk_price_tiers')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('video_daily_settlements',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('video_id', BIG_ID, nullable=False),
    sa.Column('seller_id', BIG_ID, nullable=False),
    sa.Column('plan_id', BIG_ID, nullable=False),
    sa.Column('basis', sa.Enum('daily', 'lifetime', name='settlement_basis', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('views', sa.BigInteger(), nullable=False),
    sa.Column('ad_views', sa.BigInteger(), nullable=False),
    sa.Column('views_before', sa.BigInteger(), nullable=False),
    sa.Column('ad_views_before', sa.BigInteger(), nullable=False),
    sa.Column('video_amount', sa.BigInteger(), nullable=False),
    sa.Column('ad_amount', sa.BigInteger(), nullable=False),
    sa.Column('total_amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['price_plans.id'], name=op.f('fk_video_daily_settlements_plan_id_price_plans')),
    sa.PrimaryKeyConstraint('day', 'video_id', name=op.f('pk_video_daily_settlements')),
    sa.UniqueConstraint('video_id', 'day', name=op.f('uq_video_daily_settlements_video_id_day')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_video_daily_settlements_seller_id_day'), 'video_daily_settlements', ['seller_id', 'day'], unique=False)
    op.create_table('ad_views',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('session_id', BIG_ID, nullable=False),
    sa.Column('video_id', BIG_ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('slot_index', sa.Integer(), nullable=False),
    sa.Column('ad_id', BIG_ID, nullable=False),
    sa.Column('viewed_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['ad_id'], ['ads.id'], name=op.f('fk_ad_views_ad_id_ads')),
    sa.ForeignKeyConstraint(['session_id'], ['play_sessions.id'], name=op.f('fk_ad_views_session_id_play_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['video_id'], ['videos.id'], name=op.f('fk_ad_views_video_id_videos')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ad_views')),
    sa.UniqueConstraint('session_id', 'slot_index', name=op.f('uq_ad_views_session_id_slot_index')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_ad_views_day_video_id_counted'), 'ad_views', ['day', 'video_id', 'counted'], unique=False)
    _seed_default_price_plan()


def _seed_default_price_plan() -> None:
    """The platform cannot settle a day without a plan in force, so the first one ships here."""
    plans = sa.table(
        "price_plans",
        sa.column("id", sa.BigInteger),
        sa.column("name", sa.String),
        sa.column("basis", sa.String),
        sa.column("effective_from", sa.Date),
        sa.column("created_at", sa.DateTime),
    )
    tiers = sa.table(
        "price_tiers",
        sa.column("plan_id", sa.BigInteger),
        sa.column("position", sa.Integer),
        sa.column("from_unit", sa.BigInteger),
        sa.column("to_unit", sa.BigInteger),
        sa.column("view_rate_e4", sa.BigInteger),
        sa.column("ad_rate_e4", sa.BigInteger),
    )
    op.bulk_insert(
        plans,
        [
            {
                "id": 1,
                "name": "Standard",
                "basis": "daily",
                "effective_from": date(2000, 1, 1),
                "created_at": datetime(2000, 1, 1),
            }
        ],
    )
    op.bulk_insert(
        tiers,
        [
            {"plan_id": 1, "position": p, "from_unit": lo, "to_unit": hi, "view_rate_e4": v, "ad_rate_e4": a}
            for p, lo, hi, v, a in DEFAULT_TIERS
        ],
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; dropping them first trips MySQL's foreign-key checks.
    op.drop_table('ad_views')
    op.drop_table('video_daily_settlements')
    op.drop_table('price_tiers')
    op.drop_table('play_sessions')
    op.drop_table('play_history')
    op.drop_table('batch_partitions')
    op.drop_table('ad_slots')
    op.drop_table('videos')
    op.drop_table('social_identities')
    op.drop_table('price_plans')
    op.drop_table('batch_runs')
    op.drop_table('ads')
    op.drop_table('video_period_stats')
    op.drop_table('video_daily_stats')
    op.drop_table('users')
    op.drop_table('top_videos')
