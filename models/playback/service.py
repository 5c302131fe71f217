"""The database work of watching: play sessions, progress, resume state and ad views (§4–§7).

The rules themselves live in models/playback/watch_rules.py; this module reads the rows they need,
writes what they decide, and commits. Every function takes the server time `now` (aware
UTC) so callers and tests control the clock, and raises PlaybackError, with nothing
changed, for a request the rules refuse.

Progress reports are the hot path (one per viewer every few seconds). On MariaDB/MySQL the
portal records them with models/playback/progress_recorder.py (the credit computed in SQL) and
comes here only for what that does not match; here, portable to SQLite, it is one short
transaction on primary keys — a locking read of the session row, one UPDATE of it and of the viewer's
resume row, commit — touching no other row, so sessions never wait for each other. The
video's duration comes from a subquery, which a locking read does not lock, so everybody
watching the same video does not queue on its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.accounts.users import User
from models.base import UTCDateTime, utcnow
from models.business_time import business_day
from models.catalog.tables import Ad, AdSlot, Video
from models.playback.ad_rotation import DEFAULT_WINDOW_HOURS, count_pick, least_picked_ad
from models.playback.tables import (
    AdPick,
    AdView,
    PlayHistory,
    PlaySession,
    PlayStatus,
    RejectReason,
)
from models.playback.watch_rules import (
    PlaybackError,
    ProgressReport,
    SessionProgress,
    apply_report,
    check_ad_slot,
    check_position,
    check_slot_not_spent,
    classify_session,
    due_slots,
    history_position_ms,
    resume_position_ms,
)
from models.upserts import insert_if_missing

# Core UPDATEs on mapped classes: skip the ORM's search for affected objects in the session.
_CORE = {"synchronize_session": False}

_duration_seconds = select(Video.duration_seconds).where(Video.id == PlaySession.video_id).scalar_subquery()
# Lets a caller that authenticated the viewer by token alone (the API's progress endpoint)
# refuse a switched-off account, or a token issued before the account's sessions were ended,
# without loading the user.
_viewer_active = select(User.is_active).where(User.id == PlaySession.viewer_id).scalar_subquery()
_viewer_session_version = select(User.session_version).where(User.id == PlaySession.viewer_id).scalar_subquery()
_SESSION_ROW = select(
    PlaySession.viewer_id,
    PlaySession.video_id,
    PlaySession.day,
    PlaySession.started_at,
    PlaySession.last_report_at,
    PlaySession.last_position_ms,
    PlaySession.furthest_position_ms,
    PlaySession.watch_ms,
    PlaySession.ended_at,
    PlaySession.counted,
    PlaySession.reject_reason,
    _duration_seconds.label("duration_seconds"),
    _viewer_active.label("viewer_active"),
    _viewer_session_version.label("viewer_session_version"),
)

_PS, _PH, _PICK = PlaySession.__table__, PlayHistory.__table__, AdPick.__table__
_AT = UTCDateTime()
_LOCKED_SESSION = _SESSION_ROW.where(PlaySession.id == bindparam("p_session_id")).with_for_update()
_SESSION_VALUES = {
    _PS.c.last_report_at: bindparam("p_now", type_=_AT),
    _PS.c.last_position_ms: bindparam("p_last_position_ms"),
    _PS.c.furthest_position_ms: bindparam("p_furthest_position_ms"),
    _PS.c.watch_ms: bindparam("p_watch_ms"),
    _PS.c.ended_at: bindparam("p_ended_at", type_=_AT),
    _PS.c.updated_at: bindparam("p_now", type_=_AT),
}
_HISTORY_VALUES = {
    _PH.c.last_position_ms: bindparam("p_history_position_ms"),
    _PH.c.status: bindparam("p_status", type_=_PH.c.status.type),
    _PH.c.updated_at: bindparam("p_now", type_=_AT),
}
_UPDATE_SESSION = update(_PS).where(_PS.c.id == bindparam("p_session_id")).values(_SESSION_VALUES)
_UPDATE_HISTORY = (
    update(_PH)
    .where(_PH.c.viewer_id == bindparam("p_viewer_id"), _PH.c.video_id == bindparam("p_video_id"))
    .values(_HISTORY_VALUES)
)
_INSERT_HISTORY = insert(_PH).values(
    {_PH.c.viewer_id: bindparam("p_viewer_id"), _PH.c.video_id: bindparam("p_video_id"), **_HISTORY_VALUES}
)
@dataclass(frozen=True)
class ResumeState:
    position_ms: int
    status: PlayStatus | None


@dataclass(frozen=True)
class OpenedSession:
    session_id: int
    video_id: int
    counted: bool
    reject_reason: RejectReason | None
    day: date
    start_position_ms: int
    slot_positions: list[int]
    due_slots: list[int]


@dataclass(frozen=True)
class ProgressResult:
    session_id: int
    position_ms: int
    status: PlayStatus
    ended: bool


@dataclass(frozen=True)
class SessionDetails:
    session_id: int
    video_id: int
    day: date
    counted: bool
    reject_reason: RejectReason | None
    started_at: datetime
    last_position_ms: int
    furthest_position_ms: int
    watch_ms: int
    ended: bool
    slot_positions: list[int]
    ad_views: dict[int, int]  # slot index → ad id

    @property
    def due_slots(self) -> list[int]:
        return due_slots(self.slot_positions, self.furthest_position_ms, self.ad_views)


def resume_state(db: Session, viewer_id: int, video: Video) -> ResumeState:
    """Where `viewer_id` continues `video` on the next visit (§4)."""
    history = db.get(PlayHistory, (viewer_id, video.id))
    if history is None:
        return ResumeState(0, None)
    position = resume_position_ms(history.status, history.last_position_ms, video.duration_seconds * 1000)
    return ResumeState(position, history.status)


def _slot_positions(db: Session, video_id: int) -> list[int]:
    return list(
        db.scalars(select(AdSlot.position_seconds).where(AdSlot.video_id == video_id).order_by(AdSlot.slot_index))
    )


def open_session(
    db: Session,
    *,
    viewer: User,
    video: Video,
    now: datetime,
    tz: ZoneInfo,
    start_position_ms: int | None = None,
) -> OpenedSession:
    """Start a play session when the viewer presses play; committed.

    It starts at `start_position_ms`, or where the viewer stopped last time. Whether it is a
    counted view is decided here, once (§6), from the viewer's resume row of the video, read
    locked and updated in the same transaction: however many sessions open at the same
    instant, on MariaDB or SQLite, one is counted and none fails on the resume row.
    """
    duration_ms = video.duration_seconds * 1000
    if start_position_ms is not None:
        check_position(start_position_ms, duration_ms, "start_position_ms")
    # MariaDB: one viewer's opens queue here, so the resume row below is claimed by one at a time.
    db.execute(select(User.id).where(User.id == viewer.id).with_for_update())
    # A write first: SQLite takes its database write lock here, which serialises the decision.
    insert_if_missing(db, _PH, {"viewer_id": viewer.id, "video_id": video.id,
                                "last_position_ms": start_position_ms or 0, "status": PlayStatus.PLAY,
                                "updated_at": now})
    # A locking read sees the latest committed row, not the snapshot of the request's first
    # read (MariaDB's repeatable read), and keeps it locked until commit.
    history = db.execute(
        select(PlayHistory.last_position_ms, PlayHistory.status, PlayHistory.last_counted_at)
        .where(PlayHistory.viewer_id == viewer.id, PlayHistory.video_id == video.id)
        .with_for_update()
    ).one()
    counted, reason = classify_session(viewer.id, video.seller_id, history.last_counted_at, now)
    if start_position_ms is None:
        start_position_ms = resume_position_ms(history.status, history.last_position_ms, duration_ms)
    play = PlaySession(
        viewer_id=viewer.id,
        video_id=video.id,
        day=business_day(now, tz),
        started_at=now,
        last_report_at=now,
        last_position_ms=start_position_ms,
        furthest_position_ms=start_position_ms,
        watch_ms=0,
        length_ms=duration_ms,
        counted=counted,
        reject_reason=reason,
        updated_at=now,
    )
    db.add(play)
    resumed = {_PH.c.last_position_ms: start_position_ms, _PH.c.status: PlayStatus.PLAY, _PH.c.updated_at: now}
    if counted:
        resumed[_PH.c.last_counted_at] = now
    db.execute(update(_PH).where(_PH.c.viewer_id == viewer.id, _PH.c.video_id == video.id).values(resumed))
    db.flush()
    slots = _slot_positions(db, video.id)
    db.commit()
    return OpenedSession(
        session_id=play.id,
        video_id=video.id,
        counted=counted,
        reject_reason=reason,
        day=play.day,
        start_position_ms=start_position_ms,
        slot_positions=slots,
        due_slots=due_slots(slots, start_position_ms, ()),
    )


def _session_row(db: Session, *, session_id: int, viewer_id: int, video_id: int, lock: bool) -> Row:
    """The session's row (locked with `lock`); someone else's session is as unknown as a missing one."""
    statement = _SESSION_ROW.where(PlaySession.id == session_id)
    row = db.execute(statement.with_for_update() if lock else statement).one_or_none()
    if row is None or row.viewer_id != viewer_id or row.video_id != video_id:
        db.rollback()
        raise _unknown_session(session_id, video_id)
    return row


def _unknown_session(session_id: int, video_id: int) -> PlaybackError:
    return PlaybackError("not_found", "unknown_session",
                         f"There is no play session {session_id} of yours for video {video_id}.")


def _progress_of(row: Row) -> SessionProgress:
    return SessionProgress(
        started_at=row.started_at,
        last_report_at=row.last_report_at,
        last_position_ms=row.last_position_ms,
        furthest_position_ms=row.furthest_position_ms,
        watch_ms=row.watch_ms,
        ended_at=row.ended_at,
    )


def report_progress(
    db: Session | Connection, *, viewer_id: int, video_id: int, session_id: int, report: ProgressReport,
    now: datetime, session_version: int | None = None,
) -> ProgressResult:
    """Credit watch time for one progress report and move the resume position; committed.

    The credit uses the server time of the previous report, stored on the row, and the
    row stays locked until commit so two reports of one session cannot both use it.
    Portable (SQLite too); on MariaDB/MySQL the portal's hot path is
    models/playback/progress_recorder.py, which comes here only for what it does not match.
    `session_version`: the `sv` of the bearer token that authenticated the viewer, if any.
    """
    conn = db.connection() if isinstance(db, Session) else db
    row = conn.execute(_LOCKED_SESSION, {"p_session_id": session_id}).one_or_none()
    if row is None or row.viewer_id != viewer_id or row.video_id != video_id:
        db.rollback()
        raise _unknown_session(session_id, video_id)
    if not row.viewer_active:
        db.rollback()
        raise PlaybackError("unauthorized", "account_disabled", "This account is switched off.")
    if session_version is not None and row.viewer_session_version != session_version:
        db.rollback()  # a bearer token from before a sign-out or password change (portal/api/tokens.py)
        raise PlaybackError("unauthorized", "token_revoked", "The access token has been revoked.")
    try:
        new = apply_report(_progress_of(row), report, now, row.duration_seconds * 1000)
    except PlaybackError:
        db.rollback()
        raise
    params = {
        "p_session_id": session_id,
        "p_viewer_id": viewer_id,
        "p_video_id": video_id,
        "p_now": now,
        "p_last_position_ms": new.last_position_ms,
        "p_furthest_position_ms": new.furthest_position_ms,
        "p_watch_ms": new.watch_ms,
        "p_ended_at": new.ended_at,
        "p_history_position_ms": history_position_ms(new),
        "p_status": new.status,
    }
    conn.execute(_UPDATE_SESSION, params)
    if conn.execute(_UPDATE_HISTORY, params).rowcount == 0:
        ensure_history(conn, viewer_id=viewer_id, video_id=video_id,
                       position_ms=params["p_history_position_ms"], status=new.status, now=now)
    db.commit()
    return ProgressResult(session_id, new.last_position_ms, new.status, new.ended_at is not None)


def ensure_history(conn: Connection, *, viewer_id: int, video_id: int, position_ms: int, status: PlayStatus,
                   now: datetime) -> None:
    """Recreate a viewer's resume row (made when a session opens) if it went missing."""
    conn.execute(_INSERT_HISTORY, {"p_viewer_id": viewer_id, "p_video_id": video_id, "p_now": now,
                                   "p_history_position_ms": position_ms, "p_status": status})


