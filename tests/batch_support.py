"""Helpers for the batch pipeline tests: scratch databases on both backends, inserting raw
events, an independent reference computation in plain Python, and table snapshots."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select, text

from jobs.engine import engine_for
from models import (
    Ad,
    AdView,
    BatchPartition,
    BatchRun,
    PlayHistory,
    PlaySession,
    PricePlan,
    PriceTier,
    TopVideo,
    User,
    Video,
    VideoDailySettlement,
    VideoDailyStats,
    VideoPeriodStats,
)
from models.business_time import month_range, week_range
from models.figures.rankings import top_videos
from models.figures.retention import VideoDailyRetention, VideoPeriodRetention
from models.figures.tables import Metric, PeriodKind
from paysystem import migrate
from settings import Settings
from tests.support import (
    TEST_SECRET,
    drop_mysql_database,
    migrated_mysql_database,
    migrated_sqlite_database,
)

SEOUL_OFFSET = timedelta(hours=9)
DEFAULT_TIERS = [(1, 100_000, 10_000, 100_000), (100_001, 500_000, 11_000, 120_000),
                 (500_001, 1_000_000, 13_000, 150_000), (1_000_001, None, 15_000, 200_000)]


class Backend:
    """A migrated scratch database (MariaDB or SQLite) the test may fill and empty at will."""

    def __init__(self, kind: str, redis_url: str, tmp: Path, url: str | None = None, **overrides) -> None:
        self.kind = kind
        if url is not None:  # a database the caller made (and drops)
            self.kind, self.url = "given", url
            migrate.upgrade(self.url)
        elif kind == "mariadb":
            self.url = migrated_mysql_database("paysystem_batch")
        else:
            self.url = migrated_sqlite_database(tmp / "batch.db")
        self.settings = Settings(**{"environment": "test", "database_url": self.url, "redis_url": redis_url,
                                    "secret_key": TEST_SECRET, "batch_partitions": 3, "batch_retries": 0,
                                    "batch_lock_wait_seconds": 2, **overrides}).validate()
        self.engine: Engine = engine_for(self.url)

    def with_settings(self, **changes) -> Settings:
        from dataclasses import replace

        return replace(self.settings, **changes)

    def reset(self) -> None:
        """Empty every table the tests fill, keeping the default price plan (id 1)."""
        with self.engine.begin() as conn:
            for model in (TopVideo, VideoPeriodStats, VideoDailySettlement, VideoDailyStats, VideoDailyRetention,
                          VideoPeriodRetention,
                          BatchPartition, BatchRun, AdView, PlaySession, PlayHistory, Video, Ad):
                conn.execute(delete(model))
            conn.execute(delete(PriceTier).where(PriceTier.plan_id != 1))
            conn.execute(delete(PricePlan).where(PricePlan.id != 1))
            conn.execute(delete(User))

    def close(self) -> None:
        self.engine.dispose()
        if self.kind == "mariadb":
            drop_mysql_database(self.url)


@dataclass
class World:
    """Raw events as the test created them: the input of both the pipeline and the reference."""

    sellers: dict[int, int] = field(default_factory=dict)  # video id -> seller id
    sessions: list[dict] = field(default_factory=list)
    ad_views: list[dict] = field(default_factory=list)
    plans: list[tuple[date, str, list[tuple[int, int | None, int, int]]]] = field(
        default_factory=lambda: [(date(2000, 1, 1), "daily", DEFAULT_TIERS)])


def started_at(day: date, second: int) -> datetime:
    """An instant `second` seconds into business day `day` (Asia/Seoul, UTC+9, no DST)."""
    return datetime.combine(day, time.min, tzinfo=UTC) - SEOUL_OFFSET + timedelta(seconds=second)


def add_users_and_videos(engine: Engine, world: World, sellers: int, videos: int) -> tuple[list[int], int]:
    """Sellers, one viewer, and `videos` videos owned round-robin; returns (video ids, viewer id)."""
    with engine.begin() as conn:
        ids = []
        for i in range(sellers + 1):
            ids.append(conn.execute(insert(User).values(
                email=f"batch-{i}-{id(world)}@example.test", display_name=f"u{i}",
                role="seller" if i < sellers else "viewer", is_active=True,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
                email_verified_at=datetime(2026, 1, 1, tzinfo=UTC))).inserted_primary_key[0])
        seller_ids, viewer = ids[:sellers], ids[-1]
        video_ids = []
        for i in range(videos):
            seller = seller_ids[i % sellers]
            vid = conn.execute(insert(Video).values(
                seller_id=seller, title=f"v{i}", description="", media_path="x.webm", content_type="video/webm",
                size_bytes=1, duration_seconds=1200, is_published=True,
                created_at=datetime(2026, 1, 1, tzinfo=UTC))).inserted_primary_key[0]
            world.sellers[vid] = seller
            video_ids.append(vid)
    return video_ids, viewer


def add_sessions(engine: Engine, world: World, rows: list[dict], ads_per_session: list[int]) -> None:
    """Insert play sessions (dicts with video_id, viewer_id, day, second, watch_ms, reason) and
    `ads_per_session[i]` ad views for session i."""
    if not rows:
        return
    with engine.begin() as conn:
        ad_id = conn.execute(text("SELECT MIN(id) FROM ads")).scalar()
        if ad_id is None:
            ad_id = conn.execute(insert(Ad).values(
                title="ad", media_path="a.webm", content_type="video/webm", size_bytes=1, duration_seconds=5,
                is_active=True, impressions=0, created_at=datetime(2026, 1, 1, tzinfo=UTC))).inserted_primary_key[0]
        lengths = dict(conn.execute(select(Video.id, Video.duration_seconds * 1000)).all())
        for row, ads in zip(rows, ads_per_session, strict=True):
            start = started_at(row["day"], row["second"])
            reason = row.get("reason")
            values = dict(viewer_id=row["viewer_id"], video_id=row["video_id"], day=row["day"], started_at=start,
                          last_report_at=start, last_position_ms=row["watch_ms"],
                          furthest_position_ms=row["watch_ms"], watch_ms=row["watch_ms"],
                          length_ms=lengths[row["video_id"]], counted=reason is None, reject_reason=reason,
                          updated_at=row.get("updated_at", start))
            session_id = conn.execute(insert(PlaySession).values(**values)).inserted_primary_key[0]
            world.sessions.append({**values, "id": session_id})
            for slot in range(ads):
                conn.execute(insert(AdView).values(session_id=session_id, video_id=row["video_id"], day=row["day"],
                                                   counted=values["counted"], slot_index=slot, ad_id=ad_id,
                                                   viewed_at=start))
                world.ad_views.append({"session_id": session_id, "video_id": row["video_id"], "day": row["day"]})


def add_plan(engine: Engine, world: World, effective: date, basis: str,
             tiers: list[tuple[int, int | None, int, int]]) -> None:
    with engine.begin() as conn:
        plan_id = conn.execute(insert(PricePlan).values(
            name=f"plan {effective}", basis=basis, effective_from=effective,
            created_at=datetime(2026, 1, 1, tzinfo=UTC))).inserted_primary_key[0]
        for position, (lo, hi, view_rate, ad_rate) in enumerate(tiers, start=1):
            conn.execute(insert(PriceTier).values(plan_id=plan_id, position=position, from_unit=lo, to_unit=hi,
                                                  view_rate_e4=view_rate, ad_rate_e4=ad_rate))
    world.plans.append((effective, basis, tiers))
    world.plans.sort()


# ------------------------------------------------------------------ the independent reference


def priced(units: int, before: int, tiers: list[tuple[int, int | None, int, int]], ad: bool) -> int:
    """Straightforward §9: walk the units' numbers bracket by bracket."""
    total = 0
    for lo, hi, view_rate, ad_rate in tiers:
        rate = ad_rate if ad else view_rate
        first = max(lo, before + 1)
        last = before + units if hi is None else min(hi, before + units)
        if last >= first:
            total += (last - first + 1) * rate // 10_000
    return total


