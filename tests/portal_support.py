"""A generated portal data set: 3 sellers, 12 videos, 32 closed days ending yesterday (so the
range crosses ISO weeks and a month start), computed by the real batch, served by its own app."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from jobs.inline import run_days_inline
from models import Role, User, Video
from models.accounts.service import create_user
from models.business_time import today
from tests.batch_support import Backend, World, add_sessions
from tests.support import TEST_PASSWORD

TZ = ZoneInfo("Asia/Seoul")
DAYS = 32
TITLES = ["봄날의 산책", "Cooking basics", "서울 야경 타임랩스", "Guitar lesson 1", "=HYPERLINK(\"x\")",
          "고양이 일상", "Trail run", "한강 자전거", "Night drive", "Piano cover", "Study with me", "제주 여행"]


@dataclass
class PortalData:
    backend: Backend
    world: World
    sellers: list[User]
    viewer: User
    admin: User
    videos: dict[int, list[int]] = field(default_factory=dict)  # seller id -> video ids
    first: date = date.min
    last: date = date.min

    def other_seller_video(self, seller: User) -> int:
        return next(v for s, vids in self.videos.items() if s != seller.id for v in vids)


def build(redis_url: str, tmp: Path) -> PortalData:
    backend = Backend("mariadb", redis_url, tmp)
    world = World()
    with Session(backend.engine) as session:
        sellers = [create_user(session, email=f"seller{i}@portal.test", password=TEST_PASSWORD, role=Role.SELLER,
                               display_name=f"Seller {i}") for i in range(3)]
        viewer = create_user(session, email="viewer@portal.test", password=TEST_PASSWORD, role=Role.VIEWER)
        admin = create_user(session, email="admin@portal.test", password=TEST_PASSWORD, role=Role.ADMIN)
        session.commit()
        for user in (*sellers, viewer, admin):
            session.refresh(user)
            session.expunge(user)
    last = today(TZ) - timedelta(days=1)
    first = last - timedelta(days=DAYS - 1)
    data = PortalData(backend, world, sellers, viewer, admin, first=first, last=last)
    with backend.engine.begin() as conn:
        for i, title in enumerate(TITLES):
            seller = sellers[i % 3]
            vid = conn.execute(insert(Video).values(
                seller_id=seller.id, title=title, description="", media_path="x.webm", content_type="video/webm",
                size_bytes=1, duration_seconds=1200, is_published=True,
                created_at=datetime(2026, 1, 1, tzinfo=UTC))).inserted_primary_key[0]
            world.sellers[vid] = seller.id
            data.videos.setdefault(seller.id, []).append(vid)
    rng = random.Random(11)
    video_ids = list(world.sellers)
    rows = []
    for _ in range(900):
        vid = rng.choice(video_ids)
        reason = rng.choice([None, None, None, None, "own_video", "repeat_within_30s"])
        rows.append(dict(video_id=vid, viewer_id=viewer.id, day=first + timedelta(days=rng.randrange(DAYS)),
                         second=rng.randrange(86_400), watch_ms=rng.randrange(3_000_000), reason=reason))
    add_sessions(backend.engine, world, rows, [rng.randrange(4) for _ in rows])
    run_days_inline(backend.settings, [first + timedelta(days=i) for i in range(DAYS)])
    return data


@pytest.fixture(scope="session")
def portal_data(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalData]:
    """The generated data set, shared by the portal's test modules (built once per session)."""
    data = build(redis_url, tmp_path_factory.mktemp("portal"))
    yield data
    data.backend.close()


@pytest.fixture(scope="session")
def portal_app(portal_data: PortalData, media_root: Path):  # type: ignore[no-untyped-def]
    """An app serving the generated data set."""
    from dataclasses import replace

    from portal import create_app

    return create_app(replace(portal_data.backend.settings, media_root=media_root))


def signed_in_client(app, user: User):  # type: ignore[no-untyped-def]
    """A test client of `app` signed in as `user` through the sign-in form, as a browser would."""
    from tests.watching_support import sign_in

    client = app.test_client()
    sign_in(client, user)
    return client


def api_getter(app, data: PortalData):  # type: ignore[no-untyped-def]
    """`get(user, url)`: GET /api/v1<url> with the user's bearer token."""
    from tests.watching_support import bearer

    client = app.test_client()

    def get(user, url):  # type: ignore[no-untyped-def]
        return client.get("/api/v1" + url, headers=bearer(user, data.backend.settings))

    return get


def figure_cache_of(redis_url: str, data: PortalData):  # type: ignore[no-untyped-def]
    """The figure cache the portal uses for this data's database (Redis entries, database versions)."""
    from redis import Redis

    from models.figures.cache import FigureCache

    return FigureCache(Redis.from_url(redis_url), engine=data.backend.engine)


def reference_of(data: PortalData):  # type: ignore[no-untyped-def]
    """The independent recomputation of this data's figures from its raw events (tests/batch_support.py)."""
    from models.business_time import days_between
    from tests.batch_support import plan_ids, reference

    return reference(data.world, set(days_between(data.first, data.last)), plan_ids(data.backend.engine))
