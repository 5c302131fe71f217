"""Record every answer of the statistics read API on the demo data, to show a refactoring of the
read side changes no figure.

    .venv/bin/python scripts/api_snapshot.py --out before.json          # seeds a scratch database
    .venv/bin/python scripts/api_snapshot.py --out after.json --reuse   # the same database again
    .venv/bin/python scripts/api_snapshot.py --compare before.json after.json

The demo is seeded relative to the clock, so two seedings differ; the comparison therefore reads
one seeded database twice (`--reuse` keeps it; `--drop` removes it at the end). Each run asks
every question twice, the first time with an empty Redis DB (figures computed) and again with the
figure and answer caches warm, and refuses to write a file if the two passes differ: a cache hit
and a miss must give the same bytes. The answers are keyed by caller and URL.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis import Redis  # noqa: E402
from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from models.db import make_engine  # noqa: E402
from settings import Settings  # noqa: E402

LOCK_PREFIX = "paysystem:test-db-lock:"  # the test fixtures' Redis DB claims (tests/conftest.py)


def _claim_redis_db(base: str) -> tuple[str, Redis, str, int]:
    control = Redis.from_url(base.rstrip("/") + "/0")
    token = f"snapshot-{uuid.uuid4().hex}"
    for number in range(1, 16):
        if control.set(LOCK_PREFIX + str(number), token, nx=True, ex=3600):
            return f"{base.rstrip('/')}/{number}", control, token, number
    raise SystemExit("every Redis DB number 1-15 is claimed")


def _ensure_database(server: str, name: str, reuse: bool) -> tuple[str, bool]:
    """The database's URL and whether it must be seeded."""
    engine = make_engine(server)
    with engine.begin() as conn:
        exists = conn.execute(text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :n"),
                              {"n": name}).first() is not None
        if exists and not reuse:
            conn.execute(text(f"DROP DATABASE `{name}`"))
            exists = False
        if not exists:
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    engine.dispose()
    return str(make_url(server).set(database=name).render_as_string(hide_password=False)), not exists


def _seed(settings: Settings) -> None:
    from models.business_time import today
    from models.db import make_sessionmaker, session_scope
    from paysystem import migrate
    from paysystem.cli import _compute_demo_days
    from paysystem.demo import demo_window, seed_demo

    migrate.upgrade(settings.database_url)
    first, _ = demo_window(settings.tz, 30)
    with session_scope(make_sessionmaker(make_engine(settings.database_url))) as session:
        seed_demo(session, settings.media_root, settings.tz, days=(today(settings.tz) - first).days)
    _compute_demo_days(settings, 30)


