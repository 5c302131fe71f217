"""Sign-in attempts limited per account and per client IP (flask-limiter, Redis storage).

Views that check a password carry `@login_attempt`; `init_login_limits` puts both limits on
exactly those views of one app. Nothing else is limited (no default limits): the player
reports progress at a high rate and must never meet this limiter.

Only failed attempts (HTTP 401) count, so a person who types the right password is never
slowed down; once an account or an IP address has used up its failures, even the right
password gets 429 until the window has moved on. The count is atomic: every attempt takes
its place in both limits (one atomic Redis script each) *before* its password is checked,
and an attempt that did not fail gives its place back afterwards. Counting only after the
answer, as flask-limiter's `deduct_when` does, let parallel wrong passwords all pass the
check before any of them was counted. Both counters are shared by the sign-in
page and `POST /api/v1/auth/token`, so the API is no side door.

When Redis is unreachable the limiter keeps counting in the memory of each portal process
(flask-limiter's in-memory fallback, same limits) and goes back to Redis once it answers
again: sign-in stays possible and stays limited, per process instead of cluster-wide.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from models.redis_conn import key_namespace
from portal.queries.accounts import AttemptedAccount
from portal.queries.parse import parse_query
from portal.view_marks import mark_view, marked_endpoints
from settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

_MARK = "_paysystem_login_attempt"
_SIGNUP_MARK = "_paysystem_signup_attempt"
_FORGOT_MARK = "_paysystem_forgot_attempt"
_GIVE_BACK = "paysystem.login_endpoints"
_EXTENSION = "paysystem.login_limiter"
MESSAGE = "Too many failed sign-in attempts. Wait a few minutes, then try again."
SIGNUP_MESSAGE = "Too many sign-ups from your address. Try again later."
FORGOT_MESSAGE = "Too many password reset requests from your address. Try again later."


def login_attempt(view: F) -> F:
    """Mark a view that checks a password; its failed (401) attempts are limited."""
    return mark_view(view, _MARK)


def signup_attempt(view: F) -> F:
    """Mark a sign-up view: every attempt from a client address counts (SIGNUP_LIMIT_PER_IP)."""
    return mark_view(view, _SIGNUP_MARK)


def forgot_attempt(view: F) -> F:
    """Mark a "forgot password" view: every request from a client address counts (FORGOT_LIMIT_PER_IP)."""
    return mark_view(view, _FORGOT_MARK)


def attempted_account() -> str:
    """The e-mail the request tries to sign in as (form or JSON body), normalised."""
    body = request.get_json(silent=True) if request.is_json else request.form  # the body as sent, for the model
    email = parse_query(AttemptedAccount, body if isinstance(body, Mapping) else {}).email
    if not email:
        return ""  # no account named: flask-limiter skips this limit, the IP limit still applies
    return "account:" + email


def client_ip() -> str:
    return "ip:" + get_remote_address()


def _give_back_unless_failed(response: Response) -> Response:
    """After a limited attempt: an attempt that did not fail (not 401) stops counting."""
    if response.status_code == 401 or request.endpoint not in current_app.extensions[_GIVE_BACK]:
        return response
    limiter: Limiter = current_app.extensions[_EXTENSION]
    for taken in limiter.current_limits:
        if not taken.breached:  # a breached limit refused the hit: nothing was taken
            limiter.limiter.hit(taken.limit, *taken.request_args, cost=-1)
    return response


class _ConfinedHooks:
    """`app` as seen by an extension's init_app: the request hooks it registers run only for
    requests to `endpoints` (registered through the app's own before/after/teardown_request).

    flask-limiter hooks every request (before, after, teardown) even when, as here, nothing
    but the sign-in views has a limit; on the progress endpoint that was ~7 % of a report's
    CPU. Other requests now skip the hooks, which would have found no limit for them anyway.
    """

    def __init__(self, app: Flask, endpoints: set[str]) -> None:
        self._app = app
        self._endpoints = endpoints

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    def before_request(self, hook: Callable[..., Any]) -> Callable[..., Any]:
        self._app.before_request(_only_for(self._endpoints, hook))
        return hook

    def after_request(self, hook: Callable[..., Any]) -> Callable[..., Any]:
        self._app.after_request(_only_for(self._endpoints, hook))
        return hook

    def teardown_request(self, hook: Callable[..., Any]) -> Callable[..., Any]:
        self._app.teardown_request(_only_for(self._endpoints, hook))
        return hook


def _only_for(endpoints: set[str], hook: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(hook)
    def confined(*args: Any) -> Any:
        if request.endpoint in endpoints:
            return hook(*args)
        return args[0] if args else None  # after_request: the response; before_request: go on

    return confined


def init_login_limits(app: Flask, settings: Settings) -> Limiter:
    """Bind a limiter to `app` and limit its `@login_attempt`, `@signup_attempt` and
    `@forgot_attempt` views; call after the blueprints."""
    limiter = Limiter(
        key_func=client_ip,
        storage_uri=settings.cache_redis_url,
        storage_options={"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        # Its atomic hit can be given back (cost -1), unlike a moving window's.
        strategy="sliding-window-counter",
        key_prefix=f"{key_namespace(settings.database_url)}:login",  # the database's, not another's
        headers_enabled=True,
        retry_after="delta-seconds",
        in_memory_fallback_enabled=True,
    )
    limited = set(marked_endpoints(app, _MARK))
    # Forms where every attempt from an address counts: (views, limit, scope, message).
    per_ip = [
        (marked_endpoints(app, _SIGNUP_MARK), settings.signup_limit_per_ip, "signup-ip", SIGNUP_MESSAGE),
        (marked_endpoints(app, _FORGOT_MARK), settings.forgot_limit_per_ip, "forgot-ip", FORGOT_MESSAGE),
    ]
    app.extensions[_GIVE_BACK] = frozenset(limited)
    confined = _ConfinedHooks(app, limited.union(*(views for views, _, _, _ in per_ip)))
    limiter.init_app(confined)  # type: ignore[arg-type]
    confined.after_request(_give_back_unless_failed)
    limits = (
        (settings.login_limit_per_account, "login-account", attempted_account),
        (settings.login_limit_per_ip, "login-ip", client_ip),
    )
    for endpoint in limited:
        view = app.view_functions[endpoint]
        for limit, scope, key_func in limits:
            view = limiter.shared_limit(
                limit, scope=scope, key_func=key_func, methods=["POST"], error_message=MESSAGE
            )(view)
        app.view_functions[endpoint] = view
    for views, limit, scope, message in per_ip:
        for endpoint in views:
            app.view_functions[endpoint] = limiter.shared_limit(
                limit, scope=scope, key_func=client_ip, methods=["POST"], error_message=message,
            )(app.view_functions[endpoint])
    app.extensions[_EXTENSION] = limiter
    return limiter

