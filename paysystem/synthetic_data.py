"""Synthetic activity for benchmarks and load tests: users, videos, ads, play sessions, ad views.

Rows are produced day by day (bounded memory) with explicit ids in key order, so the
database appends to its clustered indexes instead of splitting pages, and loaded with
LOAD DATA LOCAL INFILE on MariaDB/MySQL (a background thread loads one day while the
next is generated) or with multi-row INSERTs on SQLite. The same seed on the same
database state gives the same rows.

Some secondary keys of the event tables cannot follow the load order (by viewer, by
video): with a buffer pool smaller than the tables, inserting into them at random places
costs a disk read per row and made a 3M + 3M load take five minutes. So when the event
tables start empty on MariaDB/MySQL, those keys (and the foreign keys that need them) are
dropped for the load and rebuilt afterwards in one sorted pass each, exactly as
`SHOW CREATE TABLE` had them — also when the load fails.

The sessions follow the §6 shape: about 2 % are sellers watching their own video
(`own_video`), about 2 % are a reload a few seconds after a counted view
(`repeat_within_30s`); ad views only at slots the session reached (§5).
"""

from __future__ import annotations

import itertools
import queue
import random
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, text

from models.business_time import days_between

EMAIL_DOMAIN = "synthetic.paysystem.test"
NULL = r"\N"
SLOT_MS = 300_000
OWN_SHARE = 0.02
REPEAT_SHARE = 0.02
ADS = 20


class GenerateError(RuntimeError):
    """The data cannot be generated as asked; the message says why."""


@dataclass(frozen=True)
class GenerateSpec:
    videos: int
    sellers: int
    viewers: int
    days: int
    sessions: int
    ad_views: int
    seed: int
    last_day: date

    @property
    def first_day(self) -> date:
        return self.last_day - timedelta(days=self.days - 1)

    def validate(self) -> GenerateSpec:
        for name in ("videos", "sellers", "viewers", "days"):
            if getattr(self, name) < 1:
                raise GenerateError(f"--{name} must be at least 1")
        if self.sessions < 0 or self.ad_views < 0:
            raise GenerateError("--sessions and --ad-views cannot be negative")
        if self.ad_views and not self.sessions:
            raise GenerateError("ad views need play sessions to belong to")
        return self


@dataclass
class GenerateResult:
    users: int = 0
    videos: int = 0
    sessions: int = 0
    ad_views: int = 0
    first_day: date | None = None
    last_day: date | None = None


def _next_id(conn: Connection, table: str) -> int:
    return int(conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar() or 0) + 1


def _epoch_ms(day: date, tz: ZoneInfo) -> int:
    return int(datetime.combine(day, time.min, tzinfo=tz).timestamp() * 1000)