def _played_slots(db: Session, session_id: int) -> dict[int, int]:
    rows = db.execute(select(AdView.slot_index, AdView.ad_id).where(AdView.session_id == session_id))
    return {slot: ad for slot, ad in rows}


def _check_slot_free(db: Session, row: Row, session_id: int, slot_index: int) -> None:
    """The slot exists, has been reached in this session and has no ad view yet."""
    if row.ended_at is not None:
        raise PlaybackError("conflict", "session_ended", "This play session has ended; start a new one to watch again.")
    slots = _slot_positions(db, row.video_id)
    check_ad_slot(slots, slot_index, row.furthest_position_ms)
    played = _played_slots(db, session_id)
    if slot_index in played:
        raise _duplicate_ad_view(slot_index)
    check_slot_not_spent(slots, slot_index, row.furthest_position_ms, played)


def _duplicate_ad_view(slot_index: int) -> PlaybackError:
    return PlaybackError("conflict", "duplicate_ad_view",
                         f"The ad of slot {slot_index} has already been shown in this session.")


def _check_chosen_ad(db: Session, session_id: int, slot_index: int, ad_id: int) -> None:
    """§5: the ad view names the ad the server chose for the slot (even if switched off since)."""
    chosen = db.scalar(select(_PICK.c.ad_id).where(_PICK.c.session_id == session_id,
                                                   _PICK.c.slot_index == slot_index))
    if chosen is None:
        raise PlaybackError("conflict", "ad_not_chosen",
                            f"No ad has been chosen for slot {slot_index} yet; ask which ad to play first.")
    if chosen != ad_id:
        raise PlaybackError("invalid", "not_the_chosen_ad",
                            f"Slot {slot_index} plays ad {chosen}, the ad the server chose; not ad {ad_id}.")


