"""The rules of watching (§4–§6) as plain functions, so they can be tested without a database.

The service module (models/playback/service.py) reads rows, asks these functions what the
new state is, and writes it. Positions, durations and watch time are whole milliseconds;
instants are aware UTC datetimes taken from the server's clock, never from the client.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from models.errors import DomainError
from models.playback.tables import PlayStatus, RejectReason

# §4: each report may credit at most the server time since the previous report plus this.
CREDIT_SLACK_MS = 2_000
# §4: a position within this distance of the duration is the end of the video.
END_MARGIN_MS = 1_000
# §6: a counted view of the same video by the same viewer blocks another for this long.
REPEAT_WINDOW = timedelta(seconds=30)
_ONE_MS = timedelta(milliseconds=1)

class PlaybackError(DomainError):
    """A request the rules of watching refuse; nothing has been changed when it is raised.

    The shape of every domain error (models/errors.py), built kind first because every
    playback refusal names its kind and code.
    """

    def __init__(self, kind: str, code: str, message: str) -> None:
        super().__init__(message, kind=kind, code=code)


def elapsed_ms(earlier: datetime, later: datetime) -> int:
    """Whole milliseconds from `earlier` to `later` (negative when the clock went back)."""
    return (later - earlier) // _ONE_MS


def format_position(ms: int) -> str:
    seconds = ms // 1000
    return f"{seconds // 60}:{seconds % 60:02d}"


def credit_ms(prev_position_ms: int, position_ms: int, prev_report_at: datetime, now: datetime) -> int:
    """§4: `max(0, min(p − p_prev, t − t_prev + 2 s))` in milliseconds.

    The server time bounds the credit, so a client whose clock (or playback rate) runs fast
    gains nothing, a backwards seek credits nothing, and a server clock that stepped back
    between two reports credits nothing rather than a negative amount.

    The one place this rule is repeated is the SQL of models/playback/progress_recorder.py: there the
    database computes the credit (and the wall-clock cap of `apply_report`) from the row's own
    values inside the UPDATE, so a report costs one round trip instead of a locked read and
    a write; the previous report's time and position never leave the database. It uses
    `CREDIT_SLACK_MS` from here, and tests/test_progress_recorder.py compares both on random
    report sequences. Status and resume position it takes from the functions below.
    """
    return max(0, min(position_ms - prev_position_ms, elapsed_ms(prev_report_at, now) + CREDIT_SLACK_MS))


def is_end(position_ms: int, duration_ms: int) -> bool:
    return position_ms >= duration_ms - END_MARGIN_MS


def status_after(final_position_ms: int, playing: bool, duration_ms: int) -> PlayStatus:
    """§4: END once the position reaches the end, otherwise PLAY or PAUSE as the player says."""
    if is_end(final_position_ms, duration_ms):
        return PlayStatus.END
    return PlayStatus.PLAY if playing else PlayStatus.PAUSE


def stored_resume_ms(status: PlayStatus, final_position_ms: int) -> int:
    """§4: what the resume state stores — the position, or 0 once the video has ended."""
    return 0 if status == PlayStatus.END else final_position_ms


def check_position(value: int, duration_ms: int, name: str = "position_ms") -> int:
    """A position inside the video, or PlaybackError(invalid)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlaybackError("invalid", "invalid_position", f"{name} must be a whole number of milliseconds.")
    if value < 0:
        raise PlaybackError("invalid", "invalid_position", f"{name} cannot be negative (got {value}).")
    if value > duration_ms:
        raise PlaybackError(
            "invalid",
            "position_beyond_duration",
            f"{name} {value} is beyond the end of the video ({duration_ms} ms).",
        )
    return value


@dataclass(frozen=True)
class ProgressReport:
    """What a player says: where playback is, whether it is playing, and a seek if one happened.

    A seek is reported as the position reached before it (`position_ms`, credited normally)
    plus where playback jumped to (`seek_to_ms`, never credited): that keeps the §4 rule
    "seeking credits nothing" exact instead of giving every seek the 2-second slack.
    """

    position_ms: int
    playing: bool
    seek_to_ms: int | None = None

    def validated(self, duration_ms: int) -> ProgressReport:
        check_position(self.position_ms, duration_ms)
        if self.seek_to_ms is not None:
            check_position(self.seek_to_ms, duration_ms, "seek_to_ms")
        return self

    @property
    def final_position_ms(self) -> int:
        return self.position_ms if self.seek_to_ms is None else self.seek_to_ms


