"""The rules of watching (§4–§7) as plain functions: credit, counting, slots, resume, days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.business_time import business_day
from models.catalog.tables import ad_slot_positions
from models.playback.tables import PlayStatus, RejectReason
from models.playback.watch_rules import (
    PlaybackError,
    ProgressReport,
    SessionProgress,
    apply_report,
    check_ad_slot,
    classify_session,
    credit_ms,
    due_slots,
    history_position_ms,
    resume_position_ms,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
MIN_12 = 720_000


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fresh(position_ms: int = 0) -> SessionProgress:
    return SessionProgress(started_at=T0, last_report_at=T0, last_position_ms=position_ms,
                           furthest_position_ms=position_ms, watch_ms=0)


def play(state: SessionProgress, *reports: tuple[float, int, int | None]) -> SessionProgress:
    """Apply (server seconds after T0, position ms, seek_to ms) reports in order."""
    for seconds, position, seek_to in reports:
        state = apply_report(state, ProgressReport(position, True, seek_to), at(seconds), MIN_12)
    return state


# --- §4 credit -------------------------------------------------------------------------------

def test_normal_playback_credits_the_position_advance():
    assert credit_ms(0, 10_000, at(0), at(10)) == 10_000
    state = play(fresh(), (10, 10_000, None), (20, 20_000, None), (30, 30_000, None))
    assert state.watch_ms == 30_000


def test_credit_is_bounded_by_server_time_plus_two_seconds():
    # The client claims 60 s of progress 10 s after the previous report (fast clock, 6× rate, forged).
    assert credit_ms(0, 60_000, at(0), at(10)) == 12_000


def test_clock_skew_of_the_client_does_not_matter_only_server_time_does():
    # Network jitter: one report arrives late, the next one early; the 2 s slack absorbs it.
    assert play(fresh(), (10.8, 10_000, None), (20.3, 20_000, None)).watch_ms == 20_000
    # A client clock (or playback rate) running 10 % fast is held to the server's time.
    assert play(fresh(), (10, 11_000, None), (20, 22_000, None)).watch_ms == 20_000
    # A server clock that stepped back between two reports credits nothing, never a negative amount.
    stepped_back = apply_report(play(fresh(), (10, 10_000, None)), ProgressReport(15_000, True), at(5), MIN_12)
    assert stepped_back.watch_ms == 10_000


def test_backward_seek_credits_nothing_and_replay_is_credited_again():
    state = play(fresh(), (10, 10_000, None))
    state = play(state, (11, 11_000, 2_000))  # seek back from 0:11 to 0:02
    assert state.watch_ms == 11_000 and state.last_position_ms == 2_000
    state = play(state, (21, 12_000, None))  # watched 0:02–0:12 again
    assert state.watch_ms == 21_000


def test_forward_seek_credits_only_what_was_played_before_it():
    state = play(fresh(), (10, 10_000, None), (15, 15_000, 400_000))
    assert state.watch_ms == 15_000
    assert state.last_position_ms == 400_000 and state.furthest_position_ms == 400_000
    # Had the seek been reported as a plain position, the formula would give 7 s of slack, not 290 s.
    assert credit_ms(10_000, 400_000, at(10), at(15)) == 7_000


def test_long_gap_credits_only_real_progress():
    state = play(fresh(), (10, 10_000, None))
    # Paused for an hour, then 5 s more: the gap itself is worth nothing.
    state = apply_report(state, ProgressReport(10_000, False), at(20), MIN_12)
    state = play(state, (3_620, 10_000, None), (3_625, 15_000, None))
    assert state.watch_ms == 15_000
    # A tab whose timer was throttled reports 60 s of progress after 60 s: all of it counts.
    assert play(fresh(), (60, 60_000, None)).watch_ms == 60_000


def test_a_session_never_credits_more_than_its_wall_clock_duration():
    # Flooding reports 2 s ahead every 100 ms would collect the slack each time without the cap.
    state = fresh()
    for i in range(1, 51):
        state = play(state, (i * 0.1, i * 2_000, None))
    assert state.watch_ms == 5_000  # 50 reports in 5 s of wall clock
    assert state.last_position_ms == 100_000


# --- §4 end and resume -----------------------------------------------------------------------

def test_reaching_the_end_sets_end_and_resume_goes_back_to_zero():
    state = play(fresh(700_000), (20, MIN_12 - 1_000, None))
    assert state.status == PlayStatus.END and state.ended_at == at(20)
    assert history_position_ms(state) == 0
    assert resume_position_ms(PlayStatus.END, MIN_12 - 1_000, MIN_12) == 0
    # Just short of the end is not the end.
    short = play(fresh(700_000), (18, MIN_12 - 1_001, None))
    assert short.status == PlayStatus.PLAY and history_position_ms(short) == MIN_12 - 1_001


def test_resume_starts_at_the_stored_position_after_pause():
    assert resume_position_ms(PlayStatus.PAUSE, 305_000, MIN_12) == 305_000
    assert resume_position_ms(PlayStatus.PLAY, 12_345, MIN_12) == 12_345
    assert resume_position_ms(None, 0, MIN_12) == 0


def test_an_ended_session_takes_no_more_reports():
    ended = play(fresh(700_000), (20, MIN_12, None))
    with pytest.raises(PlaybackError) as error:
        apply_report(ended, ProgressReport(5_000, True), at(30), MIN_12)
    assert error.value.kind == "conflict"


@pytest.mark.parametrize("position", [-1, MIN_12 + 1, 1.5, True, None, "10"])
def test_positions_outside_the_video_or_not_whole_numbers_are_refused(position):
    with pytest.raises(PlaybackError) as error:
        apply_report(fresh(), ProgressReport(position, True), at(1), MIN_12)  # type: ignore[arg-type]
    assert error.value.kind == "invalid"


def test_pause_and_play_states_are_kept():
    assert apply_report(fresh(), ProgressReport(3_000, False), at(3), MIN_12).status == PlayStatus.PAUSE
    assert apply_report(fresh(), ProgressReport(3_000, True), at(3), MIN_12).status == PlayStatus.PLAY


# --- §6 counting -----------------------------------------------------------------------------

def test_own_video_is_never_counted():
    assert classify_session(7, 7, None, T0) == (False, RejectReason.OWN_VIDEO)
    # Own video wins over the repeat rule.
    assert classify_session(7, 7, T0 - timedelta(seconds=5), T0) == (False, RejectReason.OWN_VIDEO)


def test_repeat_within_30_seconds_of_a_counted_view():
    assert classify_session(1, 2, T0 - timedelta(seconds=29, microseconds=999_999), T0) == (
        False, RejectReason.REPEAT_WITHIN_30S)
    assert classify_session(1, 2, T0 - timedelta(seconds=30), T0) == (True, None)
    assert classify_session(1, 2, None, T0) == (True, None)


# --- §5 slots --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("duration", "slots"),
    [(0, []), (299, []), (300, [0]), (599, [0]), (600, [0, 300]), (720, [0, 300]), (3600, list(range(0, 3600, 300)))],
)
def test_slot_arithmetic(duration, slots):
    assert ad_slot_positions(duration) == slots


def test_due_slots_are_reached_or_skipped_and_not_yet_played():
    slots = ad_slot_positions(1_200)  # 0, 300, 600, 900
    assert due_slots(slots, 0, ()) == [0]
    assert due_slots(slots, 299_999, [0]) == []
    assert due_slots(slots, 300_000, [0]) == [1]
    assert due_slots(slots, 650_000, [0]) == [2]  # a jump past two slots: one break, the last (§5)
    assert due_slots(slots, 650_000, []) == [2]
    assert due_slots(slots, 650_000, [2]) == []  # slots 0 and 1 were spent by the jump
    assert due_slots(slots, 950_000, [2]) == [3]
    assert due_slots(slots, 650_000, [0, 1, 2]) == []


def test_ad_slot_checks():
    slots = ad_slot_positions(720)
    assert check_ad_slot(slots, 0, 0) == 0
    assert check_ad_slot(slots, 1, 300_000) == 300
    with pytest.raises(PlaybackError) as ahead:
        check_ad_slot(slots, 1, 299_999)
    assert ahead.value.code == "slot_ahead"
    with pytest.raises(PlaybackError) as missing:
        check_ad_slot(slots, 2, 720_000)
    assert missing.value.code == "no_such_slot"
    with pytest.raises(PlaybackError):
        check_ad_slot(slots, -1, 720_000)


# --- §7 business day -------------------------------------------------------------------------

def test_day_attribution_around_midnight_in_seoul():
    seoul = ZoneInfo("Asia/Seoul")
    # 23:59:59.999 KST on 1 March is 14:59:59.999 UTC; midnight KST is 15:00 UTC.
    assert business_day(datetime(2026, 3, 1, 14, 59, 59, 999_000, tzinfo=UTC), seoul) == date(2026, 3, 1)
    assert business_day(datetime(2026, 3, 1, 15, 0, 0, tzinfo=UTC), seoul) == date(2026, 3, 2)
    # UTC's midnight is 09:00 in Seoul: still the same business day.
    assert business_day(datetime(2026, 3, 2, 0, 0, 0, tzinfo=UTC), seoul) == date(2026, 3, 2)
