"""One database engine per process for the batch jobs.

Worker processes run many jobs; opening a pool per job would cost a connection set-up
each time, and a pool inherited through fork() must never be shared with the parent.
"""

from __future__ import annotations

import os

from sqlalchemy import Engine

from models.db import make_engine

_engines: dict[tuple[int, str], Engine] = {}


def engine_for(database_url: str) -> Engine:
    key = (os.getpid(), database_url)
    engine = _engines.get(key)
    if engine is None:
        engine = _engines[key] = make_engine(database_url)
    return engine

