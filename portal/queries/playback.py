"""The player's JSON bodies: open a session, report progress, report an ad view (§4–§5).

One model per body, read by `parse_body` for the browser player, the API's views and the
progress fast path in front of Flask (portal/api/progress_fast_path.py) alike. Players rely on
the refusal codes these bodies have always had — `invalid_json`, `missing_field`,
`not_a_number`, `negative_value`, `invalid_state` (all 422) — so each check raises its own code
(`own_refusal`) instead of pydantic's generic one. Fields are checked in the order they are
declared, so the first problem named is the one the player has always been told about.

The same models are the API's documented request bodies (portal/api/playback_schemas.py hands
them to spectree): each field carries the JSON schema it is documented with (`WithJsonSchema`:
numbers are `number`, since fractions are rounded to whole milliseconds or ids, and at least 0),
and `PlayerBody` lists the required ones, which the model itself takes as absent-able only so
that an absent one gets its own refusal.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, ConfigDict, Field, ValidationInfo, WithJsonSchema

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


_NUMBER = {"type": "number", "minimum": 0}
# A required number's default (None) is validated, so that an absent one gets the same refusal as
# a null one; the other defaults are not (the hot progress report pays for no check it skips).
RequiredNumber = Annotated[int, BeforeValidator(_required), WithJsonSchema(_NUMBER),
                           Field(None, validate_default=True)]
OptionalNumber = Annotated[int | None, BeforeValidator(_optional),
                           WithJsonSchema({"anyOf": [_NUMBER, {"type": "null"}]})]
PlayState = Annotated[str, BeforeValidator(_play_state), WithJsonSchema({"type": "string", "enum": list(PLAY_STATES)})]


def _document_required(schema: dict[str, Any], model: type) -> None:
    """The body's JSON schema: its `RequiredNumber` fields are required and have no default."""
    required = [name for name, field in model.model_fields.items()  # type: ignore[attr-defined]
                if any(getattr(m, "func", None) is _required for m in field.metadata)]
    for name in required:
        schema["properties"][name].pop("default", None)
    if required:
        schema["required"] = required


class PlayerBody(Body):
    model_config = ConfigDict(json_schema_extra=_document_required)
    NOT_AN_OBJECT: ClassVar[tuple[str, str]] = ("invalid_json",
                                                "Send a JSON object with Content-Type: application/json.")


class OpenSessionBody(PlayerBody):
    """Optional: where playback starts (default: where the viewer stopped, §4)."""

    start_position_ms: OptionalNumber = None


class ProgressBody(PlayerBody):
    """A progress report (§4): where the player is, whether it plays, where the viewer jumped to."""

    # The state first: players have always been told about a wrong state before a wrong number.
    state: PlayState = "playing"
    position_ms: RequiredNumber = Field(description="Where the player is (ms into the video).")
    seek_to_ms: OptionalNumber = Field(None, description="Where the viewer jumped to, when they seeked.")

    @property
    def playing(self) -> bool:
        return self.state == "playing"


class AdViewBody(PlayerBody):
    """The ad the player started for an ad break."""

    slot_index: RequiredNumber = Field(description="The ad break (0 is the pre-roll).")
    ad_id: RequiredNumber = Field(description="The ad the player was given for that break.")
