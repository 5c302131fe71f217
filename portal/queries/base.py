"""The base of the query models whose forms send blank fields for "not chosen"."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class LenientQuery(BaseModel):
    """A query string as a form sends it: a repeated parameter counts by its first value and an
    empty one as absent (so its default applies). parse_query reads every query model this way;
    this validator gives spectree's path (the API views) the same reading."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _first_non_empty(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        firsts = {k: v[0] if isinstance(v, list) and v else v for k, v in data.items()}
        return {k: v for k, v in firsts.items() if v != ""}
