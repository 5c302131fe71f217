"""Issue 21, item 11: breaks are spread by each ad's picks over a recent window
(AD_BALANCE_WINDOW_HOURS), not by lifetime impressions, so a new ad shares the breaks from
its first one instead of winning every break until it has caught up."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from models import Role
from models.catalog.service import create_ad, set_ad_active
from models.playback.ad_rotation import AdPickHour
from models.playback.service import open_session, pick_ad
from tests.watching_support import add_ad, add_video, clip

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def cast(make_user, session_factory):  # type: ignore[no-untyped-def]
    seller, viewer = make_user(Role.SELLER), make_user(Role.VIEWER)
    return viewer, add_video(session_factory, seller, seconds=330)  # one slot, at 0:00


def _picks(session_factory, viewer, video, n: int, now: datetime | None = None) -> Counter[int]:  # type: ignore[no-untyped-def]
    """The ads of `n` breaks, one new play session each (slot 0)."""
    chosen: Counter[int] = Counter()
    with session_factory() as db:
        for _ in range(n):
            opened = open_session(db, viewer=viewer, video=video, now=now or datetime.now(UTC), tz=SEOUL,
                                  start_position_ms=0)
            chosen[pick_ad(db, viewer_id=viewer.id, video_id=video.id, session_id=opened.session_id, slot_index=0,
                           now=now).id] += 1
    return chosen


def _old_picks(session_factory, ad_id: int, picks: int, hours_ago: int) -> None:  # type: ignore[no-untyped-def]
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours_ago)
    with session_factory() as db:
        db.add(AdPickHour(ad_id=ad_id, hour_start=hour, picks=picks))
        db.commit()


def test_a_new_ad_shares_the_breaks_with_ads_that_have_1000_old_impressions(cast, session_factory):
    viewer, video = cast
    a = add_ad(session_factory, impressions=1000, only=True)
    b = add_ad(session_factory, impressions=1000)
    _old_picks(session_factory, a.id, 1000, hours_ago=72)  # their picks are days old: outside the window
    _old_picks(session_factory, b.id, 1000, hours_ago=72)
    c = add_ad(session_factory, impressions=0)
    chosen = _picks(session_factory, viewer, video, 30)
    assert chosen == {a.id: 10, b.id: 10, c.id: 10}, chosen


def test_an_ad_registered_or_switched_on_during_a_busy_window_does_not_take_every_break(
        cast, session_factory, make_user, settings, tmp_path_factory):
    viewer, video = cast
    a = add_ad(session_factory, impressions=5000, only=True)
    b = add_ad(session_factory, impressions=5000)
    for ad, hours in ((a, 1), (b, 1), (a, 5), (b, 5)):
        _old_picks(session_factory, ad.id, 500, hours_ago=hours)  # 1,000 picks each in the last 24 h
    admin = make_user(Role.ADMIN)
    with session_factory() as db, clip(tmp_path_factory.getbasetemp(), 3).open("rb") as upload:
        registered = create_ad(db, admin=db.merge(admin), title="New today", upload=upload, filename="n.webm",
                               media_root=settings.media_root)
    chosen = _picks(session_factory, viewer, video, 30)
    assert chosen == {a.id: 10, b.id: 10, registered.id: 10}, chosen

    dormant = add_ad(session_factory, active=False)  # off all day: no picks in the window
    with session_factory() as db:
        set_ad_active(db, ad_id=dormant.id, active=True)
    chosen = _picks(session_factory, viewer, video, 40)
    assert set(chosen.values()) == {10}, chosen


def test_the_window_is_a_setting_and_older_picks_fall_out_of_it(cast, session_factory):
    viewer, video = cast
    a = add_ad(session_factory, only=True)
    b = add_ad(session_factory)
    _old_picks(session_factory, a.id, 50, hours_ago=3)
    with session_factory() as db:
        opened = open_session(db, viewer=viewer, video=video, now=datetime.now(UTC), tz=SEOUL, start_position_ms=0)
        within = pick_ad(db, viewer_id=viewer.id, video_id=video.id, session_id=opened.session_id, slot_index=0,
                         window_hours=24)
        opened = open_session(db, viewer=viewer, video=video, now=datetime.now(UTC), tz=SEOUL, start_position_ms=0)
        short = pick_ad(db, viewer_id=viewer.id, video_id=video.id, session_id=opened.session_id, slot_index=0,
                        window_hours=2)
    assert within.id == b.id  # a's 50 picks 3 h ago count in a 24 h window
    assert short.id == a.id  # not in a 2 h one: a has none there, b has one


def test_asking_again_for_a_slot_is_not_another_pick_and_parallel_picks_are_each_counted(cast, session_factory):
    viewer, video = cast
    ad = add_ad(session_factory, only=True)
    with session_factory() as db:
        opened = open_session(db, viewer=viewer, video=video, now=datetime.now(UTC), tz=SEOUL, start_position_ms=0)
        for _ in range(3):
            pick_ad(db, viewer_id=viewer.id, video_id=video.id, session_id=opened.session_id, slot_index=0)

    def counted() -> int:
        with session_factory() as db:
            return int(db.scalar(select(func.coalesce(func.sum(AdPickHour.picks), 0))
                                 .where(AdPickHour.ad_id == ad.id)))

    assert counted() == 1
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def player() -> None:
        try:
            with session_factory() as db:
                session = open_session(db, viewer=viewer, video=video, now=datetime.now(UTC), tz=SEOUL,
                                       start_position_ms=0)
                barrier.wait()
                for _ in range(2):  # a player asking twice (a retry) is still one pick
                    pick_ad(db, viewer_id=viewer.id, video_id=video.id, session_id=session.session_id, slot_index=0)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=player) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert counted() == 1 + 8
