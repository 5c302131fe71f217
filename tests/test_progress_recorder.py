"""The fast progress path (the §4 credit computed by MariaDB inside one UPDATE) against the
portable path that applies models/playback/watch_rules.py in Python: same answers, same errors, same
rows, for random report sequences including seeks, pauses, long gaps and clocks that step back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select, update

from models import PlayHistory, PlaySession, Role, User
from models.accounts.service import create_user
from models.playback.progress_recorder import ProgressRecorder
from models.playback.service import open_session, report_progress
from models.playback.watch_rules import PlaybackError, ProgressReport
from tests.support import unique_email
from tests.watching_support import add_video

SEOUL = ZoneInfo("Asia/Seoul")
T0 = datetime(2026, 5, 10, 3, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture(scope="module")
def recorder(engine: Engine):  # type: ignore[no-untyped-def]
    made = ProgressRecorder(engine)
    assert made.fast, "these tests are about the MariaDB statement"
    yield made
    made.dispose()


def _user(session_factory, role: Role) -> User:  # type: ignore[no-untyped-def]
    with session_factory() as db:
        user = create_user(db, email=unique_email(role.value), password="a-long-password-1", role=role)
        db.commit()
        db.refresh(user)
        db.expunge(user)
        return user


def _outcome(call, **kwargs):  # type: ignore[no-untyped-def]
    try:
        result = call(**kwargs)
    except PlaybackError as exc:
        return ("error", exc.kind, exc.code, exc.message)
    return ("ok", result.position_ms, result.status, result.ended)


_SESSION_FIELDS = ("day", "started_at", "last_report_at", "last_position_ms", "furthest_position_ms", "watch_ms",
                   "counted", "reject_reason", "ended_at", "updated_at")

reports = st.lists(
    st.tuples(
        st.integers(min_value=-4_000, max_value=40_000),  # server time since the previous report (ms)
        st.integers(min_value=-20_000, max_value=60_000),  # position change (ms)
        st.booleans(),  # playing
        st.one_of(st.none(), st.integers(min_value=-1_000, max_value=200_000)),  # seek target
        st.integers(min_value=0, max_value=999),  # microseconds of the report's time
    ),
    min_size=1,
    max_size=12,
)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(duration_s=st.integers(min_value=5, max_value=200), steps=reports)
def test_fast_path_equals_the_rules(session_factory, recorder, duration_s, steps):  # type: ignore[no-untyped-def]
    seller = _user(session_factory, Role.SELLER)
    fast_viewer, slow_viewer = _user(session_factory, Role.VIEWER), _user(session_factory, Role.VIEWER)
    video = add_video(session_factory, seller, seconds=duration_s)
    ids = {}
    with session_factory() as db:
        for viewer in (fast_viewer, slow_viewer):
            ids[viewer.id] = open_session(db, viewer=viewer, video=video, now=T0, tz=SEOUL).session_id
    now, position = T0, 0
    for dt, step, playing, seek, micros in steps:
        now += timedelta(milliseconds=dt, microseconds=micros)
        position = max(0, position + step)
        report = ProgressReport(position, playing, seek)
        fast = _outcome(recorder.record, viewer_id=fast_viewer.id, video_id=video.id,
                        session_id=ids[fast_viewer.id], report=report, now=now)
        with session_factory() as db:
            slow = _outcome(report_progress, db=db, viewer_id=slow_viewer.id, video_id=video.id,
                            session_id=ids[slow_viewer.id], report=report, now=now)
        assert fast == slow, (report, now)
        if seek is not None and 0 <= seek:
            position = seek
    with session_factory() as db:
        rows = {r.viewer_id: r for r in db.execute(select(PlaySession.__table__).where(
            PlaySession.id.in_(ids.values())))}
        history = {r.viewer_id: r for r in db.execute(select(PlayHistory.__table__).where(
            PlayHistory.video_id == video.id))}
    for field in _SESSION_FIELDS:
        assert getattr(rows[fast_viewer.id], field) == getattr(rows[slow_viewer.id], field), field
    for field in ("last_position_ms", "status", "updated_at"):
        assert getattr(history[fast_viewer.id], field) == getattr(history[slow_viewer.id], field), field


def test_refusals_change_nothing_and_say_why(session_factory, recorder):  # type: ignore[no-untyped-def]
    seller, viewer, other = (_user(session_factory, r) for r in (Role.SELLER, Role.VIEWER, Role.VIEWER))
    video = add_video(session_factory, seller, seconds=60)
    with session_factory() as db:
        sid = open_session(db, viewer=viewer, video=video, now=T0, tz=SEOUL).session_id

    def send(who: User, position: int, seconds: float, session_id: int = sid):  # type: ignore[no-untyped-def]
        return recorder.record(viewer_id=who.id, video_id=video.id, session_id=session_id,
                               report=ProgressReport(position, True), now=T0 + timedelta(seconds=seconds))

    def stored():  # type: ignore[no-untyped-def]
        with session_factory() as db:
            return db.execute(select(PlaySession.__table__).where(PlaySession.id == sid)).one()

    send(viewer, 5_000, 5)
    before = stored()
    for who, position, code in ((other, 6_000, "unknown_session"), (viewer, 61_000, "position_beyond_duration")):
        with pytest.raises(PlaybackError) as refused:
            send(who, position, 6)
        assert refused.value.code == code
    with pytest.raises(PlaybackError) as refused:
        send(viewer, 6_000, 6, session_id=sid + 10_000)
    assert refused.value.code == "unknown_session"
    with session_factory() as db:
        db.execute(update(User).where(User.id == viewer.id).values(is_active=False))
        db.commit()
    with pytest.raises(PlaybackError) as refused:
        send(viewer, 6_000, 6)
    assert refused.value.code == "account_disabled"
    assert stored() == before
    with session_factory() as db:
        db.execute(update(User).where(User.id == viewer.id).values(is_active=True))
        db.execute(delete(PlayHistory).where(PlayHistory.viewer_id == viewer.id))
        db.commit()
    # A missing resume row is recreated; reaching the end ends the session and resets resume to 0.
    assert send(viewer, 59_500, 62).ended
    with session_factory() as db:
        assert db.execute(select(PlayHistory.last_position_ms, PlayHistory.status)
                          .where(PlayHistory.viewer_id == viewer.id)).one() == (0, "END")
    with pytest.raises(PlaybackError) as refused:
        send(viewer, 59_500, 63)
    assert refused.value.code == "session_ended"
    assert stored().watch_ms == 59_500  # credited once, capped by the positions


def test_a_stale_cached_duration_is_caught_by_the_statement(session_factory, recorder):  # type: ignore[no-untyped-def]
    seller, viewer = _user(session_factory, Role.SELLER), _user(session_factory, Role.VIEWER)
    video = add_video(session_factory, seller, seconds=100)
    with session_factory() as db:
        sid = open_session(db, viewer=viewer, video=video, now=T0, tz=SEOUL).session_id
    recorder.record(viewer_id=viewer.id, video_id=video.id, session_id=sid, report=ProgressReport(1_000, True),
                    now=T0 + timedelta(seconds=1))
    recorder._durations[video.id] = 50  # as if the row had changed under a long-running process
    result = recorder.record(viewer_id=viewer.id, video_id=video.id, session_id=sid,
                             report=ProgressReport(49_500, True), now=T0 + timedelta(seconds=60))
    assert not result.ended  # judged against the real 100 s, not the stale 50 s
    assert video.id not in recorder._durations


def test_a_connection_the_server_dropped_is_replaced(session_factory, recorder, engine):  # type: ignore[no-untyped-def]
    seller, viewer = _user(session_factory, Role.SELLER), _user(session_factory, Role.VIEWER)
    video = add_video(session_factory, seller, seconds=100)
    with session_factory() as db:
        sid = open_session(db, viewer=viewer, video=video, now=T0, tz=SEOUL).session_id
    send = partial(recorder.record, viewer_id=viewer.id, video_id=video.id, session_id=sid)
    send(report=ProgressReport(1_000, True), now=T0 + timedelta(seconds=1))
    pooled = recorder.hot.raw_connection()
    thread_id = pooled.dbapi_connection.thread_id()
    pooled.close()
    with engine.connect() as conn:
        conn.exec_driver_sql(f"KILL CONNECTION {int(thread_id)}")
    result = send(report=ProgressReport(2_000, True), now=T0 + timedelta(seconds=2))
    assert result.position_ms == 2_000
    replacement = recorder.hot.raw_connection()
    assert replacement.dbapi_connection.thread_id() != thread_id
    replacement.close()
    with session_factory() as db:
        assert db.scalar(select(PlaySession.watch_ms).where(PlaySession.id == sid)) == 2_000
        assert db.scalar(select(PlayHistory.last_position_ms).where(PlayHistory.viewer_id == viewer.id)) == 2_000
