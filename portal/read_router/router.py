"""`ReadRouter`: cached Top-5 and settlements answers given in front of Flask, through the one
read pipeline (portal/read_pipeline.py).

A cached read through Flask costs its plumbing plus three round trips (role, figure versions,
the answer's GET); the portal bench showed plain Flask with the one figure cache missing the
cached targets by 2-4x (README, "Portal read benchmark"), so this thin WSGI layer stays
(issue 19, item 3). It does only what decides whether a stored answer may be given to this
caller, and nothing of its own:

1. path match, then the API's own query model (`read_pipeline.parsed_query`) on plainly
   encoded queries only, and the pipeline's plan (`answer_plan`);
2. the bearer token's signature, expiry and revocation (`verified_claims`, as every API call);
3. one database round trip on the progress recorder's hot pool (autocommit, never pinged or
   reset): the caller's role if the account is active (models/accounts/users.py
   `ACTIVE_ROLE_SQL`, so a switched-off account, or a token issued before a sign-out or
   password change, is refused at once) with the versions of the plan's figure scopes;
4. the scope (`seller_scope`) and the pipeline's key and fetch (`answer_key`, `stored_answer`).

On a hit it answers 200 with the headers Flask sends; on anything else — no or bad token, a
query that does not validate or is not plainly encoded, a viewer, a live period, a miss, Redis
or the database unavailable, any exception — the request goes to Flask unchanged, which stays
the one place of validation errors and 401/403/422 answers and stores the answer for next time.
What step 3 found for an active account goes along (`read_pipeline.CheckedRead`, the one
environ hand-off: api_auth and the figure cache take it), so a miss does not pay the token
check, the role and the versions twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from flask import Flask

from models import Role
from models.accounts.users import ACTIVE_ROLE_SQL
from models.figures.date_window import day_window
from models.figures.scope import seller_scope
from portal import read_pipeline
from portal.api.auth import verified_claims
from portal.api.tokens import Refusal
from portal.database import progress_recorder
from portal.endpoint_label import ENDPOINT_KEY
from portal.figures import app_figure_cache
from portal.redis_client import revocations
from portal.security_headers import security_headers

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Only plain `name=value&...` queries (no percent-encoding, '+', ';' or bare names): those parse
# the same here as in werkzeug, so the router never reads a query differently from Flask.
PLAIN_QUERY = re.compile(r"(?:[A-Za-z_]+=[A-Za-z0-9_.\-]*(?:&[A-Za-z_]+=[A-Za-z0-9_.\-]*)*)?")
MAX_QUERY_BYTES = 512
# The role of an active account (ACTIVE_ROLE_SQL) with each scope's version (primary-key
# lookups, no temporary table), in one round trip; no row: no active account.
_VERSION = ", (SELECT version FROM figure_versions WHERE scope = %s)"
_ANSWERING = (Role.SELLER.value, Role.ADMIN.value)


class ReadRouter:
    """WSGI middleware: stored Top-5 and settlements answers here, everything else to `wrapped`."""

    def __init__(self, app: Flask, wrapped: WsgiApp) -> None:
        self.app = app
        self.wrapped = wrapped
        self.settings = app.config["PAYSYSTEM_SETTINGS"]
        self.hot = progress_recorder(app).hot  # None without MariaDB: always Flask
        self.revocations = revocations(app)
        # As Flask's answer: its session machinery marks every API answer `Vary: Cookie`, and
        # compression (portal/compression.py) `Accept-Encoding` (a miss may come compressed).
        self.headers = [("Content-Type", "application/json"), ("Vary", "Accept-Encoding, Cookie"),
                        *security_headers(self.settings)]
        self._cache = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        endpoint = read_pipeline.ENDPOINTS.get(environ.get("PATH_INFO", ""))
        if (endpoint is None or self.hot is None or environ.get("REQUEST_METHOD") != "GET"
                or "HTTP_AUTHORIZATION" not in environ or environ.get("CONTENT_LENGTH", "0") not in ("", "0")):
            return self.wrapped(environ, start_response)
        try:
            body = self._stored(environ, *endpoint)
        except Exception:  # whatever it is, Flask answers this request as if we were not here
            self.app.logger.debug("read router fell through", exc_info=True)
            body = None
        if body is None:
            return self.wrapped(environ, start_response)
        environ[ENDPOINT_KEY] = "api.read_router"  # its own label in the request metrics
        start_response("200 OK", [*self.headers, ("Content-Length", str(len(body)))])
        return [body]

    def _stored(self, environ: dict[str, Any], endpoint: str, model: type[Any]) -> bytes | None:
        raw_query = environ.get("QUERY_STRING", "")
        if len(raw_query) > MAX_QUERY_BYTES or not PLAIN_QUERY.fullmatch(raw_query):
            return None
        query = read_pipeline.parsed_query(model, parse_qs(raw_query, keep_blank_values=True),
                                           day_window(self.settings))
        plan = None if query is None else read_pipeline.answer_plan(endpoint, query, self.settings.tz)
        if query is None or plan is None:
            return None
        try:
            claims = verified_claims(environ["HTTP_AUTHORIZATION"], self.settings, self.revocations)
        except Refusal:
            return None
        role, versions = self._role_and_versions(claims.user_id, claims.session_version, plan.scopes)
        if role is None:
            return None  # switched off or unknown (Flask says 401)
        # Should Flask answer, it takes over what was just checked and read instead of asking again.
        environ[read_pipeline.CHECKED_READ] = read_pipeline.CheckedRead(environ["HTTP_AUTHORIZATION"], claims,
                                                                        Role(role), versions)
        if role not in _ANSWERING:
            return None  # a viewer (Flask says 403)
        cache = self._figure_cache()
        key = read_pipeline.answer_key(cache, plan, seller_scope(Role(role), claims.user_id, query.seller_id),
                                       versions)
        return read_pipeline.stored_answer(cache, key)

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
        """The app's figure cache: its key prefix, Redis client and, above all, its circuit
        breaker (a dead Redis is noticed once for the whole process, not on every request)."""
        if self._cache is None:
            with self.app.app_context():
                self._cache = app_figure_cache()
        return self._cache
