"""The skip figures the ads listing and a video's statistics carry (issue 21, item 12)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SkipFigures(BaseModel):
    """Ad views that could be skipped (ads over 15 s, §5) and how many were."""

    skipped: int = Field(ge=0, description="Skippable ad views the viewer skipped.")
    skippable: int = Field(ge=0, description="Ad views of ads longer than 15 s (those that offer Skip).")
    skip_rate: float | None = Field(
        ge=0, le=1, description="skipped / skippable (0 to 1); null when no ad view was skippable.")