class _Writer:
    """Where rows go: LOAD DATA (MariaDB/MySQL) or executemany (SQLite). Times are epoch ms."""

    COLUMNS = {
        "users": ["id", "email", "password_hash", "display_name", "role", "is_active", "created_at", "last_login_at"],
        "videos": ["id", "seller_id", "title", "description", "media_path", "content_type", "size_bytes",
                   "duration_seconds", "is_published", "created_at"],
        "ad_slots": ["video_id", "slot_index", "position_seconds"],
        "ads": ["id", "title", "media_path", "content_type", "size_bytes", "duration_seconds", "is_active",
                "impressions", "created_by", "created_at"],
        "play_sessions": ["id", "viewer_id", "video_id", "day", "started_at", "last_report_at", "last_position_ms",
                          "furthest_position_ms", "watch_ms", "counted", "reject_reason", "ended_at", "updated_at",
                          "length_ms"],
        "ad_views": ["id", "session_id", "video_id", "day", "counted", "slot_index", "ad_id", "viewed_at"],
    }
    TIMES = {"created_at", "last_login_at", "started_at", "last_report_at", "ended_at", "updated_at", "viewed_at"}

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.mysql = engine.dialect.name in ("mysql", "mariadb")
        self.tmpdir = tempfile.TemporaryDirectory(prefix="paysystem-generate-")
        self.files = itertools.count()
        self.errors: list[BaseException] = []
        self.queue: queue.Queue[tuple[str, Path, int] | None] = queue.Queue(maxsize=2)
        self.thread: threading.Thread | None = None
        if self.mysql:
            with engine.connect() as conn:
                allowed = conn.execute(text("SELECT @@GLOBAL.local_infile")).scalar()
            if str(allowed) not in ("1", "ON"):
                raise GenerateError(
                    "the database server does not allow LOAD DATA LOCAL INFILE (local_infile is OFF); "
                    "enable it with `SET GLOBAL local_infile = 1` (or local_infile=1 in the server's config)"
                )
            self.thread = threading.Thread(target=self._load_loop, name="generate-loader", daemon=True)
            self.thread.start()

    # --- MariaDB / MySQL: CSV files loaded in key order by a background thread
    def _load_loop(self) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SET SESSION foreign_key_checks = 0, unique_checks = 0")
            while (item := self.queue.get()) is not None:
                if self.errors:
                    continue
                table, path, expected = item
                try:
                    self._load_file(conn, table, path, expected)
                    conn.commit()
                except BaseException as exc:  # reported by close()
                    conn.rollback()
                    self.errors.append(exc)
                finally:
                    path.unlink(missing_ok=True)
            conn.exec_driver_sql("SET SESSION foreign_key_checks = 1, unique_checks = 1")

    def _load_file(self, conn: Connection, table: str, path: Path, expected: int) -> None:
        targets, sets = [], []
        for column in self.COLUMNS[table]:
            if column in self.TIMES:
                targets.append(f"@{column}")
                sets.append(f"{column} = FROM_UNIXTIME(@{column} / 1000)")
            else:
                targets.append(column)
        sql = (
            f"LOAD DATA LOCAL INFILE '{path.as_posix()}' INTO TABLE {table} CHARACTER SET utf8mb4 "
            "FIELDS TERMINATED BY ',' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' "
            f"({', '.join(targets)})" + (f" SET {', '.join(sets)}" if sets else "")
        )
        loaded = conn.exec_driver_sql(sql).rowcount
        if loaded != expected:
            # LOAD DATA LOCAL turns bad rows into warnings and skips them: never accept a partial load.
            warnings = conn.exec_driver_sql("SHOW WARNINGS LIMIT 3").all()
            raise GenerateError(f"{table}: loaded {loaded} of {expected} rows; first warnings: {warnings}")

    def write(self, table: str, rows: list[tuple]) -> None:
        if not rows:
            return
        if self.errors:
            raise GenerateError(f"loading failed: {self.errors[0]}") from self.errors[0]
        if self.mysql:
            path = Path(self.tmpdir.name) / f"{next(self.files):06d}-{table}.csv"
            # Generated values never contain commas, quotes or backslashes; \\N is LOAD DATA's NULL.
            with path.open("w", encoding="utf-8") as handle:
                handle.write("\n".join([",".join(map(str, row)) for row in rows]))
                handle.write("\n")
            self.queue.put((table, path, len(rows)))
            return
        columns = self.COLUMNS[table]
        values = []
        for column in columns:
            if column in self.TIMES:
                # SQLAlchemy's SQLite DateTime format, microseconds included.
                values.append(
                    "CASE WHEN ? IS NULL THEN NULL ELSE strftime('%Y-%m-%d %H:%M:%S', ? / 1000, 'unixepoch') "
                    "|| '.' || printf('%06d', (? % 1000) * 1000) END"
                )
            else:
                values.append("?")
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)})"
        times = [column in self.TIMES for column in columns]
        params = [
            tuple(itertools.chain.from_iterable(
                (None if v == NULL else v,) * (3 if is_time else 1) for v, is_time in zip(row, times, strict=True)
            ))
            for row in rows
        ]
        with self.engine.begin() as conn:
            conn.exec_driver_sql(sql, params)

    def close(self) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
        self.tmpdir.cleanup()
        if self.errors:
            raise GenerateError(f"loading failed: {self.errors[0]}") from self.errors[0]


# Columns whose keys are in random order relative to the load: deferred on an empty table.
_DEFERRED_COLUMNS = {"play_sessions": ("viewer_id", "video_id"), "ad_views": ("video_id",)}
_KEY_LINE = re.compile(r"^\s*(KEY|CONSTRAINT) `([^`]+)` (.*?),?$")


@dataclass
class _DeferredKeys:
    table: str
    keys: list[tuple[str, str]]  # (name, definition after the name)
    foreign_keys: list[tuple[str, str]]


