"""Revoked API tokens: the Redis denylist, mirrored in each portal process.

Every player sends its bearer token with each progress report, so asking Redis "is this
token revoked?" was a network round trip on every request of the hottest endpoint — for an
answer that is almost always no. Each process therefore keeps the set of revoked token ids
in memory, fed by Redis pub/sub:

* revoking writes the denylist key (with the token's remaining lifetime, as before) and
  publishes the token id on a channel, in one MULTI; the revoking process also adds it to
  its own mirror at once, so its next request already refuses the token;
* a background thread per process subscribes to the channel first, then loads the
  denylist keys (so a revocation published meanwhile is not lost), and only then trusts
  the mirror. Other processes see a revocation as soon as the message arrives;
* while the subscription is not known to be healthy — not yet synced, Redis restarted or
  unreachable, or a PING sent on it unanswered for `STALE_AFTER` seconds — every check goes
  to Redis directly, exactly as without the mirror (and fails with RedisError when Redis is
  down, which the API turns into 503).

Entries leave the mirror when their token would have expired anyway. The channel carries
the Redis DB number, since pub/sub is not scoped by database.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from redis import Redis
from redis.client import PubSub
from redis.exceptions import RedisError

DENYLIST_PREFIX = "paysystem:jwt:deny:"
CHANNEL_PREFIX = "paysystem:jwt:revoked:"
PING_EVERY = 1.0  # seconds between health PINGs on the subscription
STALE_AFTER = 3.0  # no PONG for this long: the subscription is presumed dead

log = logging.getLogger(__name__)


class RevocationMirror:
    """The revoked token ids of one Redis database, for the threads of one process."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        db = redis.connection_pool.connection_kwargs.get("db", 0)
        self.channel = f"{CHANNEL_PREFIX}{db}"
        self._revoked: dict[str, float] = {}  # token id -> unix time its token expires
        self._synced = False
        self._last_pong = 0.0
        self._started_in: int | None = None  # pid: a forked child starts its own thread
        self._start_lock = threading.Lock()
        self._stop = threading.Event()
        self._pubsub: PubSub | None = None  # the current subscription (tests cut it)

    # --- the checks ---------------------------------------------------------------------------

    def is_revoked(self, jti: str) -> bool:
        """True when the token id is denied; RedisError when that cannot be known."""
        self._ensure_started()
        if self.synced:
            return jti in self._revoked
        return bool(self._redis.exists(DENYLIST_PREFIX + jti))

    @property
    def synced(self) -> bool:
        return self._synced and time.monotonic() - self._last_pong < STALE_AFTER

    def revoke(self, jti: str, expires_at: float) -> None:
        """Deny `jti` until `expires_at` (unix time); RedisError when Redis cannot record it."""
        ttl = max(1, int(expires_at - time.time()) + 1)
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(DENYLIST_PREFIX + jti, "1", ex=ttl)
            pipe.publish(self.channel, f"{jti} {expires_at:.0f}")
            pipe.execute()
        self._revoked[jti] = expires_at

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
            except (RedisError, OSError, ValueError) as exc:
                if self._synced:
                    log.warning("token revocation feed lost (%s); checking Redis directly until it is back", exc)
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
        keys = list(self._redis.scan_iter(match=DENYLIST_PREFIX + "*", count=1000))
        loaded: dict[str, float] = {}
        if keys:
            with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.pttl(key)
                now = time.time()
                for key, pttl in zip(keys, pipe.execute(), strict=True):
                    if pttl is None or pttl == -2:
                        continue  # expired meanwhile
                    jti = key.decode() if isinstance(key, bytes) else str(key)
                    loaded[jti[len(DENYLIST_PREFIX):]] = now + (pttl / 1000 if pttl > 0 else 10 * 365 * 86400)
        # Anything published since the subscription is in the channel's queue, applied next.
        self._revoked = {**loaded, **self._revoked}
        self._last_pong = time.monotonic()
        self._synced = True

    def _listen(self, pubsub: PubSub) -> None:
        next_ping = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_ping:
                pubsub.ping()
                next_ping = now + PING_EVERY
                self._forget_expired()
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