def reference(world: World, days_run: set[date], plan_ids: dict[date, int]) -> dict[str, list[tuple]]:
    """What the tables must hold after the days in `days_run` were computed, from the raw rows."""
    counted_sessions = {s["id"] for s in world.sessions if s["counted"]}
    daily: dict[tuple[int, date], list[int]] = {}
    for s in world.sessions:
        if s["day"] not in days_run:
            continue
        fig = daily.setdefault((s["video_id"], s["day"]), [0, 0, 0, 0, 0])
        if s["counted"]:
            fig[0] += 1
            fig[1] += s["watch_ms"]
        elif s["reject_reason"] == "own_video":
            fig[3] += 1
        else:
            fig[4] += 1
    for a in world.ad_views:
        if a["day"] in days_run and a["session_id"] in counted_sessions:
            daily[(a["video_id"], a["day"])][2] += 1

    stats, settlements = [], []
    running: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (vid, day) in sorted(daily, key=lambda k: (k[1], k[0])):
        views, watch_ms, ads, own, repeat = daily[(vid, day)]
        watch = watch_ms // 1000
        before = running[vid][:]
        running[vid] = [before[0] + views, before[1] + watch, before[2] + ads]
        stats.append((day, vid, world.sellers[vid], views, watch, ads, own, repeat, *running[vid]))
        effective, basis, tiers = [p for p in world.plans if p[0] <= day][-1]
        vb, ab = (before[0], before[2]) if basis == "lifetime" else (0, 0)
        va, aa = priced(views, vb, tiers, False), priced(ads, ab, tiers, True)
        settlements.append((day, vid, world.sellers[vid], plan_ids[effective], basis, views, ads, vb, ab, va, aa, va + aa))

    periods: dict[tuple[str, date, int], list[int]] = {}
    for row, money in zip(stats, settlements, strict=True):
        day, vid = row[0], row[1]
        for kind, (start, _) in (("week", week_range(day)), ("month", month_range(day))):
            acc = periods.setdefault((kind, start, vid), [0, 0, 0, 0, 0])
            for i, value in enumerate((row[3], row[4], row[5], money[9], money[10])):
                acc[i] += value

    tops, seller_tops = [], []
    for kind, start, (metric, seller), ranked in rankings(stats, periods, world.sellers):
        rows = [(rank, vid, value) for rank, (vid, value) in enumerate(ranked, 1)]
        if seller is None:
            tops.extend((kind, start, metric, *row) for row in rows)
        else:
            seller_tops.extend((kind, start, metric, seller, *row) for row in rows)
    return {"stats": sorted(stats), "settlements": sorted(settlements),
            "periods": sorted((kind, start, vid, world.sellers[vid], *acc) for (kind, start, vid), acc in periods.items()),
            "top": sorted(tops), "seller_top": sorted(seller_tops)}


