"""`GET /api/v1/stats/top5` and `GET /api/v1/settlements`, answered in front of Flask when
their whole answer is cached (portal/api/response_cache.py).

A cached read through Flask costs its plumbing plus three round trips (role, figure versions,
statuses) before the Redis GET; issue 11 asks for more requests per second than Flask's own
ceiling. This WSGI layer (installed like the progress fast path, portal/api/progress_fast_path.py)
does only what decides whether a stored answer may be given to this caller:

1. `verified_claims`: the bearer token's signature, expiry and revocation, as every API call;
2. one database round trip on the progress recorder's hot pool (autocommit, never pinged or
   reset): the caller's role if the account is active (`models/users.active_role`'s rule, so a
   switched-off account, or a token issued before a sign-out or password change, is refused at
   once) and the versions of the answer's figure scopes;
3. the Redis GET of the answer's key (`response_key`: endpoint, canonical query, scope, versions),
   or the process's copy of it while the stored answer has not expired (`LocalAnswers`); for
   settlements an MGET that also reads the table's figure-cache key, which Flask needs on a miss.

On a hit it answers 200 with the headers Flask sends; on anything else — no or bad token, a
query that does not validate with the API's own model or is not plainly encoded, a viewer, a
live period, a miss, Redis or the database unavailable, any exception — the request goes to
Flask, which stays the one place of validation errors and 401/403/422 answers. What step 2
found for an active account goes along in the environ, so that Flask does not ask again: the
checked caller (`auth.CHECKED_CALLER`, taken by `api_auth`) and the versions
(`figures.KNOWN_VERSIONS`) and the settlements figures fetched in step 3
(`figures.KNOWN_FIGURES`), both taken by the request's figure cache. A miss then costs Flask
one database statement, the figures' own (models/figures/settlements.py `settlement_table`), and
one Redis round trip, which stores the figures with the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from flask import Flask

from models import Role
from models.figures.date_window import day_window
from models.figures.scope import seller_scope
from models.redis_conn import key_namespace
from models.accounts.users import ACTIVE_ROLE_SQL
from portal.api import response_cache
from portal.api.auth import CHECKED_CALLER, CheckedCaller, Refusal, verified_claims
from portal.database import progress_recorder
from portal.endpoint_label import ENDPOINT_KEY
from portal.figures import KNOWN_FIGURES, KNOWN_VERSIONS, app_figure_cache
from portal.redis_client import revocations
from portal.security_headers import security_headers

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Only plain `name=value&...` queries (no percent-encoding, '+', ';' or bare names): those parse
# the same here as in werkzeug, so the fast path never reads a query differently from Flask.
PLAIN_QUERY = re.compile(r"(?:[A-Za-z_]+=[A-Za-z0-9_.\-]*(?:&[A-Za-z_]+=[A-Za-z0-9_.\-]*)*)?")
MAX_QUERY_BYTES = 512
# The role of an active account (models/users.ACTIVE_ROLE_SQL) with each scope's version
# (primary-key lookups, no temporary table), in one round trip; no row: no active account.
_VERSION = ", (SELECT version FROM figure_versions WHERE scope = %s)"


class ReadFastPath:
    """WSGI middleware: cached Top-5 and settlements answers here, everything else to `wrapped`."""

    def __init__(self, app: Flask, wrapped: WsgiApp) -> None:
        self.app = app
        self.wrapped = wrapped
        self.settings = app.config["PAYSYSTEM_SETTINGS"]
        self.namespace = key_namespace(self.settings.database_url)
        self.hot = progress_recorder(app).hot  # None without MariaDB: always Flask
        self.revocations = revocations(app)
        # As Flask's answer: its session machinery marks every API answer `Vary: Cookie`, and
        # compression (portal/compression.py) `Accept-Encoding` (a miss may come compressed).
        self.headers = [("Content-Type", "application/json"), ("Vary", "Accept-Encoding, Cookie"),
                        *security_headers(self.settings)]
        self._cache = None
        self.local = response_cache.LocalAnswers()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        endpoint = response_cache.ENDPOINTS.get(environ.get("PATH_INFO", ""))
        if (endpoint is None or self.hot is None or environ.get("REQUEST_METHOD") != "GET"
                or "HTTP_AUTHORIZATION" not in environ or environ.get("CONTENT_LENGTH", "0") not in ("", "0")):
            return self.wrapped(environ, start_response)
        try:
            body = self._cached(environ, *endpoint)
        except Exception:  # whatever it is, Flask answers this request as if we were not here
            self.app.logger.debug("read fast path fell through", exc_info=True)
            body = None
        if body is None:
            return self.wrapped(environ, start_response)
        environ[ENDPOINT_KEY] = "api.read_fast_path"  # its own label in the request metrics
        start_response("200 OK", [*self.headers, ("Content-Length", str(len(body)))])
        return [body]

    def _cached(self, environ: dict[str, Any], endpoint: str, model: type[Any]) -> bytes | None:
        raw_query = environ.get("QUERY_STRING", "")
        if len(raw_query) > MAX_QUERY_BYTES or not PLAIN_QUERY.fullmatch(raw_query):
            return None
        query = response_cache.parsed_query(model, parse_qs(raw_query, keep_blank_values=True),
                                            day_window(self.settings))
        if query is None:
            return None
        plan = response_cache.answer_plan(endpoint, query, self.settings.tz)
        if plan is None:
            return None
        try:
            claims = verified_claims(environ["HTTP_AUTHORIZATION"], self.settings, self.revocations)
        except Refusal:
            return None
        role, versions = self._role_and_versions(claims.user_id, claims.session_version, plan.scopes)
        if role is None:
            return None  # switched off or unknown (Flask says 401)
        # Should Flask answer, it takes over what was just checked and read instead of asking again.
        environ[CHECKED_CALLER] = CheckedCaller(environ["HTTP_AUTHORIZATION"], claims, Role(role))
        environ[KNOWN_VERSIONS] = versions
        if role not in (Role.SELLER.value, Role.ADMIN.value):
            return None  # a viewer (Flask says 403)
        seller_id = seller_scope(Role(role), claims.user_id, query.seller_id)
        key = response_cache.response_key(self.namespace, plan, seller_id, versions)
        kept = self.local.get(key)
        if kept is not None:
            return kept
        cache = self._figure_cache()
        if cache.redis is None:
            return None
        # A settlements table's figures are fetched with its answer: on a miss Flask needs them.
        figures = ([response_cache.settlement_figure_key(self.namespace, query, seller_id, versions)]
                   if endpoint == response_cache.SETTLEMENTS else [])
        found, fetched = response_cache.fetch_with(cache.redis, cache.breaker, key, figures)
        if found is None:
            if fetched:
                environ[KNOWN_FIGURES] = fetched
            return None
        self.local.put(key, *found)
        return found[1]

    def _role_and_versions(self, user_id: int, session_version: int,
                           scopes: list[str]) -> tuple[str | None, dict[str, int]]:
        """The caller's role if the account is active and the token's sessions not ended (else
        None) and each scope's version."""
        assert self.hot is not None
        statement = ACTIVE_ROLE_SQL.format(columns=_VERSION * len(scopes))
        connection = self.hot.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(statement, [*scopes, user_id, session_version])
            row = cursor.fetchone()
            cursor.close()
        except self.hot.dialect.loaded_dbapi.Error as error:
            connection.invalidate(error)
            raise
        finally:
            connection.close()
        if row is None:
            return None, {}
        return row[0], {name: int(version or 0) for name, version in zip(scopes, row[1:], strict=True)}

    def _figure_cache(self) -> Any:
        """The app's figure cache: its Redis client and, above all, its circuit breaker (a dead
        Redis is noticed once for the whole process, not on every request)."""
        if self._cache is None:
            with self.app.app_context():
                self._cache = app_figure_cache()
        return self._cache
