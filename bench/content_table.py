"""The content table of a seller with 1,000 videos (issue 22): `.venv/bin/python -m bench.content_table`.

Target: p99 < 50 ms cached, for the page and the API.

1. Data: a scratch MariaDB database (bench/dataset.py) with one seller of `--videos` videos
   and `--days` closed days of batch rows for every video (`video_daily_stats` and
   `video_daily_settlements`, written directly: the content table reads only those), plus
   `--other-sellers` sellers of as many videos each, so the seller's rows are a slice of
   the tables; a scratch Redis DB number.
2. The app (portal.create_app, production-like: development settings without response
   validation, as production answers) driven in process through its WSGI interface with
   Flask's test client: the whole middleware stack, sign-in cookie or bearer token, the
   figure cache in Redis; no network and no gunicorn (bench/portal.py measures those).
3. Phases, `--requests` measured requests each after `--warmup` unmeasured ones:
   `api cached`, `page cached` (the whole HTML page), `fragment cached` (htmx), `api last
   page by rpm` (another sort and page), and `api uncached` — before every request the month
   scopes are bumped as the batch bumps them, so every request recomputes the table.

Prints a table: requests, p50, p99, max (ms), target, PASS/FAIL. Run it alone:
`flock /tmp/bench.lock .venv/bin/python -m bench.content_table`.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from redis import Redis
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from bench.dataset import bench_settings, scratch_database, scratch_redis
from models import Role, User, Video
from models.accounts.service import create_user
from models.business_time import today
from models.db import make_engine
from models.figures.cache import FigureCache, month_scopes
from models.figures.period_windows import period_window
from models.figures.tables import VideoDailyStats
from models.money.settlement import PricePlan, VideoDailySettlement
from portal.api.tokens import issue_token

PASSWORD = "bench-password-content-table"
TARGET_MS = 50.0


def _fill(engine, videos: int, others: int, days: int, last: date) -> User:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        seller = create_user(session, email="bench-content@bench.test", password=PASSWORD, role=Role.SELLER,
                             display_name="Bench seller")
        extra = [create_user(session, email=f"bench-other-{i}@bench.test", password=None, role=Role.SELLER)
                 for i in range(others)]
        session.commit()
        for user in (seller, *extra):
            session.refresh(user)
            session.expunge(user)
        plan_id = session.scalar(select(PricePlan.id).order_by(PricePlan.id))
    created = datetime(2026, 1, 1, tzinfo=UTC)
    first = last - timedelta(days=days - 1)
    with engine.begin() as conn:
        for owner in (seller, *extra):
            conn.execute(insert(Video), [dict(seller_id=owner.id, title=f"Video {i:04d} of {owner.id}", description="",
                                              media_path="x.webm", content_type="video/webm", size_bytes=1,
                                              duration_seconds=600, is_published=True, created_at=created)
                                         for i in range(videos)])
        ids = conn.execute(select(Video.id, Video.seller_id)).all()
        for d in range(days):
            day = first + timedelta(days=d)
            stats, money = [], []
            for vid, owner in ids:
                views = (vid * 7 + d * 13) % 400
                ads = views // 3
                stats.append(dict(day=day, video_id=vid, seller_id=owner, views=views, watch_seconds=views * 97,
                                  ad_views=ads, rejected_own_video=0, rejected_repeat=0, cum_views=0,
                                  cum_watch_seconds=0, cum_ad_views=0))
                money.append(dict(day=day, video_id=vid, seller_id=owner, plan_id=plan_id, basis="daily",
                                  views=views, ad_views=ads, views_before=0, ad_views_before=0,
                                  video_amount=views, ad_amount=ads * 10, total_amount=views + ads * 10))
            conn.execute(insert(VideoDailyStats), stats)
            conn.execute(insert(VideoDailySettlement), money)
    return seller


def _measure(name: str, call: Callable[[], object], requests: int, warmup: int,
             before: Callable[[], None] | None = None) -> tuple[str, int, float, float, float]:
    for _ in range(warmup):
        if before:
            before()
        call()
    times = []
    for _ in range(requests):
        if before:
            before()
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return name, len(times), statistics.median(times), p99, times[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=1_000)
    parser.add_argument("--other-sellers", type=int, default=4)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()

    from portal import create_app

    with scratch_database("content") as url, scratch_redis() as redis_url:
        settings = replace(bench_settings(url, redis_url), environment="development", api_validate_responses=False)
        engine = make_engine(url)
        tz = settings.tz
        current = today(tz)
        t0 = time.perf_counter()
        seller = _fill(engine, args.videos, args.other_sellers, args.days, current - timedelta(days=1))
        print(f"* data: {args.videos:,} videos × {args.days} days for the seller (+{args.other_sellers} sellers "
              f"alike) in {time.perf_counter() - t0:.1f} s", flush=True)
        with engine.connect() as conn:
            conn.execute(text("ANALYZE TABLE video_daily_stats, video_daily_settlements, videos"))

        app = create_app(settings)
        client = app.test_client()
        page = client.get("/auth/signin").get_data(as_text=True)
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        signed = client.post("/auth/signin", data={"csrf_token": csrf, "email": seller.email, "password": PASSWORD,
                                                   "next": ""})
        assert signed.status_code == 302, signed.status_code
        api_client = app.test_client()
        with app.app_context():
            token, _ = issue_token(seller, settings)
        bearer = {"Authorization": f"Bearer {token}"}
        window = period_window("28", current)
        scopes = month_scopes(window.first, window.last)
        cache = FigureCache(Redis.from_url(redis_url), engine=engine)

        def get(c, path: str, **headers: str) -> Callable[[], object]:  # type: ignore[no-untyped-def]
            def call() -> object:
                answer = c.get(path, headers=headers)
                assert answer.status_code == 200, (path, answer.status_code, answer.get_data(as_text=True)[:300])
                return answer.get_data()
            return call

        api = "/api/v1/audience/content?period=28"
        rows = [
            _measure("api cached", get(api_client, api, **bearer), args.requests, args.warmup),
            _measure("page cached", get(client, "/content?range=28"), args.requests, args.warmup),
            _measure("fragment cached", get(client, "/content?range=28", **{"HX-Request": "true",
                                                                             "HX-Target": "content-table"}),
                     args.requests, args.warmup),
            _measure("api last page by rpm", get(api_client, f"{api}&sort=rpm&dir=asc&page=20", **bearer),
                     args.requests, args.warmup),
            _measure("api uncached", get(api_client, api, **bearer), max(args.requests // 5, 20), 3,
                     before=lambda: cache.invalidate_scopes(scopes)),
        ]
        body = api_client.get(api, headers=bearer).get_json()
        assert body["total_rows"] == args.videos, body["total_rows"]
        engine.dispose()

    print(f"\ncontent table, seller with {args.videos:,} videos, period 28 days ({args.days} days of batch rows), "
          "in-process WSGI (Flask test client)\n")
    print(f"{'phase':<22} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  target")
    for name, count, p50, p99, top in rows:
        cached = "uncached" not in name
        verdict = ("PASS" if p99 < TARGET_MS else "FAIL") if cached else "(no target)"
        print(f"{name:<22} {count:>8} {p50:>8.2f} {p99:>8.2f} {top:>8.2f}  "
              f"{'p99 < 50 ms ' + verdict if cached else verdict}")


if __name__ == "__main__":
    main()
