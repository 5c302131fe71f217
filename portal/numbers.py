"""Whole numbers from the outside world (URL parts, query arguments, JSON), kept in range.

Python's `int()` and `str.isdigit()` accept Unicode digits ('٣', and for isdigit even '²',
which int() then refuses) and numbers of any size; MariaDB's BIGINT and SQLite's INTEGER
stop at 2**63 - 1 and an OFFSET beyond that is a SQL error. So ids and page numbers are
ASCII digits within a range, and anything else is the client's mistake (4xx), never a 500.
"""

from __future__ import annotations

import re
from typing import Any

from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

# The largest id a BIGINT column (and SQLite's INTEGER) holds.
MAX_ID = 2**63 - 1
# Far beyond the last page of any listing, small enough that page × per_page is a valid OFFSET.
MAX_PAGE = 10**9
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")


def whole_number(raw: str | None, *, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    """`raw` as an int if it is ASCII digits within [minimum, maximum], else None."""
    if raw is None or not _ASCII_DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if minimum <= value <= maximum else None


class IdConverter(IntegerConverter):
    """`<int:...>` in routes: ASCII digits up to MAX_ID; anything else does not match (404)."""

    regex = r"[0-9]{1,19}"

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with a body nested too deeply for the parser treated as malformed.

    The standard decoder raises RecursionError (not ValueError) on a few thousand nested
    brackets, which `get_json(silent=True)` does not catch: every JSON endpoint answered 500.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s, **kwargs)


def loads(s: str | bytes, **kwargs: Any) -> Any:
    """json.loads that raises ValueError, not RecursionError, for deeply nested input."""
    import json

    try:
        return json.loads(s, **kwargs)
    except RecursionError as exc:
        raise ValueError("the JSON body is nested too deeply") from exc
