"""Request and response models of the API's playback endpoints (§4–§5), and the spectree
decorators that document and validate them (the views of portal/api/playback.py carry them).

The JSON bodies are the models of portal/queries/playback.py, which the browser player and the
progress fast path (portal/api/progress_fast_path.py) read them with and whose refusal codes
players rely on; spectree documents and validates with the same models, and
portal/api/rule_checks.py makes a body they refuse answer with that model's own code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from portal.api.catalog_schemas import PlayerAd
from portal.api.openapi import api_spec, responses
from portal.api.rule_checks import refused_by_rules
from portal.playback.http import ad_view_input, open_session_input, progress_input
from portal.queries.playback import AdViewBody, OpenSessionBody, ProgressBody

RejectReason = Literal["own_video", "repeat_within_30s"]


class WatchHistory(BaseModel):
    video_id: int
    resume_position_ms: int
    status: Literal["PLAY", "PAUSE", "END"] | None


class OpenedSession(BaseModel):
    session_id: int
    video_id: int
    counted: bool = Field(description="Whether this play counts as a view (§6).")
    reject_reason: RejectReason | None
    day: date = Field(description="The business day the view counts on.")
    start_position_ms: int
    duration_ms: int
    ad_slots: list[int] = Field(description="Ad break positions, in seconds into the video.")
    due_slots: list[int] = Field(description="Indexes of the ad breaks still to be played.")
    report_every_seconds: int


class SessionAdView(BaseModel):
    slot_index: int
    ad_id: int


class PlaySessionDetails(BaseModel):
    session_id: int
    video_id: int
    day: date
    counted: bool
    reject_reason: RejectReason | None
    started_at: str = Field(description="ISO 8601, UTC.")
    last_position_ms: int
    furthest_position_ms: int
    watch_ms: int
    ended: bool
    ad_slots: list[int]
    ad_views: list[SessionAdView]
    due_slots: list[int]


class ProgressReply(BaseModel):
    session_id: int
    position_ms: int
    status: Literal["PLAY", "PAUSE", "END"]
    ended: bool


class SlotAd(BaseModel):
    slot_index: int
    ad: PlayerAd


class AdViewRecorded(BaseModel):
    session_id: int
    slot_index: int
    ad_id: int
    day: date


class AdSkipped(BaseModel):
    session_id: int
    slot_index: int
    ad_id: int
    skipped_at: str | None = Field(description="ISO 8601, UTC.")


Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
TAGS = ["playback"]
# Every session endpoint: no/bad token (401), an unknown video or session (404), a body over the
# limit (413), a refused report (409/422), and the revocation check unavailable (503).
REFUSALS = (401, 404, 409, 413, 422, 503)

API_PLAYBACK: dict[str, Decorator] = {
    "history": api_spec.validate(resp=responses(WatchHistory, 401, 404, 413, 503), tags=TAGS),
    "open_session": api_spec.validate(json=OpenSessionBody, resp=responses(OpenedSession, *REFUSALS, status=201),
                                      before=refused_by_rules(open_session_input), tags=TAGS),
    "session": api_spec.validate(resp=responses(PlaySessionDetails, 401, 404, 413, 503), tags=TAGS),
    # Served by the fast path in front of Flask (same parser, same replies); documented here.
    "progress": api_spec.validate(json=ProgressBody, resp=responses(ProgressReply, *REFUSALS),
                                  before=refused_by_rules(progress_input), tags=TAGS),
    "ad_for_slot": api_spec.validate(resp=responses(SlotAd, *REFUSALS), tags=TAGS),
    "ad_view": api_spec.validate(json=AdViewBody, resp=responses(AdViewRecorded, *REFUSALS, status=201),
                                 before=refused_by_rules(ad_view_input), tags=TAGS),
    "ad_skip": api_spec.validate(resp=responses(AdSkipped, *REFUSALS), tags=TAGS),
}