def pick_ad(db: Session, *, viewer_id: int, video_id: int, session_id: int, slot_index: int,
            now: datetime | None = None, window_hours: int = DEFAULT_WINDOW_HOURS) -> Ad:
    """The ad to show in a slot (§5): the active ad picked least over the last `window_hours`
    hours (lowest id on a tie, models/playback/ad_rotation.py); committed.

    The choice is stored (ad_picks) and asking again gives the same ad while it is active;
    the ad view of the slot must name it. A new choice is counted for the rotation at once;
    the impression is counted when the ad view is recorded. Under concurrency two players
    may get the same ad before either pick is committed, which evens out on the next picks:
    an exact global order is not worth a lock every player queues on.
    """
    row = _session_row(db, session_id=session_id, viewer_id=viewer_id, video_id=video_id, lock=False)
    try:
        _check_slot_free(db, row, session_id, slot_index)
    except PlaybackError:
        db.rollback()
        raise
    stamp = now or utcnow()
    ad = least_picked_ad(db, stamp, window_hours)
    if ad is None:
        db.rollback()
        raise PlaybackError("not_found", "no_active_ads", "There is no active ad to show; continue the video.")
    key = (_PICK.c.session_id == session_id, _PICK.c.slot_index == slot_index)
    insert_if_missing(db, _PICK, {"session_id": session_id, "slot_index": slot_index, "ad_id": ad.id,
                                  "picked_at": stamp})
    chosen_id, picked_at = db.execute(select(_PICK.c.ad_id, _PICK.c.picked_at).where(*key).with_for_update()).one()
    new_choice = chosen_id == ad.id and picked_at == stamp  # this request's row, not an earlier ask's
    if chosen_id != ad.id:
        chosen = db.get(Ad, chosen_id)
        if chosen is not None and chosen.is_active:
            ad = chosen
        else:
            db.execute(update(_PICK).where(*key).values(ad_id=ad.id, picked_at=stamp))
            new_choice = True
    if new_choice:
        count_pick(db, ad.id, stamp)  # last: the (ad, hour) row's lock is held only for the commit
    db.commit()
    return ad