def rankings(stats: list[tuple], periods: dict[tuple[str, date, int], list[int]], sellers: dict[int, int]):
    """Every Top-5 (§8) of the reference: (kind, start, (metric, seller or None), [(video, value)…])."""
    scopes: dict[tuple[str, date], dict[int, tuple[int, int]]] = defaultdict(dict)
    for row in stats:
        scopes[("day", row[0])][row[1]] = (row[3], row[4])
    for (kind, start, vid), acc in periods.items():
        scopes[(kind, start)][vid] = (acc[0], acc[1])
    for (kind, start), values in scopes.items():
        for m, metric in enumerate(("views", "watch_seconds")):
            ranked = sorted(((vid, v[m]) for vid, v in values.items() if v[m] > 0), key=lambda x: (-x[1], x[0]))
            yield kind, start, (metric, None), ranked[:5]
            for seller in set(sellers.values()):
                own = [item for item in ranked if sellers[item[0]] == seller]
                yield kind, start, (metric, seller), own[:5]


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """The pipeline's output tables as sorted plain tuples (dates as dates, enums as strings)."""
    def rows(model, columns):  # type: ignore[no-untyped-def]
        with engine.connect() as conn:
            result = conn.execute(select(*[getattr(model, c) for c in columns])).all()
        return sorted(tuple(v.value if hasattr(v, "value") else v for v in r) for r in result)

    return {
        "seller_top": seller_rankings(engine),
        "stats": rows(VideoDailyStats, ["day", "video_id", "seller_id", "views", "watch_seconds", "ad_views",
                                        "rejected_own_video", "rejected_repeat", "cum_views", "cum_watch_seconds",
                                        "cum_ad_views"]),
        "settlements": rows(VideoDailySettlement, ["day", "video_id", "seller_id", "plan_id", "basis", "views",
                                                   "ad_views", "views_before", "ad_views_before", "video_amount",
                                                   "ad_amount", "total_amount"]),
        "periods": rows(VideoPeriodStats, ["period", "period_start", "video_id", "seller_id",
                                           "views", "watch_seconds", "ad_views", "video_amount", "ad_amount"]),
        "top": rows(TopVideo, ["period", "period_start", "metric", "rank", "video_id", "value"]),
    }


