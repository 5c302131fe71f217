"""Reusable field types of the query models: a day inside the date window, an id a BIGINT holds,
a page number an OFFSET can take.

pydantic parses whole numbers from ASCII digits only ('²', '٣' and '３' are refused, not read as
digits as `int()` would), and the bounds keep a value out of the range where SQL or the calendar
arithmetic fails (a 25-digit id, a page whose OFFSET overflows, a day in year 9999).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from flask import has_app_context
from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo

from models.figures.date_window import DateOutOfRange, DayWindow, day_window
from portal.numbers import MAX_ID, MAX_PAGE
from portal.settings import settings

# The key of the validation context under which a caller outside a Flask app context (the read
# router, portal/read_router/router.py) hands over the window of its app.
WINDOW = "day_window"


def _window(info: ValidationInfo) -> DayWindow:
    given = (info.context or {}).get(WINDOW)
    if given is not None:
        return given
    if not has_app_context():
        raise ValueError("no date window to check against")  # never silently unchecked
    return day_window(settings())


def in_window(value: date, info: ValidationInfo) -> date:
    """The one date window (models/figures/date_window.py), for every date of every query model: far
    from it the week and month arithmetic overflows (a 500), and no real data lives there."""
    try:
        return _window(info).check(value, "the date")
    except DateOutOfRange as exc:
        raise ValueError(exc.message) from None


Day = Annotated[date, AfterValidator(in_window)]


def _iso_day(value: object) -> object:
    """A typed day must look like one: pydantic's own message ("input is too short") does not say
    what is expected."""
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise ValueError(f"must be a date (YYYY-MM-DD), got {value[:40]!r}")
    return value


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A day typed into a form field (the window is checked where it is used).
TypedDay = Annotated[date, BeforeValidator(_iso_day)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Page = Annotated[int, Field(ge=1, le=MAX_PAGE, description="Page, from 1.")]
Granularity = Literal["day", "week", "month"]


def rows_per_page(default: int, highest: int, description: str | None = None) -> int:
    """A `per_page` field: 1 … `highest`, `default` when absent."""
    return Field(default, ge=1, le=highest, description=description or f"Rows per page (at most {highest}).")
# An on/off switch posted by a toggle button: "1" on, "0" off; nothing else.
Switch = Literal["0", "1"]


_FLAGS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _flag(value: object) -> object:
    """true/false as a form or a script sends it (also 1/0, yes/no, on/off, any case)."""
    if isinstance(value, str):
        if value.lower() not in _FLAGS:
            raise ValueError(f"must be true or false, got {value[:40]!r}")
        return _FLAGS[value.lower()]
    return value


# A yes/no field of an API form (portal/api/catalog_schemas.py FLAG_DESCRIPTION documents it).
Flag = Annotated[bool, BeforeValidator(_flag)]
