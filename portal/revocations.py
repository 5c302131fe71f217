"""Revoked API tokens: recorded in the database, mirrored in each portal process via Redis.

Every player sends its bearer token with each progress report, so asking anything "is this
token revoked?" was a network round trip on every request of the hottest endpoint — for an
answer that is almost always no. Each process therefore keeps the set of revoked token ids
in memory, fed by Redis pub/sub, and the database holds the record of truth
(models/accounts/revoked_tokens.py):

* revoking writes the database row first (committed: from then on the token is refused
  whatever Redis does), adds the id to the revoking process's own mirror, and then — as a
  courtesy that may fail — writes the Redis denylist key and publishes the id on a channel
  in one MULTI, behind a circuit breaker so a dead Redis does not slow logouts down;
* a background thread per process subscribes to the channel first, then loads the
  database rows and the Redis denylist keys (their union, so a revocation published
  meanwhile is not lost), and only then trusts the mirror. Other processes see a
  revocation as soon as the message arrives; the thread also re-reads the database rows
  every `RELOAD_EVERY` seconds, which catches a revocation whose publish was lost (made by
  a process that could not reach Redis while this one could);
* while the subscription is not known to be healthy — not yet synced, Redis restarted or
  unreachable, or a PING sent on it unanswered for `STALE_AFTER` seconds — every check
  asks the database (one primary-key lookup). Redis cannot vouch then: it runs without
  persistence, so a restarted Redis has lost its denylist, and it never saw a revocation
  made while it was down. So with Redis stopped the API still answers from the database,
  and when Redis comes back the resync loads the database rows, so a token revoked while
  it was down stays refused. While Redis is healthy no check touches the database.

Entries leave the mirror when their token would have expired anyway. The channel carries
the Redis DB number, since pub/sub is not scoped by database, and like the keys the database's
namespace (models/redis_conn.py `key_namespace`): two databases on one Redis never meet.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pybreaker
from redis import Redis
from redis.client import PubSub
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from models.accounts.revoked_tokens import is_token_revoked, live_revocations, record_revocation

PING_EVERY = 1.0  # seconds between health PINGs on the subscription
STALE_AFTER = 3.0  # no PONG for this long: the subscription is presumed dead
RELOAD_EVERY = 10.0  # seconds between re-reads of the database rows by a synced mirror

log = logging.getLogger(__name__)


def denylist_prefix(namespace: str) -> str:
    """The start of the denylist keys of the database whose key namespace this is
    (models/redis_conn.py `key_namespace`)."""
    return f"{namespace}:jwt:deny:"


class RevocationMirror:
    """The revoked token ids of one Redis database, for the threads of one process."""

    def __init__(self, redis: Redis, sessions: Callable[[], Session], namespace: str) -> None:
        self._redis = redis
        self.denylist_prefix = denylist_prefix(namespace)
        self._sessions = sessions  # the database: the record of truth
        # The revocation's Redis write is a courtesy: once Redis has failed a few times,
        # logouts stop waiting for it (the same breaker settings as the figure cache).
        self._breaker = pybreaker.CircuitBreaker(fail_max=3, reset_timeout=30,
                                                 exclude=[lambda e: not isinstance(e, RedisError)])
        db = redis.connection_pool.connection_kwargs.get("db", 0)
        self.channel = f"{namespace}:jwt:revoked:{db}"
        self._revoked: dict[str, float] = {}  # token id -> unix time its token expires
        self._synced = False
        self._last_pong = 0.0
        self._started_in: int | None = None  # pid: a forked child starts its own thread
        self._start_lock = threading.Lock()
        self._stop = threading.Event()
        self._pubsub: PubSub | None = None  # the current subscription (tests cut it)
        self._next_reload = 0.0

    # --- the checks ---------------------------------------------------------------------------

    def is_revoked(self, jti: str) -> bool:
        """True when the token id is denied; SQLAlchemyError when that cannot be known.

        From memory while the feed is healthy; otherwise from the database, never from
        Redis alone (see the module's docstring).
        """
        self._ensure_started()
        if self.synced:
            return jti in self._revoked
        with self._sessions() as db:
            return is_token_revoked(db, jti)

    @property
    def synced(self) -> bool:
        return self._synced and time.monotonic() - self._last_pong < STALE_AFTER

    def revoke(self, jti: str, user_id: int, expires_at: float) -> bool:
        """Deny `jti` (a token of `user_id`) until `expires_at` (unix time).

        The database row decides (SQLAlchemyError when it cannot be written: nothing is
        revoked then). Whether Redis also got it is returned, never raised: without it the
        other processes learn the revocation from the database — at once while their feed is
        down, at their next reload or resync otherwise.
        """
        with self._sessions() as db:
            record_revocation(db, jti, user_id, datetime.fromtimestamp(expires_at, UTC))
        self._revoked[jti] = expires_at
        try:
            self._breaker.call(self._announce, jti, expires_at)
        except (RedisError, pybreaker.CircuitBreakerError) as exc:
            log.warning("token %s revoked in the database only; Redis: %s", jti, exc)
            return False
        return True

    def _announce(self, jti: str, expires_at: float) -> None:
        ttl = max(1, int(expires_at - time.time()) + 1)
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self.denylist_prefix + jti, "1", ex=ttl)
            pipe.publish(self.channel, f"{jti} {expires_at:.0f}")
            pipe.execute()

    def stop(self) -> None:
        self._stop.set()

    # --- the subscription -----------------------------------------------------------------------

    def _ensure_started(self) -> None:
        if self._started_in == os.getpid():
            return
        with self._start_lock:
            if self._started_in == os.getpid():
                return
            self._synced = False
            self._revoked = {}
            threading.Thread(target=self._follow, name="token-revocations", daemon=True).start()
            self._started_in = os.getpid()

    def _follow(self) -> None:
        """Subscribe, load, then apply messages; on any failure fall back to Redis and retry."""
        delay = 0.5
        while not self._stop.is_set():
            pubsub = self._pubsub = self._redis.pubsub()
            try:
                self._subscribe_and_load(pubsub)
                delay = 0.5
                self._listen(pubsub)
            except (RedisError, SQLAlchemyError, OSError, ValueError) as exc:
                if self._synced:
                    log.warning("token revocation feed lost (%s); checking the database until it is back", exc)
                self._synced = False
            finally:
                try:
                    pubsub.close()
                except (RedisError, OSError):
                    pass
            self._stop.wait(delay)
            delay = min(delay * 2, 10.0)

    def _subscribe_and_load(self, pubsub: PubSub) -> None:
        pubsub.subscribe(self.channel)
        deadline = time.monotonic() + 5
        while True:  # the confirmation: from here on, no revocation is missed
            message = pubsub.get_message(timeout=1.0)
            if message is not None and message["type"] == "subscribe":
                break
            if time.monotonic() > deadline:
                raise RedisError("no subscription confirmation")
        loaded = self._load_database()
        # Redis keys too: revocations recorded before the database kept them.
        keys = list(self._redis.scan_iter(match=self.denylist_prefix + "*", count=1000))
        if keys:
            with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.pttl(key)
                now = time.time()
                for key, pttl in zip(keys, pipe.execute(), strict=True):
                    if pttl is None or pttl == -2:
                        continue  # expired meanwhile
                    jti = key.decode() if isinstance(key, bytes) else str(key)
                    loaded.setdefault(jti[len(self.denylist_prefix):],
                                      now + (pttl / 1000 if pttl > 0 else 10 * 365 * 86400))
        # Anything published since the subscription is in the channel's queue, applied next.
        self._revoked = {**loaded, **self._revoked}
        self._next_reload = time.monotonic() + RELOAD_EVERY
        self._last_pong = time.monotonic()
        self._synced = True

    def _load_database(self) -> dict[str, float]:
        with self._sessions() as db:
            return live_revocations(db)

    def _listen(self, pubsub: PubSub) -> None:
        next_ping = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_ping:
                pubsub.ping()
                next_ping = now + PING_EVERY
                self._forget_expired()
            if now >= self._next_reload:
                self._next_reload = now + RELOAD_EVERY
                try:
                    self._revoked.update(self._load_database())
                except SQLAlchemyError as exc:  # the feed itself is fine; try again next time
                    log.warning("could not reload revoked tokens from the database: %s", exc)
            if now - self._last_pong >= STALE_AFTER:
                raise RedisError(f"no answer to PING on the subscription for {STALE_AFTER:g} s")
            message = pubsub.get_message(timeout=PING_EVERY / 2)
            if message is None:
                continue
            if message["type"] == "pong":
                self._last_pong = time.monotonic()
            elif message["type"] == "message":
                data = message["data"].decode() if isinstance(message["data"], bytes) else str(message["data"])
                jti, _, expires = data.partition(" ")
                self._revoked[jti] = float(expires or time.time() + 86400)

    def _forget_expired(self) -> None:
        now = time.time()
        for jti in [jti for jti, expires in list(self._revoked.items()) if expires < now]:
            self._revoked.pop(jti, None)