def _keys_to_defer(conn: Connection, table: str) -> _DeferredKeys:
    """The plain keys led by a deferred column and the foreign keys on those columns."""
    create = conn.exec_driver_sql(f"SHOW CREATE TABLE {table}").one()[1]
    columns = _DEFERRED_COLUMNS[table]
    deferred = _DeferredKeys(table, [], [])
    for line in create.splitlines():
        match = _KEY_LINE.match(line)
        if not match:
            continue
        kind, name, rest = match.groups()
        if kind == "KEY" and any(rest.startswith(f"(`{c}`") for c in columns):
            deferred.keys.append((name, rest))
        elif kind == "CONSTRAINT" and any(rest.startswith(f"FOREIGN KEY (`{c}`)") for c in columns):
            deferred.foreign_keys.append((name, rest))
    return deferred


def _defer_keys(engine: Engine, dropped: list[_DeferredKeys]) -> None:
    """Drop the random-order keys of the event tables if they are empty, noting in `dropped`
    each table's as soon as they are gone, so a failure half-way still restores them."""
    if engine.dialect.name not in ("mysql", "mariadb"):
        return
    with engine.connect() as conn:
        if any(conn.execute(text(f"SELECT 1 FROM {t} LIMIT 1")).first() for t in _DEFERRED_COLUMNS):
            return
        for table in _DEFERRED_COLUMNS:
            keys = _keys_to_defer(conn, table)
            drops = [f"DROP FOREIGN KEY `{n}`" for n, _ in keys.foreign_keys]
            drops += [f"DROP KEY `{n}`" for n, _ in keys.keys]
            if drops:
                conn.exec_driver_sql(f"ALTER TABLE {table} " + ", ".join(drops))
                dropped.append(keys)


def _restore_keys(engine: Engine, dropped: list[_DeferredKeys]) -> None:
    """Rebuild the deferred keys; the loaded rows are consistent, so foreign keys are not re-checked."""
    with engine.connect() as conn:
        conn.exec_driver_sql("SET SESSION foreign_key_checks = 0")
        for keys in dropped:
            adds = [f"ADD KEY `{n}` {d}" for n, d in keys.keys]
            adds += [f"ADD CONSTRAINT `{n}` {d}" for n, d in keys.foreign_keys]
            conn.exec_driver_sql(f"ALTER TABLE {keys.table} " + ", ".join(adds))
        conn.exec_driver_sql("SET SESSION foreign_key_checks = 1")


