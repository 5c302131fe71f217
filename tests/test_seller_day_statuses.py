"""What a seller is shown of each day (issue 21, item 6): `pending` only for a closed day with
their events that the batch has not computed; `no_data` before their first video and for
uncomputed days without their events; no future days. The platform's status of the same days
(models/figures/data_status.py `day_statuses`, read by the batch health check and statement
finalization) keeps its meaning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from models import BatchRun, RunState, RunTrigger, Video
from models.accounts.service import create_user
from models.accounts.users import Role
from models.business_time import day_bounds_utc, today
from models.figures.data_status import DataStatus, day_statuses, seller_day_statuses
from models.figures.series import daily_series
from models.figures.settlements import settlement_table
from models.figures.tables import Metric, PeriodKind
from models.figures.top import top5
from tests.batch_support import Backend, World, add_sessions
from tests.portal_support import TZ
from tests.support import TEST_PASSWORD

F, L, P, S, N = (DataStatus.FINAL, DataStatus.LIVE, DataStatus.PENDING, DataStatus.STALE, DataStatus.NO_DATA)


@pytest.fixture(scope="module")
def scene(redis_url, tmp_path_factory):
    """Today T. Seller A's first video was uploaded on T-5, seller B's on T-20. The batch computed
    T-8 and T-4 only. A has plays on T-2, B on T-3 and T-8; nobody on T-1."""
    backend = Backend("mariadb", redis_url, tmp_path_factory.mktemp("statuses"))
    t = today(TZ)
    world = World()
    with Session(backend.engine) as s:
        a, b, viewer = (create_user(s, email=f"{n}@statuses.test", password=TEST_PASSWORD, role=r)
                        for n, r in (("a", Role.SELLER), ("b", Role.SELLER), ("v", Role.VIEWER)))
        s.commit()
        ids = a.id, b.id, viewer.id
    videos = {}
    with backend.engine.begin() as conn:
        for seller, days_ago in ((ids[0], 5), (ids[1], 20)):
            uploaded = day_bounds_utc(t - timedelta(days=days_ago), TZ)[0] + timedelta(hours=3)
            videos[seller] = conn.execute(insert(Video).values(
                seller_id=seller, title=f"video of {seller}", description="", media_path="x.webm",
                content_type="video/webm", size_bytes=1, duration_seconds=600, is_published=True,
                created_at=uploaded)).inserted_primary_key[0]
            world.sellers[videos[seller]] = seller
        started = datetime.now(UTC) - timedelta(minutes=1)
        for days_ago in (8, 4):
            conn.execute(insert(BatchRun).values(day=t - timedelta(days=days_ago), trigger=RunTrigger.MANUAL,
                                                 state=RunState.SUCCEEDED, started_at=started, finished_at=started))
    add_sessions(backend.engine, world, [
        dict(video_id=videos[ids[0]], viewer_id=ids[2], day=t - timedelta(days=2), second=100, watch_ms=60_000),
        dict(video_id=videos[ids[1]], viewer_id=ids[2], day=t - timedelta(days=3), second=100, watch_ms=60_000),
        dict(video_id=videos[ids[1]], viewer_id=ids[2], day=t - timedelta(days=8), second=100, watch_ms=60_000,
             updated_at=started - timedelta(hours=1)),
    ], [0, 0, 0])
    yield backend, t, ids, videos
    backend.close()


def _from(t, first_ago: int, statuses: list[DataStatus]) -> dict:
    return {t - timedelta(days=first_ago - i): s for i, s in enumerate(statuses)}


def test_a_seller_sees_no_data_before_their_first_video_and_for_uncomputed_days_without_their_events(scene):
    backend, t, (a, b, _), videos = scene
    first, last = t - timedelta(days=10), t + timedelta(days=3)
    with Session(backend.engine) as s:
        #                         T-10..T-6 (before A's video)  T-5 T-4 T-3 T-2 T-1 T
        assert seller_day_statuses(s, a, first, last, TZ) == _from(t, 10, [N] * 5 + [N, F, N, P, N, L])
        assert seller_day_statuses(s, b, first, last, TZ) == _from(t, 10, [N, N, F, N, N, N, F, P, N, N, L])
        assert seller_day_statuses(s, a, first, last, TZ, video_id=videos[a]) == \
            seller_day_statuses(s, a, first, last, TZ)
        # Platform-wide (admins): the first video of anybody, the events of anybody.
        assert seller_day_statuses(s, None, first, last, TZ) == _from(t, 10, [N, N, F, N, N, N, F, P, P, N, L])
        # The platform's own statuses keep their meaning: every uncomputed closed day and every
        # future day is pending (finalization waits for them), and nothing is "no data".
        platform = {d: x.status for d, x in day_statuses(s, first, last, TZ).items()}
        assert platform == _from(t, 10, [P, P, F, P, P, P, F, P, P, P, L, P, P, P])


def test_a_seller_without_videos_sees_no_data_and_future_days_are_not_listed(scene):
    backend, t, _, _ = scene
    with Session(backend.engine) as s:
        fresh = create_user(s, email="fresh@statuses.test", password=TEST_PASSWORD, role=Role.SELLER)
        s.commit()
        assert set(seller_day_statuses(s, fresh.id, t - timedelta(days=3), t, TZ).values()) == {N}
        assert seller_day_statuses(s, fresh.id, t + timedelta(days=1), t + timedelta(days=9), TZ) == {}


def test_the_figures_carry_the_sellers_statuses_and_stop_at_today(scene):
    backend, t, (a, _, _), _ = scene
    with Session(backend.engine) as s:
        series = daily_series(s, None, a, t - timedelta(days=5), t + timedelta(days=3), TZ)
        assert [d["day"] for d in series["days"]][-1] == series["last"] == t.isoformat()
        assert [d["status"] for d in series["days"]] == ["no_data", "final", "no_data", "pending", "no_data", "live"]
        table = settlement_table(s, None, a, "day", t - timedelta(days=5), t - timedelta(days=3), TZ)
        assert table["status"] == "final"  # computed or nothing to compute: nothing is waiting
        assert settlement_table(s, None, a, "day", t - timedelta(days=3), t - timedelta(days=1), TZ)["status"] \
            == "pending"
        assert top5(s, None, a, Metric.VIEWS, PeriodKind.DAY, t - timedelta(days=1), TZ)["status"] == "no_data"
        assert top5(s, None, a, Metric.VIEWS, PeriodKind.DAY, t + timedelta(days=2), TZ)["status"] == "no_data"
