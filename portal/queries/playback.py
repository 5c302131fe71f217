"""The player's JSON bodies: open a session, report progress, report an ad view (§4–§5).

One model per body, read by `parse_body` for the browser player, the API's views and the
progress fast path in front of Flask (portal/api/progress_fast_path.py) alike. Players rely on
the refusal codes these bodies have always had — `invalid_json`, `missing_field`,
`not_a_number`, `negative_value`, `invalid_state` (all 422) — so each check raises its own code
(`own_refusal`) instead of pydantic's generic one. Fields are checked in the order they are
declared, so the first problem named is the one the player has always been told about.

The API documents the same bodies with portal/api/playback_schemas.py (numbers there are
`number`: fractions are rounded to whole milliseconds or ids here).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, ValidationInfo

from portal.queries.parse import Body, own_refusal

PLAY_STATES = ("playing", "paused")


def _whole(value: Any, name: str) -> int:
    """A JSON number as whole units (fractions of a millisecond are rounded)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise own_refusal("not_a_number", f"{name} must be a number, got {value!r}.")
    number = round(value)
    if number < 0:
        raise own_refusal("negative_value", f"{name} cannot be negative (got {value}).")
    return number


def _required(value: Any, info: ValidationInfo) -> int:
    if value is None:  # absent or null
        raise own_refusal("missing_field", f"{info.field_name} is required.")
    return _whole(value, str(info.field_name))


def _optional(value: Any, info: ValidationInfo) -> int | None:
    return None if value is None else _whole(value, str(info.field_name))


def _play_state(value: Any) -> str:
    if value not in PLAY_STATES:
        raise own_refusal("invalid_state", f"state must be 'playing' or 'paused', got {value!r}.")
    return value


# A required number's default (None) is validated, so that an absent one gets the same refusal as
# a null one; the other defaults are not (the hot progress report pays for no check it skips).
RequiredNumber = Annotated[int, BeforeValidator(_required), Field(None, validate_default=True)]
OptionalNumber = Annotated[int | None, BeforeValidator(_optional)]


class PlayerBody(Body):
    NOT_AN_OBJECT: ClassVar[tuple[str, str]] = ("invalid_json",
                                                "Send a JSON object with Content-Type: application/json.")


class OpenSessionInput(PlayerBody):
    """Where playback starts (absent: where the viewer stopped, §4)."""

    start_position_ms: OptionalNumber = None


class ProgressInput(PlayerBody):
    """A progress report: the state first, as players have always been told about it first."""

    state: Annotated[str, BeforeValidator(_play_state)] = "playing"
    position_ms: RequiredNumber
    seek_to_ms: OptionalNumber = None

    @property
    def playing(self) -> bool:
        return self.state == "playing"


class AdViewInput(PlayerBody):
    """The ad the player started for an ad break."""

    slot_index: RequiredNumber
    ad_id: RequiredNumber