@dataclass(frozen=True)
class SessionProgress:
    """The §4 state of one play session (a subset of the `play_sessions` row)."""

    started_at: datetime
    last_report_at: datetime
    last_position_ms: int
    furthest_position_ms: int
    watch_ms: int
    ended_at: datetime | None = None
    status: PlayStatus = PlayStatus.PLAY


def apply_report(state: SessionProgress, report: ProgressReport, now: datetime, duration_ms: int) -> SessionProgress:
    """The session after `report`, received at server time `now`.

    Watch time grows by the §4 credit but never beyond the session's wall-clock age, so a
    client flooding reports cannot collect the 2-second slack over and over. Reaching the end
    (position ≥ duration − 1 s) ends the session.
    """
    report.validated(duration_ms)
    if state.ended_at is not None:
        raise PlaybackError("conflict", "session_ended", "This play session has ended; start a new one to watch again.")
    credit = credit_ms(state.last_position_ms, report.position_ms, state.last_report_at, now)
    wall_ms = elapsed_ms(state.started_at, now)
    watch = max(state.watch_ms, min(state.watch_ms + credit, wall_ms))
    final = report.final_position_ms
    status = status_after(final, report.playing, duration_ms)
    ended = status == PlayStatus.END
    return replace(
        state,
        last_report_at=now,
        last_position_ms=final,
        furthest_position_ms=max(state.furthest_position_ms, report.position_ms, final),
        watch_ms=watch,
        ended_at=now if ended else None,
        status=status,
    )


def resume_position_ms(status: PlayStatus | None, last_position_ms: int, duration_ms: int) -> int:
    """Where the next visit starts (§4): the stored position, or 0 after the end."""
    if status is None or status == PlayStatus.END or is_end(last_position_ms, duration_ms):
        return 0
    return max(0, min(last_position_ms, duration_ms))


def history_position_ms(progress: SessionProgress) -> int:
    """What the resume state stores: the position, or 0 once the video has ended."""
    return stored_resume_ms(progress.status, progress.last_position_ms)


def classify_session(
    viewer_id: int, owner_id: int, last_counted_start: datetime | None, now: datetime
) -> tuple[bool, RejectReason | None]:
    """§6: is a session started now a counted view, and if not, why?

    Owning the video wins over the repeat rule. Only *counted* earlier views block, so a
    viewer reloading every 20 s gets a counted view every 40 s, not never again.
    """
    if viewer_id == owner_id:
        return False, RejectReason.OWN_VIDEO
    if last_counted_start is not None and now - last_counted_start < REPEAT_WINDOW:
        return False, RejectReason.REPEAT_WITHIN_30S
    return True, None


def due_slots(slot_positions: Sequence[int], furthest_position_ms: int, played: Iterable[int]) -> list[int]:
    """The slot whose break is due (§5): the last slot reached or jumped past, if none at or after it has played.

    A jump past several unplayed slots plays one break, for the last of them; the slots it
    jumped over are spent. So the answer holds at most one index (a list, as the API says).
    """
    reached = [index for index, position in enumerate(slot_positions) if position * 1000 <= furthest_position_ms]
    if not reached:
        return []
    last, done = reached[-1], set(played)
    return [] if done and max(done) >= last else [last]


def check_slot_not_spent(slot_positions: Sequence[int], slot_index: int, furthest_position_ms: int,
                         played: Iterable[int]) -> None:
    """PlaybackError(conflict) for a reached slot that is no longer due: jumped over, or before a played one (§5)."""
    if slot_index not in due_slots(slot_positions, furthest_position_ms, played):
        raise PlaybackError(
            "conflict",
            "slot_spent",
            f"Ad slot {slot_index} was passed in a jump; only the break of the last slot passed plays (§5).",
        )


def check_ad_slot(slot_positions: Sequence[int], slot_index: int, furthest_position_ms: int) -> int:
    """The position (seconds) of a slot an ad may be shown for now, or PlaybackError."""
    if isinstance(slot_index, bool) or not isinstance(slot_index, int):
        raise PlaybackError("invalid", "invalid_slot", "slot_index must be a whole number.")
    if not 0 <= slot_index < len(slot_positions):
        count = len(slot_positions)
        raise PlaybackError(
            "invalid",
            "no_such_slot",
            f"This video has no ad slot {slot_index} (it has {count} slot{'s' if count != 1 else ''}).",
        )
    position = slot_positions[slot_index]
    if position * 1000 > furthest_position_ms:
        raise PlaybackError(
            "conflict",
            "slot_ahead",
            f"Ad slot {slot_index} at {format_position(position * 1000)} is ahead of the furthest position "
            f"reached in this session ({format_position(furthest_position_ms)}).",
        )
    return position
