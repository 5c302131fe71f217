"""Request and answer of GET /api/v1/videos/{video_id}/retention (issue 22, item 1)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from portal.api.skip_schemas import SkipFigures
from portal.queries.figures import RetentionQuery

__all__ = ["Retention", "RetentionPoint", "RetentionQuery"]


class RetentionPoint(BaseModel):
    pct: int = Field(ge=0, le=100, description="Position in the video, in whole percent of its length.")
    share: float = Field(ge=0, le=1, description="Share of the counted views still watching there (0 to 1).")


class Retention(BaseModel):
    """Computed by the nightly batch from the counted views' furthest position and credited watch time:
    a view is still watching at x % when it both reached x % and played at least x % of the length."""

    video_id: int
    period: str
    period_start: date
    period_end: date
    duration_seconds: int
    views: int = Field(ge=0, description="Counted views of the days the batch has computed in the period.")
    avg_view_seconds: float | None = Field(description="Credited watch time per view; null without views.")
    avg_pct_viewed: float | None = Field(description="Mean share of the length a view reached and played, "
                                                     "0 to 100; null without views.")
    curve: list[RetentionPoint] = Field(description="101 points (0 … 100 %); empty without views.")
    ad_slot_pcts: list[float] = Field(description="Ad-slot positions (§5) in percent of the length.")
    ad_skips: SkipFigures = Field(description="Skips of the ads shown in this video's breaks over the period.")
