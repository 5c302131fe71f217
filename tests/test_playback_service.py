"""The playback service against MariaDB: sessions, credit, resume, counting, ad views, days."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from models import (
    Ad,
    AdSlot,
    AdView,
    Base,
    PlayHistory,
    PlaySession,
    PlayStatus,
    RejectReason,
    Role,
    User,
    Video,
    ad_slot_positions,
)
from models.accounts.service import create_user
from models.db import make_engine
from models.playback.service import (
    _SESSION_ROW,
    ResumeState,
    open_session,
    pick_ad,
    record_ad_view,
    report_progress,
    resume_state,
    session_details,
)
from models.playback.watch_rules import PlaybackError, ProgressReport
from tests.watching_support import add_ad, add_video

SEOUL = ZoneInfo("Asia/Seoul")
# 23:59:50 on 1 March 2026 in Seoul.
T0 = datetime(2026, 3, 1, 14, 59, 50, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def cast(make_user, session_factory):  # type: ignore[no-untyped-def]
    seller, viewer = make_user(Role.SELLER), make_user(Role.VIEWER)
    return seller, viewer, add_video(session_factory, seller, seconds=720)


def start(db, viewer: User, video: Video, seconds: float = 0, **kwargs):  # type: ignore[no-untyped-def]
    return open_session(db, viewer=viewer, video=video, now=at(seconds), tz=SEOUL, **kwargs)


def report(db, viewer: User, video: Video, session_id: int, seconds: float, position_ms: int,  # type: ignore[no-untyped-def]
           playing: bool = True, seek_to_ms: int | None = None):
    return report_progress(db, viewer_id=viewer.id, video_id=video.id, session_id=session_id,
                           report=ProgressReport(position_ms, playing, seek_to_ms), now=at(seconds))


def row(db, session_id: int) -> dict:  # type: ignore[no-untyped-def]
    db.rollback()
    return dict(db.execute(select(PlaySession.__table__).where(PlaySession.id == session_id)).mappings().one())


def test_a_watch_across_midnight_in_seoul(db, cast):
    seller, viewer, video = cast
    opened = start(db, viewer, video)
    assert opened.counted and opened.reject_reason is None
    assert opened.day == date(2026, 3, 1)  # 23:59:50 KST
    assert opened.slot_positions == [0, 300] and opened.due_slots == [0]
    report(db, viewer, video, opened.session_id, 10, 10_000)
    report(db, viewer, video, opened.session_id, 20, 20_000)  # 00:00:10 KST on 2 March
    stored = row(db, opened.session_id)
    assert stored["watch_ms"] == 20_000 and stored["day"] == date(2026, 3, 1)
    assert stored["last_report_at"] == at(20) and stored["updated_at"] == at(20)
    history = db.get(PlayHistory, (viewer.id, video.id))
    assert (history.last_position_ms, history.status) == (20_000, PlayStatus.PLAY)


def test_pause_keeps_the_resume_position_and_end_resets_it(db, cast):
    _, viewer, video = cast
    opened = start(db, viewer, video)
    report(db, viewer, video, opened.session_id, 5, 5_000, seek_to_ms=305_000)
    report(db, viewer, video, opened.session_id, 9, 309_000, playing=False)
    assert resume_state(db, viewer.id, video).position_ms == 309_000
    db.rollback()
    resumed = start(db, viewer, video, 100)
    assert resumed.start_position_ms == 309_000
    assert resumed.due_slots == [1]  # resuming past 5:00: one break, for the last slot passed (§5)
    result = report(db, viewer, video, resumed.session_id, 520, 719_500)
    assert result.ended and result.status == PlayStatus.END
    assert row(db, resumed.session_id)["ended_at"] == at(520)
    state = resume_state(db, viewer.id, video)
    assert (state.position_ms, state.status) == (0, PlayStatus.END)
    db.rollback()
    assert start(db, viewer, video, 600).start_position_ms == 0


def test_counting_rules(db, cast, make_user, session_factory):
    seller, viewer, video = cast
    own = start(db, seller, video)
    assert (own.counted, own.reject_reason) == (False, RejectReason.OWN_VIDEO)
    first = start(db, viewer, video, 0)
    again = start(db, viewer, video, 29.9)
    later = start(db, viewer, video, 30)
    assert first.counted and not again.counted and again.reject_reason == RejectReason.REPEAT_WITHIN_30S
    assert later.counted  # 30 s after the counted one; the rejected one in between does not count
    other = make_user(Role.VIEWER)
    assert start(db, other, video, 31).counted  # the rule is per viewer
    other_video = add_video(session_factory, seller, seconds=100)
    assert start(db, viewer, other_video, 31).counted  # and per video
    stored = row(db, again.session_id)
    assert (stored["counted"], stored["reject_reason"]) == (False, RejectReason.REPEAT_WITHIN_30S)


def test_sessions_opened_at_the_same_instant_count_once(cast, session_factory):
    _, viewer, video = cast
    results, barrier = [], threading.Barrier(4)

    def opener() -> None:
        with session_factory() as db:
            barrier.wait()
            results.append(start(db, viewer, video, 1000).counted)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]


def test_refused_reports_change_nothing(db, cast, make_user):
    _, viewer, video = cast
    opened = start(db, viewer, video)
    report(db, viewer, video, opened.session_id, 10, 10_000)
    before = row(db, opened.session_id)
    stranger = make_user(Role.VIEWER)
    cases = [
        (viewer, opened.session_id + 10_000, 20_000, "not_found"),  # unknown session
        (stranger, opened.session_id, 20_000, "not_found"),  # someone else's session
        (viewer, opened.session_id, 720_001, "invalid"),  # beyond the duration
        (viewer, opened.session_id, -1, "invalid"),
    ]
    for who, session_id, position, kind in cases:
        with pytest.raises(PlaybackError) as error:
            report(db, who, video, session_id, 20, position)
        assert error.value.kind == kind
    with pytest.raises(PlaybackError):  # the right session under another video id
        report_progress(db, viewer_id=viewer.id, video_id=video.id + 1, session_id=opened.session_id,
                        report=ProgressReport(20_000, True), now=at(20))
    assert row(db, opened.session_id) == before
    report(db, viewer, video, opened.session_id, 30, 720_000)
    with pytest.raises(PlaybackError) as ended:
        report(db, viewer, video, opened.session_id, 40, 5_000)
    assert ended.value.code == "session_ended"


def test_ad_views_follow_the_slots(db, cast, session_factory):
    _, viewer, video = cast
    least, most = add_ad(session_factory, impressions=3, only=True), add_ad(session_factory, impressions=5)
    opened = start(db, viewer, video)
    assert pick_ad(db, viewer_id=viewer.id, video_id=video.id, session_id=opened.session_id, slot_index=0).id == least.id

    def view(slot: int, ad: Ad, seconds: float) -> AdView:
        return record_ad_view(db, viewer_id=viewer.id, video_id=video.id, session_id=opened.session_id,
                              slot_index=slot, ad_id=ad.id, now=at(seconds))

    first = view(0, least, 1)
    assert first.day == date(2026, 3, 1)
    refusals = [
        (lambda: view(0, most, 2), "duplicate_ad_view"),
        (lambda: view(1, least, 2), "slot_ahead"),
        (lambda: view(2, least, 2), "no_such_slot"),
        (lambda: view(-1, least, 2), "no_such_slot"),
        (lambda: pick_ad(db, viewer_id=viewer.id, video_id=video.id, session_id=opened.session_id, slot_index=1),
         "slot_ahead"),
        (lambda: pick_ad(db, viewer_id=viewer.id, video_id=video.id, session_id=opened.session_id, slot_index=0),
         "duplicate_ad_view"),
    ]
    for attempt, code in refusals:
        with pytest.raises(PlaybackError) as error:
            attempt()
        assert error.value.code == code
    # Seeking past 5:00 (after midnight in Seoul) makes slot 1 due; its ad view keeps the session's day.
    report(db, viewer, video, opened.session_id, 20, 4_000, seek_to_ms=301_000)
    assert session_details(db, viewer_id=viewer.id, video_id=video.id, session_id=opened.session_id).due_slots == [1]
    # `least` has one pick in the window and `most` none: `most` plays (lifetime impressions
    # no longer decide, issue 21 item 11; tests/test_ad_rotation.py).
    assert pick_ad(db, viewer_id=viewer.id, video_id=video.id, session_id=opened.session_id, slot_index=1).id == most.id
    second = view(1, most, 21)
    assert second.day == date(2026, 3, 1) and at(21).astimezone(SEOUL).date() == date(2026, 3, 2)
    db.rollback()
    assert db.scalar(select(Ad.impressions).where(Ad.id == least.id)) == 4
    assert db.scalar(select(Ad.impressions).where(Ad.id == most.id)) == 6
    assert row(db, opened.session_id)["updated_at"] == at(21)
    details = session_details(db, viewer_id=viewer.id, video_id=video.id, session_id=opened.session_id)
    assert details.ad_views == {0: least.id, 1: most.id} and details.due_slots == []
    with pytest.raises(PlaybackError) as no_ads:
        db.execute(text("UPDATE ads SET is_active = 0"))
        db.commit()
        other = start(db, viewer, video, 100)  # resumes at 5:01
        pick_ad(db, viewer_id=viewer.id, video_id=video.id, session_id=other.session_id, slot_index=1)
    assert no_ads.value.code == "no_active_ads"


def test_a_jump_past_two_slots_plays_one_break_for_the_last(db, cast, session_factory):
    """§5: resuming a 12:00 video at 5:22 plays the 5:00 break only; the pre-roll is spent."""
    _, viewer, video = cast
    ad = add_ad(session_factory, only=True)
    opened = start(db, viewer, video, start_position_ms=322_000)
    assert opened.due_slots == [1]
    for slot, code in ((0, "slot_spent"), (1, None)):
        if code is None:
            assert pick_ad(db, viewer_id=viewer.id, video_id=video.id, session_id=opened.session_id,
                           slot_index=slot).id == ad.id
            record_ad_view(db, viewer_id=viewer.id, video_id=video.id, session_id=opened.session_id,
                           slot_index=slot, ad_id=ad.id, now=at(1))
            continue
        with pytest.raises(PlaybackError) as spent:
            record_ad_view(db, viewer_id=viewer.id, video_id=video.id, session_id=opened.session_id,
                           slot_index=slot, ad_id=ad.id, now=at(1))
        assert spent.value.code == code
    # Going back before 5:00 and playing on does not bring the spent pre-roll back.
    report(db, viewer, video, opened.session_id, 10, 330_000, seek_to_ms=10_000)
    details = session_details(db, viewer_id=viewer.id, video_id=video.id, session_id=opened.session_id)
    assert details.ad_views == {1: ad.id} and details.due_slots == []


def test_a_progress_report_does_not_lock_the_video(cast, engine):
    """Everybody watching one video must not queue on its row: the locking read takes only the session."""
    _, viewer, video = cast
    with engine.connect() as reporter, engine.connect() as editor:
        db = Session(bind=reporter)
        opened = start(db, viewer, video)
        db.execute(_SESSION_ROW.where(PlaySession.id == opened.session_id).with_for_update()).one()
        editor.execute(text("SET SESSION innodb_lock_wait_timeout = 1"))
        editor.execute(text("UPDATE videos SET title = 'edited while watched' WHERE id = :id"), {"id": video.id})
        editor.commit()
        db.rollback()
        db.close()


def test_a_missing_resume_row_is_made_again(db, cast):
    _, viewer, video = cast
    opened = start(db, viewer, video)
    db.execute(delete(PlayHistory).where(PlayHistory.viewer_id == viewer.id, PlayHistory.video_id == video.id))
    db.commit()
    report(db, viewer, video, opened.session_id, 10, 10_000, playing=False)
    assert row(db, opened.session_id)["watch_ms"] == 10_000
    history = db.get(PlayHistory, (viewer.id, video.id))
    assert (history.last_position_ms, history.status) == (10_000, PlayStatus.PAUSE)


def test_the_same_rules_hold_on_sqlite_for_the_first_look():
    """`paysystem up` runs on SQLite: the portable statements must give the same results."""
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as db:
        seller = create_user(db, email="seller@example.com", password=None, role=Role.SELLER)
        viewer = create_user(db, email="viewer@example.com", password=None, role=Role.VIEWER)
        video = Video(seller_id=seller.id, title="t", description="", media_path="x.webm", content_type="video/webm",
                      size_bytes=1, duration_seconds=720)
        video.slots = [AdSlot(slot_index=i, position_seconds=p) for i, p in enumerate(ad_slot_positions(720))]
        db.add(video)
        db.commit()
        opened = start(db, viewer, video)
        report(db, viewer, video, opened.session_id, 10, 10_000)
        report(db, viewer, video, opened.session_id, 12, 12_000, seek_to_ms=400_000)
        report(db, viewer, video, opened.session_id, 20, 405_000, playing=False)
        stored = db.get(PlaySession, opened.session_id)
        assert (stored.watch_ms, stored.furthest_position_ms) == (17_000, 405_000)
        assert resume_state(db, viewer.id, video) == ResumeState(405_000, PlayStatus.PAUSE)
        assert start(db, viewer, video, 20).reject_reason == RejectReason.REPEAT_WITHIN_30S
    engine.dispose()
