"""A short-lived, per-process memo of the data statuses of day ranges (§10) for the portal.

`models/data_status.day_statuses` costs three queries (a grouped MAX over the range's raw
events, the succeeded runs, the price plans). The portal asked them on every request that
shows figures — up to three times per dashboard — and they were the largest part of a
cached answer. A status moves only when raw events of a closed day change, a run succeeds or
a price plan is created, so a process keeps each range's statuses for `ttl_seconds`.

The bound: a status computed here is at most `ttl_seconds` (FIGURE_STATUS_TTL_SECONDS,
default 5 s) older than the database (an answer of the read API cached whole by
portal/read_pipeline.py lives as long again, so up to twice that there), so a day whose events changed after its run is shown
`final` for at most that long after the change (and a re-run's `final` appears at most that
late). 5 s is well under the time a batch run of a day takes (minutes) and under the
refresh interval of any page, so nobody can act on the difference; 0 switches the memo off.
The figures themselves are never served from here (they are versioned exactly by
models/figures/cache.py), and exports, ops pages and the command line ask `day_statuses`.
The key includes today's business date, so midnight turns `live` into `pending` at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from models.business_time import today
from models.figures.data_status import day_statuses
from models.ttl_memo import TtlMemo

MAX_ENTRIES = 1024  # distinct ranges kept; beyond that the memo starts over


class StatusMemo:
    """The status of each day of a range, as `day_statuses` said at most `ttl_seconds` ago."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl_seconds
        self._memo: TtlMemo[dict[date, str]] = TtlMemo(ttl_seconds, max_entries=MAX_ENTRIES, clock=clock)

    def statuses(self, session: Session, first: date, last: date, tz: ZoneInfo) -> dict[date, str]:
        """`{day: status value}` for `first`..`last` (a copy the caller may keep)."""
        key = (first, last, today(tz), tz.key)
        return dict(self._memo.get_or_make(key, lambda: _fresh(session, first, last, tz)))


def _fresh(session: Session, first: date, last: date, tz: ZoneInfo) -> dict[date, str]:
    return {d: s.status.value for d, s in day_statuses(session, first, last, tz).items()}
