"""A per-process memo whose entries live a fixed number of seconds.

The portal keeps a few things it may show slightly late — data statuses
(models/figures/status_memo.py), the dashboard's rendered figures (portal/seller_portal/views.py) —
for FIGURE_STATUS_TTL_SECONDS, so that bound is stated and enforced in one place: an entry
is never given out after `ttl_seconds`, and 0 keeps nothing. Entries are cleared whole-sale
when there are too many: they live seconds, so an LRU would buy nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlMemo(Generic[V]):
    """`get_or_make(key, make)`: the value made for `key` at most `ttl_seconds` ago, or a new one."""

    def __init__(self, ttl_seconds: float, *, max_entries: int = 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        if self.ttl <= 0:
            return make()
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = make()  # outside the lock: two threads may both make it, and one wins; no waiting
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (now + self.ttl, value)
        return value