def generate(engine: Engine, spec: GenerateSpec, tz: ZoneInfo,
             progress: Callable[[str, int], None] | None = None) -> GenerateResult:
    """Create the users, videos, ads, play sessions and ad views described by `spec`."""
    spec.validate()
    rng = random.Random(spec.seed)
    rnd = rng.random  # one C call per number: randrange/randint cost 5x more in Python
    marker = f"gen{spec.seed}-seller-1@{EMAIL_DOMAIN}"
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM users WHERE email = :e"), {"e": marker}).first():
            raise GenerateError(f"synthetic data of seed {spec.seed} is already in this database; use another --seed")
        next_user, next_video = _next_id(conn, "users"), _next_id(conn, "videos")
        next_ad, next_session, next_view = _next_id(conn, "ads"), _next_id(conn, "play_sessions"), _next_id(conn, "ad_views")
    result = GenerateResult(first_day=spec.first_day, last_day=spec.last_day)
    created_ms = _epoch_ms(spec.first_day - timedelta(days=7), tz)
    writer = _Writer(engine)
    deferred: list[_DeferredKeys] = []
    try:
        _defer_keys(engine, deferred)
        seller_ids = list(range(next_user, next_user + spec.sellers))
        viewer_lo = next_user + spec.sellers
        users = [(uid, f"gen{spec.seed}-seller-{i + 1}@{EMAIL_DOMAIN}", NULL, f"Seller {i + 1}", "seller", 1,
                  created_ms, NULL) for i, uid in enumerate(seller_ids)]
        users += [(viewer_lo + i, f"gen{spec.seed}-viewer-{i + 1}@{EMAIL_DOMAIN}", NULL, f"Viewer {i + 1}", "viewer",
                   1, created_ms, NULL) for i in range(spec.viewers)]
        writer.write("users", users)
        result.users = len(users)

        video_ids = list(range(next_video, next_video + spec.videos))
        owner = {vid: rng.choice(seller_ids) for vid in video_ids}
        duration = {vid: rng.randint(60, 3600) for vid in video_ids}
        writer.write("videos", [
            (vid, owner[vid], f"Synthetic video {vid}", "", f"synthetic/{vid}.webm", "video/webm",
             duration[vid] * 250_000, duration[vid], 1, created_ms) for vid in video_ids
        ])
        writer.write("ad_slots", [(vid, i, i * 300) for vid in video_ids for i in range(duration[vid] // 300)])
        ad_ids = list(range(next_ad, next_ad + ADS))
        writer.write("ads", [(aid, f"Synthetic ad {aid}", f"synthetic/ad-{aid}.webm", "video/webm", 1_000_000,
                              15, 1, 0, NULL, created_ms) for aid in ad_ids])
        result.videos = len(video_ids)
        if progress:
            progress("catalog", len(users) + len(video_ids))

        # Popularity: a long tail (Zipf-like), shuffled so popular videos are spread over id ranges.
        popular = video_ids[:]
        rng.shuffle(popular)
        cum_weights = list(itertools.accumulate(1.0 / (rank + 1) ** 0.8 for rank in range(len(popular))))
        days = days_between(spec.first_day, spec.last_day)
        per_day = [spec.sessions // len(days) + (1 if i < spec.sessions % len(days) else 0) for i in range(len(days))]
        ad_budget = spec.ad_views
        session_id, view_id = next_session, next_view
        for index, (day, count) in enumerate(zip(days, per_day, strict=True)):
            base = _epoch_ms(day, tz)
            day_str = day.isoformat()
            planned: list[tuple[int, int, int, str | None]] = []
            chosen = rng.choices(popular, cum_weights=cum_weights, k=count)
            n = 0
            while n < count:
                vid = chosen[n]
                started = base + int(rnd() * (86_400_000 - 60_000))
                roll = rnd()
                if roll < OWN_SHARE:
                    planned.append((started, owner[vid], vid, "own_video"))
                    n += 1
                    continue
                viewer = viewer_lo + int(rnd() * spec.viewers)
                planned.append((started, viewer, vid, None))
                n += 1
                if roll < OWN_SHARE + REPEAT_SHARE and n < count:
                    planned.append((started + 2_000 + int(rnd() * 23_000), viewer, vid, "repeat_within_30s"))
                    n += 1
            planned.sort()
            sessions, views = [], []
            rows = []
            for started, viewer, vid, reason in planned:
                watch = 1_000 + int(rnd() * (duration[vid] * 1000 - 1_000))
                reachable = min(duration[vid] // 300, watch // SLOT_MS + 1)
                rows.append((started, viewer, vid, reason, watch, reachable))
            # This day's share of the ad views still to place, spread over the sessions that reached a slot.
            day_ads = ad_budget if index == len(days) - 1 else min(ad_budget, round(ad_budget / (len(days) - index)))
            with_slots = sum(1 for row in rows if row[5])
            rate = day_ads / with_slots if with_slots else 0.0
            for started, viewer, vid, reason, watch, reachable in rows:
                ended = started + watch + int(rnd() * 3_000)
                full = watch == duration[vid] * 1000
                sessions.append((session_id, viewer, vid, day_str, started, ended, watch, watch, watch,
                                 0 if reason else 1, reason or NULL, ended if full else NULL, ended,
                                 duration[vid] * 1000))
                if reachable and day_ads > 0:
                    whole = int(rate)
                    take = min(reachable, day_ads, whole + (1 if rnd() < rate - whole else 0))
                    for slot in range(take):
                        views.append((view_id, session_id, vid, day_str, 0 if reason else 1, slot, ad_ids[view_id % ADS],
                                      started + slot * SLOT_MS))
                        view_id += 1
                    day_ads -= take
                    ad_budget -= take
                session_id += 1
            writer.write("play_sessions", sessions)
            writer.write("ad_views", views)
            result.sessions += len(sessions)
            result.ad_views += len(views)
            if progress:
                progress(day_str, len(sessions) + len(views))
    finally:
        try:
            writer.close()
        finally:
            if deferred:
                _restore_keys(engine, deferred)
    return result


def default_last_day(tz: ZoneInfo) -> date:
    """Yesterday in business time: the latest day the batch may compute."""
    return datetime.now(UTC).astimezone(tz).date() - timedelta(days=1)
