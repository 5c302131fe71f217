"""Progress reports on MariaDB/MySQL: one transaction, sent in one round trip.

Every player reports every few seconds, so a node's capacity is its cost per report, and on
a small node much of that cost is the network stack: each statement is a send and a receive
on both sides. The portable path (`playback_service.report_progress`) reads the session
under a row lock, applies models/playback/watch_rules.py in Python and writes it back: with the pool's
ping and reset that is five round trips. Here the §4 credit is computed by the database
inside the UPDATE of the session row, and the whole report is one multi-statement batch on a
connection that is never pinged, reset or rolled back:

    START TRANSACTION;
    UPDATE play_sessions ...;   -- watch time, positions and end computed from the row's own
                                -- values (single-table UPDATEs assign left to right and
                                -- `watch_ms` comes first); guarded by the owner, the video,
                                -- the session still open, the account still active and the
                                -- video's duration the caller used
    UPDATE play_history ... AND ROW_COUNT() = 1;   -- the resume position, only if the
                                                   -- session row matched (FOUND_ROWS)
    COMMIT

The §4 rule itself lives in models/playback/watch_rules.py: status and resume position come from its
`status_after` / `stored_resume_ms`; only the credit is repeated in SQL (next to `credit_ms`
it says why). Both rows change together or not at all. Anything the session statement does not match (a
session that is not the caller's, ended, a switched-off account, an invalid position, a stale
cached duration) commits nothing and is handed to the portable path, which produces the
precise error or — if a race made it valid meanwhile — applies the report exactly. Tests
compare both paths on random report sequences. A batch that fails part-way may leave its
transaction open, so its connection is discarded rather than pooled.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymysql.constants import CLIENT
from sqlalchemy import Engine
from sqlalchemy.engine.interfaces import DBAPICursor

from models.db import is_conflict_error, is_connection_error, make_engine
from models.playback.service import ProgressResult, ensure_history, report_progress
from models.playback.tables import PlayStatus
from models.playback.watch_rules import (
    CREDIT_SLACK_MS,
    PlaybackError,
    ProgressReport,
    status_after,
    stored_resume_ms,
)

_ELAPSED = "FLOOR(TIMESTAMPDIFF(MICROSECOND, {since}, %(now)s) / 1000)"
# Raw DBAPI statements (pyformat): the hot path skips SQLAlchemy's execution machinery.
_UPDATE_SESSION = f"""
    UPDATE play_sessions SET
        watch_ms = GREATEST(watch_ms, LEAST(
            watch_ms + GREATEST(0, LEAST(%(position)s - last_position_ms,
                                         {_ELAPSED.format(since="last_report_at")} + {CREDIT_SLACK_MS})),
            {_ELAPSED.format(since="started_at")})),
        furthest_position_ms = GREATEST(furthest_position_ms, %(position)s, %(final)s),
        last_position_ms = %(final)s,
        last_report_at = %(now)s,
        ended_at = %(ended_at)s,
        updated_at = %(now)s
    WHERE id = %(session)s AND viewer_id = %(viewer)s AND video_id = %(video)s AND ended_at IS NULL
      AND (SELECT duration_seconds FROM videos WHERE id = %(video)s) = %(duration_s)s
      AND EXISTS (SELECT 1 FROM users WHERE id = %(viewer)s AND is_active = 1
                  AND (%(sv)s IS NULL OR session_version = %(sv)s))