def _questions(session: Session, settings: Settings) -> Iterator[tuple[str, str]]:
    """(caller e-mail, URL) of every read the snapshot records."""
    from models import Role, User, Video
    from models.business_time import today
    from models.money.settlement import VideoDailySettlement

    current = today(settings.tz)
    yesterday = current - timedelta(days=1)
    month_first = current.replace(day=1)
    prev_first = (month_first - timedelta(days=1)).replace(day=1)
    users = session.execute(select(User.id, User.email, User.role).where(User.role.in_([Role.SELLER, Role.ADMIN]))
                            .order_by(User.id)).all()
    sellers = [u for u in users if u.role == Role.SELLER]
    admins = [u for u in users if u.role == Role.ADMIN]
    videos = session.execute(select(Video.id, Video.seller_id).order_by(Video.id)).all()
    ranges = [(prev_first, yesterday), (month_first, current), (current - timedelta(days=6), current),
              (prev_first, prev_first + timedelta(days=9))]
    days = [yesterday, current - timedelta(days=8), prev_first + timedelta(days=3), current]

    def reads(email: str, scope: str, own_videos: list[int]) -> Iterator[tuple[str, str]]:
        yield email, f"/stats/summary{scope and '?' + scope}"
        for metric in ("views", "watch_seconds"):
            for period in ("day", "week", "month"):
                yield email, f"/stats/top5?metric={metric}&period={period}{scope and '&' + scope}"
                for day in days:
                    yield email, f"/stats/top5?metric={metric}&period={period}&day={day}{scope and '&' + scope}"
        for first, last in ranges:
            for granularity in ("day", "week", "month"):
                for sort, direction in (("period", "asc"), ("video", "desc"), ("total_amount", "desc"),
                                        ("views", "asc")):
                    base = f"/settlements?granularity={granularity}&from={first}&to={last}&sort={sort}&dir={direction}"
                    yield email, f"{base}{scope and '&' + scope}"
                    yield email, f"{base}&per_page=7&page=2{scope and '&' + scope}"
            yield email, f"/restatements?from={first}&to={last}{scope and '&' + scope}"
        yield email, f"/restatements{scope and '?' + scope}"
        yield email, f"/restatements?per_page=1&page=2{scope and '&' + scope}"
        for vid in own_videos:
            for first, last in ranges:
                yield email, f"/settlements?granularity=day&from={first}&to={last}&video_id={vid}"
                yield email, f"/videos/{vid}/stats?from={first}&to={last}"
                yield email, f"/videos/{vid}/ledger?from={first}&to={last}"
            yield email, f"/videos/{vid}/stats"
            yield email, f"/videos/{vid}/ledger"
            yield email, f"/restatements?video_id={vid}"
            lines = session.scalars(select(VideoDailySettlement.day).where(VideoDailySettlement.video_id == vid)
                                    .order_by(VideoDailySettlement.day)).all()
            for day in sorted({*lines[:2], *lines[-2:], *lines[::9]}):
                yield email, f"/settlements/{vid}/{day}"
                yield email, f"/settlements/{vid}/{day}?granularity=week"
                yield email, f"/settlements/{vid}/{day}?granularity=month"
            yield email, f"/settlements/{vid}/{current + timedelta(days=3)}"  # no settlement: 404
            for period in ("day", "week", "month"):  # issue 22: retention, rolled up by the batch
                yield email, f"/videos/{vid}/retention?period={period}"
                for day in days:
                    yield email, f"/videos/{vid}/retention?period={period}&date={day}"
        for period in ("7", "28", "90", "this_month", "last_month"):  # issue 22: the audience reads
            yield email, f"/audience/comparison?period={period}{scope and '&' + scope}"
            yield email, f"/audience/content?period={period}{scope and '&' + scope}"

    for seller in sellers:
        own = [v.id for v in videos if v.seller_id == seller.id]
        foreign = [v.id for v in videos if v.seller_id != seller.id][:1]
        yield from reads(seller.email, "", own)
        for vid in foreign:  # another seller's video: 404 / empty
            yield seller.email, f"/videos/{vid}/stats"
            yield seller.email, f"/settlements?granularity=day&from={prev_first}&to={yesterday}&video_id={vid}"
            yield seller.email, f"/restatements?video_id={vid}"
    for admin in admins:
        yield from reads(admin.email, "", [v.id for v in videos])
        for seller in sellers:
            yield from reads(admin.email, f"seller_id={seller.id}", [])


def _page_questions(session: Session, settings: Settings) -> Iterator[tuple[str, str]]:
    """(caller e-mail, path) of the seller pages whose figures the snapshot records too."""
    from models import Role, User, Video
    from models.business_time import today
    from models.money.settlement import VideoDailySettlement

    current = today(settings.tz)
    prev_first = (current.replace(day=1) - timedelta(days=1)).replace(day=1)
    users = session.execute(select(User.id, User.email, User.role).where(User.role.in_([Role.SELLER, Role.ADMIN]))
                            .order_by(User.id)).all()
    videos = session.execute(select(Video.id, Video.seller_id).order_by(Video.id)).all()
    for user in users:
        scopes = [""] if user.role == Role.SELLER else ["", *(f"seller_id={u.id}" for u in users
                                                             if u.role == Role.SELLER)]
        for scope in scopes:
            tail = scope and "&" + scope
            yield user.email, f"/dashboard{scope and '?' + scope}"
            yield user.email, f"/dashboard?period=week&metric=watch_seconds{tail}"
            yield user.email, f"/dashboard?range=last_month{tail}"
            yield user.email, f"/dashboard?range=custom&from={prev_first}&to={current}{tail}"
            for granularity in ("day", "week", "month"):
                yield user.email, f"/settlements?granularity={granularity}&from={prev_first}&to={current}{tail}"
            yield user.email, f"/restatements{scope and '?' + scope}"
        own = [v.id for v in videos if user.role == Role.ADMIN or v.seller_id == user.id]
        for vid in own:
            yield user.email, f"/videos/{vid}/stats"
            days = session.scalars(select(VideoDailySettlement.day).where(VideoDailySettlement.video_id == vid)
                                   .order_by(VideoDailySettlement.day)).all()
            for day in days[::11]:
                yield user.email, f"/settlements/{vid}/{day}"


# What differs between two renderings of the same figures: per-session tokens and per-request nonces.
_VOLATILE = [(re.compile(r'(csrf[-_]token"? (?:content|value)=")[^"]*'), r"\1"),
             (re.compile(r'("X-CSRFToken": ")[^"]*'), r"\1"),
             (re.compile(r'(nonce=")[^"]*'), r"\1")]