def seller_rankings(engine: Engine) -> list[tuple]:
    """Every seller's Top-5 of every computed day, week and month, read through models.figures.rankings."""
    with engine.connect() as conn:
        sellers = sorted(set(conn.execute(select(Video.seller_id)).scalars()))
        scopes = [("day", d) for d in conn.execute(select(VideoDailyStats.day).distinct()).scalars()]
        scopes += [(p.value, s) for p, s in conn.execute(
            select(VideoPeriodStats.period, VideoPeriodStats.period_start).distinct())]
        found = []
        for kind, start in scopes:
            for metric in Metric:
                for seller in sellers:
                    found.extend((kind, start, metric.value, seller, r.rank, r.video_id, r.value)
                                 for r in top_videos(conn, PeriodKind(kind), start, metric, seller))
    return sorted(found)


def plan_ids(engine: Engine) -> dict[date, int]:
    with engine.connect() as conn:
        return {r.effective_from: r.id for r in conn.execute(select(PricePlan.id, PricePlan.effective_from))}


DAY0 = date(2026, 3, 2)  # a Monday; the tests' days span two ISO weeks and two months


def busy_world(backend: Backend, days: int = 4, lifetime: bool = False, sessions: int = 150) -> World:
    """Seven videos of two sellers with random sessions and ad views over `days` days from DAY0."""
    import random

    world = World()
    videos, viewer = add_users_and_videos(backend.engine, world, 2, 7)
    if lifetime:
        add_plan(backend.engine, world, DAY0, "lifetime",
                 [(1, 3, 10_000, 100_000), (4, 8, 11_000, 120_000), (9, None, 15_000, 200_000)])
    rng = random.Random(5)
    rows = [dict(video_id=rng.choice(videos), viewer_id=viewer, day=DAY0 + timedelta(days=rng.randrange(days)),
                 second=rng.randrange(86_400), watch_ms=rng.randrange(2_000_000),
                 reason=rng.choice([None, None, None, "own_video", "repeat_within_30s"]))
            for _ in range(sessions)]
    add_sessions(backend.engine, world, rows, [rng.randrange(4) for _ in rows])
    return world


def world_from_db(engine: Engine) -> World:
    """The raw events as stored (for data the generator wrote), for the reference computation."""
    world = World()
    with engine.connect() as conn:
        world.sellers = dict(conn.execute(select(Video.id, Video.seller_id)).all())
        world.sessions = [dict(r._mapping) for r in conn.execute(select(
            PlaySession.id, PlaySession.video_id, PlaySession.day, PlaySession.counted, PlaySession.reject_reason,
            PlaySession.watch_ms))]
        for s in world.sessions:
            s["reject_reason"] = s["reject_reason"].value if s["reject_reason"] else None
        world.ad_views = [dict(r._mapping) for r in conn.execute(select(AdView.session_id, AdView.video_id, AdView.day))]
    return world


def every_kind_of_session(backend: Backend, day: date) -> tuple[World, list[int], int, int]:
    """Every kind of raw event of `day` (and two sessions of the day before):
    counted sessions whose credited milliseconds only add up to a whole second together,
    own-video and repeat-within-30 s sessions with watch time and ad views, a video with
    filtered sessions only (c), and another seller's video (b). Video a is issue 24's case:
    5 sessions started, 2 counted (3.2 s of credited watch time), 2 own-video, 1 repeat.
    Returns the world, the video ids (a, b, c), a's seller and the viewer."""
    world = World()
    (a, b, c), viewer = add_users_and_videos(backend.engine, world, 2, 3)  # a and c: one seller's
    owner = world.sellers[a]
    rows = [  # (video, viewer, day, second, watch_ms, reason, ad views)
        (a, viewer, day, 10, 1_500, None, 2),
        (a, viewer, day, 20, 700, "repeat_within_30s", 1),
        (a, viewer, day, 100, 1_700, None, 1),
        (a, owner, day, 200, 50_000, "own_video", 2),
        (a, owner, day, 300, 1_000, "own_video", 0),
        (c, owner, day, 400, 5_000, "own_video", 1),
        (b, viewer, day, 50, 10_000, None, 1),
        (b, viewer, day, 60, 3_000, "repeat_within_30s", 2),
        (a, viewer, day - timedelta(days=1), 10, 2_000, None, 1),
        (a, viewer, day - timedelta(days=1), 15, 2_000, "repeat_within_30s", 1),
    ]
    add_sessions(backend.engine, world, [dict(video_id=v, viewer_id=u, day=d, second=s, watch_ms=w, reason=r)
                                         for v, u, d, s, w, r, _ in rows], [n for *_, n in rows])
    return world, [a, b, c], owner, viewer