"""
_UPDATE_HISTORY = (
    "UPDATE play_history SET last_position_ms = %(resume)s, status = %(status)s, updated_at = %(now)s "
    "WHERE viewer_id = %(viewer)s AND video_id = %(video)s AND ROW_COUNT() = 1"
)
# Results in order: START TRANSACTION, the session UPDATE, the history UPDATE, COMMIT.
_REPORT = f"START TRANSACTION; {_UPDATE_SESSION}; {_UPDATE_HISTORY}; COMMIT"
_DURATION = "SELECT duration_seconds FROM videos WHERE id = %(video)s"
# Durations never change once a video is stored; the cache is a hint the UPDATE re-checks.
_CACHE_LIMIT = 100_000


class ProgressRecorder:
    """Records progress reports for one database; one per process, shared by its threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.fast = engine.dialect.name in ("mysql", "mariadb")
        self.hot: Engine | None = None
        if self.fast:
            self.hot = make_engine(
                engine.url.render_as_string(hide_password=False),
                isolation_level="AUTOCOMMIT",
                pool_pre_ping=False,
                pool_reset_on_return=None,
                pool_size=engine.pool.size(),  # type: ignore[attr-defined]
                max_overflow=10,
                # FOUND_ROWS: matched rows count (ROW_COUNT() and rowcount), changed or not.
                connect_args={"client_flag": CLIENT.FOUND_ROWS | CLIENT.MULTI_STATEMENTS},
            )
        self._durations: dict[int, int] = {}

    def dispose(self) -> None:
        if self.hot is not None:
            self.hot.dispose()

    def record(self, *, viewer_id: int, video_id: int, session_id: int, report: ProgressReport,
               now: datetime, session_version: int | None = None) -> ProgressResult:
        """Apply one report (§4); raises PlaybackError with nothing changed when it is refused.

        `session_version`: the `sv` of the bearer token that authenticated the viewer (None for
        a cookie session, which the portal has checked already): a stale one is refused.
        """
        if self.hot is not None:
            done = self._fast(viewer_id, video_id, session_id, report, now, session_version)
            if done is not None:
                return done
            self._durations.pop(video_id, None)  # perhaps stale: read again next time
        with self.engine.connect() as conn:
            return report_progress(conn, viewer_id=viewer_id, video_id=video_id, session_id=session_id,
                                   report=report, now=now, session_version=session_version)

    def _fast(self, viewer_id: int, video_id: int, session_id: int, report: ProgressReport,
              now: datetime, session_version: int | None) -> ProgressResult | None:
        """The batch; None when the session statement did not match and the portable path must decide."""
        assert self.hot is not None
        for attempt in (1, 2):
            connection = self.hot.raw_connection()
            try:
                return self._statements(connection.cursor(), viewer_id, video_id, session_id, report, now,
                                        session_version)
            except self.hot.dialect.loaded_dbapi.Error as error:
                dropped = (self.hot.dialect.is_disconnect(error, connection.dbapi_connection, None)
                           or is_connection_error(error))  # also a Galera node not ready (1047)
                # Never pool a connection whose batch stopped part-way (its transaction may be open).
                connection.invalidate(error)
                if dropped:
                    # The server dropped it (restart, idle timeout): so it did the others pooled with
                    # it, which are never pinged here. A new pool, so that the retry (and every
                    # report after it) gets a live connection, as the main engine does on a disconnect.
                    self.hot.dispose()
                if attempt == 1 and (dropped or is_conflict_error(error)):
                    # A repeated report credits nothing twice (no position gained since the first),
                    # so a lost connection or a transaction lost to a conflicting one (deadlock,
                    # Galera certification) is tried once more before the player hears 503.
                    continue
                raise
            finally:
                connection.close()  # back to the pool (or discarded when invalidated)
        raise AssertionError("unreachable")

    def _statements(self, cursor: DBAPICursor, viewer_id: int, video_id: int, session_id: int,
                    report: ProgressReport, now: datetime, session_version: int | None) -> ProgressResult | None:
        duration_s = self._durations.get(video_id)
        if duration_s is None:
            cursor.execute(_DURATION, {"video": video_id})
            found = cursor.fetchone()
            if found is None:
                return None
            if len(self._durations) >= _CACHE_LIMIT:
                self._durations.clear()
            duration_s = self._durations[video_id] = int(found[0])
        duration_ms = duration_s * 1000
        try:
            report.validated(duration_ms)
        except PlaybackError:
            return None  # the portable path says why, in the rules' order of checks
        final = report.final_position_ms
        status = status_after(final, report.playing, duration_ms)
        ended = status == PlayStatus.END
        at = now.astimezone(UTC).replace(tzinfo=None)
        params = {"session": session_id, "viewer": viewer_id, "video": video_id, "now": at,
                  "position": report.position_ms, "final": final, "ended_at": at if ended else None,
                  "duration_s": duration_s, "resume": stored_resume_ms(status, final), "status": status.value,
                  "sv": session_version}
        cursor.execute(_REPORT, params)
        counts = [cursor.rowcount]
        while cursor.nextset():
            counts.append(cursor.rowcount)
        _, session_rows, history_rows, _ = counts
        if session_rows != 1:
            return None
        if history_rows != 1:
            # The resume row is made when the session opens; recreate it if it went.
            with self.engine.begin() as conn:
                ensure_history(conn, viewer_id=viewer_id, video_id=video_id, position_ms=params["resume"],
                               status=status, now=now)
        return ProgressResult(session_id, final, status, ended)
