"""play sessions keep their retention reach and bucket (issue 22, the nightly step's cost)

- play_sessions.length_ms: the video's length when the session opened (filled here from videos;
  a video's length is fixed at upload). No default: every writer gives it.
- play_sessions.reach_ms, reach_bucket: generated (STORED) columns, the audience-retention rule of
  models/figures/retention.py (`reach_sql`, `bucket_sql`) kept by the database on every write.
- ix_play_sessions_day_batch becomes (day, video_id, counted, reach_bucket, reject_reason,
  watch_ms, reach_ms): the batch's day-figures pass reads it as before, and the retention step's
  GROUP BY (video, bucket) streams in index order, with no temporary table and no join to videos
  (bench.retention_step: the histogram SELECT 100 → 60 ms of server CPU per 100,000-session day).

On MariaDB/MySQL this is one table rebuild after an instant column add and an UPDATE. SQLite
cannot add a STORED column to a table: there the two are VIRTUAL (computed when read; the index
holds them either way).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rule's SQL as models/figures/retention.py spells it today (a migration does not import
# the models it may outlive).
_REACH = {
    "mysql": "GREATEST(0, LEAST(LEAST(furthest_position_ms, watch_ms), length_ms))",
    "sqlite": "MAX(0, MIN(MIN(furthest_position_ms, watch_ms), length_ms))",
}
_BUCKET = {
    "mysql": f"CASE WHEN length_ms <= 0 THEN 100 ELSE LEAST(100, (({_REACH['mysql']}) * 100) DIV (length_ms)) END",
    "sqlite": f"CASE WHEN length_ms <= 0 THEN 100 ELSE MIN(100, (({_REACH['sqlite']}) * 100) / (length_ms)) END",
}
_INDEX = "ix_play_sessions_day_batch"
_NEW_KEY = ["day", "video_id", "counted", "reach_bucket", "reject_reason", "watch_ms", "reach_ms"]
_OLD_KEY = ["day", "video_id", "counted", "reject_reason", "watch_ms", "furthest_position_ms"]


def upgrade() -> None:
    kind = "sqlite" if op.get_bind().dialect.name == "sqlite" else "mysql"
    op.add_column('play_sessions', sa.Column('length_ms', sa.BigInteger(), nullable=False, server_default='0'))
    if kind == "mysql":
        op.execute("UPDATE play_sessions s JOIN videos v ON v.id = s.video_id "
                   "SET s.length_ms = v.duration_seconds * 1000")
        op.execute(f"""ALTER TABLE play_sessions
            ALTER COLUMN length_ms DROP DEFAULT,
            ADD COLUMN reach_ms BIGINT GENERATED ALWAYS AS ({_REACH[kind]}) STORED,
            ADD COLUMN reach_bucket SMALLINT GENERATED ALWAYS AS ({_BUCKET[kind]}) STORED,
            DROP INDEX {_INDEX},
            ADD INDEX {_INDEX} ({", ".join(_NEW_KEY)})""")
        return
    op.execute("UPDATE play_sessions SET length_ms = "
               "(SELECT v.duration_seconds * 1000 FROM videos v WHERE v.id = play_sessions.video_id)")
    with op.batch_alter_table('play_sessions', recreate='always') as batch:
        batch.alter_column('length_ms', existing_type=sa.BigInteger(), existing_nullable=False, server_default=None)
    op.drop_index(_INDEX, table_name='play_sessions')
    op.execute(f"ALTER TABLE play_sessions ADD COLUMN reach_ms BIGINT GENERATED ALWAYS AS ({_REACH[kind]}) VIRTUAL")
    op.execute(f"ALTER TABLE play_sessions ADD COLUMN reach_bucket SMALLINT "
               f"GENERATED ALWAYS AS ({_BUCKET[kind]}) VIRTUAL")
    op.create_index(_INDEX, 'play_sessions', _NEW_KEY, unique=False)


def downgrade() -> None:
    op.drop_index(_INDEX, table_name='play_sessions')
    for column in ("reach_bucket", "reach_ms", "length_ms"):
        op.execute(f"ALTER TABLE play_sessions DROP COLUMN {column}")
    op.create_index(_INDEX, 'play_sessions', _OLD_KEY, unique=False)