def _page_text(html: str) -> str:
    for pattern, replacement in _VOLATILE:
        html = pattern.sub(replacement, html)
    return html


def _record_pages(settings: Settings, app: Any) -> dict[str, Any]:
    from models import User

    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        questions = list(_page_questions(session, settings))
        users = {u.email: u for u in session.scalars(select(User).where(User.email.in_({e for e, _ in questions})))}
    engine.dispose()
    clients = {}
    for email, user in users.items():
        client = clients[email] = app.test_client()
        with client.session_transaction() as cookie:  # as flask-login leaves it after signing in
            cookie["_user_id"] = str(user.id)
            cookie["_sv"] = user.session_version
            cookie["_fresh"] = True
    answers = {}
    for email, path in questions:
        response = clients[email].get(path)
        answers[f"page {email} {path}"] = {"status": response.status_code,
                                           "body": _page_text(response.get_data(as_text=True))}
    print(f"{len(questions)} pages recorded")
    return answers


def _record(settings: Settings, redis: Redis) -> dict[str, Any]:
    from models import User
    from portal import create_app
    from portal.api.tokens import issue_token

    app = create_app(settings)
    client = app.test_client()
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        questions = list(_questions(session, settings))
        tokens = {}
        for email in {e for e, _ in questions}:
            user = session.scalars(select(User).where(User.email == email)).one()
            tokens[email] = issue_token(user, settings)[0]
    engine.dispose()
    passes = []
    redis.flushdb()
    for _ in range(2):  # cold caches, then warm
        answers = {}
        for email, url in questions:
            response = client.get("/api/v1" + url, headers={"Authorization": f"Bearer {tokens[email]}"})
            answers[f"{email} {url}"] = {"status": response.status_code, "body": response.get_json()}
        passes.append(answers)
    if passes[0] != passes[1]:
        differing = [k for k in passes[0] if passes[0][k] != passes[1][k]]
        raise SystemExit(f"cold and warm answers differ for {len(differing)} questions, e.g. {differing[:3]}")
    statuses: dict[int, int] = {}
    for answer in passes[0].values():
        statuses[answer["status"]] = statuses.get(answer["status"], 0) + 1
    print(f"{len(questions)} answers recorded twice (cold and warm caches), equal; statuses {statuses}")
    return {**passes[0], **_record_pages(settings, app)}


def _compare(before: Path, after: Path) -> int:
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    if a["database"] != b["database"] or a["today"] != b["today"]:
        print("the two files are not of the same database and business day")
        return 1
    differing = sorted(k for k in a["answers"].keys() | b["answers"].keys()
                       if a["answers"].get(k) != b["answers"].get(k))
    print(f"compared {len(a['answers'])} answers with {len(b['answers'])}: {len(differing)} differ")
    for key in differing[:20]:
        print("  ", key)
    return 1 if differing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    parser.add_argument("--server", default="mysql+pymysql://root@127.0.0.1:3306",
                        help="MariaDB server URL without a database")
    parser.add_argument("--database", default="paysystem_api_snapshot")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--media-root", type=Path, default=Path("/tmp/paysystem_api_snapshot_media"))
    parser.add_argument("--reuse", action="store_true", help="read the database as it is (seed only when missing)")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    args = parser.parse_args()
    if args.compare:
        return _compare(*args.compare)
    if args.out is None:
        parser.error("--out or --compare is required")
    database_url, fresh = _ensure_database(args.server, args.database, args.reuse)
    redis_url, control, token, number = _claim_redis_db(args.redis)
    try:
        args.media_root.mkdir(parents=True, exist_ok=True)
        settings = Settings(environment="test", database_url=database_url, redis_url=redis_url,
                            secret_key="api-snapshot-secret-0123456789abcdef", media_root=args.media_root).validate()
        if fresh:
            _seed(settings)
        answers = _record(settings, Redis.from_url(redis_url))
        from models.business_time import today

        args.out.write_text(json.dumps({"database": args.database, "today": today(settings.tz).isoformat(),
                                        "answers": answers}, indent=1, sort_keys=True, ensure_ascii=False))
    finally:
        Redis.from_url(redis_url).flushdb()
        if control.get(LOCK_PREFIX + str(number)) == token.encode():
            control.delete(LOCK_PREFIX + str(number))
        if args.drop:
            engine = make_engine(args.server)
            with engine.begin() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{args.database}`"))
            engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