def record_ad_view(
    db: Session, *, viewer_id: int, video_id: int, session_id: int, slot_index: int, ad_id: int, now: datetime
) -> AdView:
    """Record that an ad started playing in a slot (§5); committed.

    At most one per (session, slot), only for a slot at or before the furthest position.
    The view carries the session's business day (§7), even when it starts after midnight.
    The ad's impressions counter is bumped as the last statement, so its row lock is held
    only for the commit.
    """
    row = _session_row(db, session_id=session_id, viewer_id=viewer_id, video_id=video_id, lock=True)
    try:
        _check_slot_free(db, row, session_id, slot_index)
        if isinstance(ad_id, bool) or not isinstance(ad_id, int):
            raise PlaybackError("invalid", "invalid_ad", "ad_id must be a whole number.")
        _check_chosen_ad(db, session_id, slot_index, ad_id)
    except PlaybackError:
        db.rollback()
        raise
    view = AdView(session_id=session_id, video_id=video_id, day=row.day, counted=row.counted, slot_index=slot_index,
                  ad_id=ad_id,
                  viewed_at=now)
    db.add(view)
    try:
        db.flush()
    except IntegrityError:
        # A concurrent request recorded this slot between our check and our insert.
        db.rollback()
        raise _duplicate_ad_view(slot_index) from None
    db.execute(update(PlaySession).where(PlaySession.id == session_id).values(updated_at=now).execution_options(**_CORE))
    db.execute(update(Ad).where(Ad.id == ad_id).values(impressions=Ad.impressions + 1).execution_options(**_CORE))
    db.commit()
    return view


def session_details(db: Session, *, viewer_id: int, video_id: int, session_id: int) -> SessionDetails:
    row = _session_row(db, session_id=session_id, viewer_id=viewer_id, video_id=video_id, lock=False)
    return SessionDetails(
        session_id=session_id,
        video_id=video_id,
        day=row.day,
        counted=row.counted,
        reject_reason=row.reject_reason,
        started_at=row.started_at,
        last_position_ms=row.last_position_ms,
        furthest_position_ms=row.furthest_position_ms,
        watch_ms=row.watch_ms,
        ended=row.ended_at is not None,
        slot_positions=_slot_positions(db, video_id),
        ad_views=_played_slots(db, session_id),
    )
