"""How the portal app is put together: declared lists, assembled in order by `build_app`.

The order is the app's behaviour, so it is written down here once instead of being implied by
the order of calls: Flask runs before-request hooks in registration order and after-request
hooks in reverse, and some steps need every blueprint registered first (they look up the
views marked with `@login_attempt`, `@accepts_uploads`, ...). No module touches Flask's hook
lists itself; hooks that must run ahead of every extension's are listed in `FIRST_HOOKS`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from flask import Blueprint, Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import (
    admin_users,
    auth,
    catalog,
    error_pages,
    errors,
    health,
    home,
    presentation,
    seller_portal,
    statements,
    upload_limits,
    watch,
)
from portal.api.progress_fast_path import ProgressFastPath
from portal.api.routes import api_bp
from portal.assets import init_assets
from portal.auth.server_sessions import init_server_sessions
from portal.auth.social import init_social_login
from portal.body_limits import init_body_limits, limit_body
from portal.compression import init_compression
from portal.cookie_session import CookieSessionInterface
from portal.database import init_database
from portal.extensions import csrf, htmx, login_manager
from portal.login_limits import init_login_limits
from portal.mail_outbox import init_mail_outbox
from portal.numbers import IdConverter, JSONProvider
from portal.ops import ads as ops_ads
from portal.ops import health as ops_health
from portal.ops import money as ops_money
from portal.ops import plans as ops_plans
from portal.ops import runs as ops_runs
from portal.ops import status as ops_status
from portal.ops.metrics import init_metrics, note_endpoint
from portal.ops.rq import URL_PREFIX as RQ_URL_PREFIX
from portal.ops.rq import admins_only, init_rq_dashboard, rq_blueprint
from portal.read_replica import init_read_replica
from portal.read_router import ReadRouter
from portal.redis_client import init_redis
from portal.request_limits import init_request_limits, refuse_oversized
from portal.security_headers import init_security_headers
from settings import Settings

Step = Callable[[Flask, Settings], object]

# Before-request hooks that run ahead of every extension's, in this order: the metrics label,
# the request-line/header refusal, the body-size refusal (before anything reads a body), then
# the queue dashboard's access check (before CSRFProtect judges a dashboard POST).
FIRST_HOOKS: tuple[Callable[[], object], ...] = (note_endpoint, refuse_oversized, limit_body, admins_only)

# Extensions bound before any blueprint.
EXTENSIONS: tuple[Step, ...] = (
    lambda app, settings: init_database(app, settings.database_url),
    lambda app, settings: init_read_replica(app, settings.database_read_url, settings.read_replica_max_lag_seconds),
    lambda app, settings: init_redis(app, settings.cache_redis_url, queue_url=settings.queue_redis_url),
    lambda app, _: init_mail_outbox(app),
    lambda app, _: login_manager.init_app(app),
    lambda app, _: init_server_sessions(app),
    lambda app, _: csrf.init_app(app),
    lambda app, _: htmx.init_app(app),
    lambda app, _: presentation.init_app(app),
    lambda app, _: upload_limits.init_app(app),
)

BLUEPRINTS: tuple[Blueprint, ...] = (
    health.bp, home.bp, auth.bp, catalog.bp, watch.bp, api_bp, admin_users.bp, rq_blueprint,
    ops_health.bp, ops_runs.bp, ops_status.bp, ops_plans.bp, ops_ads.bp, ops_money.bp,
    seller_portal.bp, statements.bp,
)
# The JSON API authenticates with bearer tokens, not cookies, so CSRF does not apply.
CSRF_EXEMPT: tuple[Blueprint, ...] = (api_bp,)
# Third-party blueprints mounted under a prefix of ours.
URL_PREFIXES: dict[str, str] = {rq_blueprint.name: RQ_URL_PREFIX}

# Steps that need every blueprint above registered; the login limits after every other view.
AFTER_BLUEPRINTS: tuple[Step, ...] = (
    lambda app, settings: init_rq_dashboard(app, settings.queue_redis_url),
    init_social_login,
    init_body_limits,
    init_login_limits,
    lambda app, _: errors.register(app),
    lambda app, _: error_pages.register(app),
    init_security_headers,
)


def build_app(settings: Settings) -> Flask:
    app = _bare_app(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for hook in FIRST_HOOKS:
        app.before_request(hook)
    for step in EXTENSIONS:
        step(app, settings)
    for blueprint in CSRF_EXEMPT:
        csrf.exempt(blueprint)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint, url_prefix=URL_PREFIXES.get(blueprint.name))
    for step in AFTER_BLUEPRINTS:
        step(app, settings)
    _wsgi_layers(app, settings)
    return app


def _bare_app(settings: Settings) -> Flask:
    # Static files are served from the content-hashed build (portal/assets.py), not by Flask.
    app = Flask("portal", static_folder=None)
    # Before any route is added: ids beyond 64 bits or in non-ASCII digits match no route.
    app.url_map.converters["int"] = IdConverter
    app.json = JSONProvider(app)
    app.session_interface = CookieSessionInterface()
    app.config.update(
        PAYSYSTEM_SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.is_production,
        PERMANENT_SESSION_LIFETIME=timedelta(days=14),
        WTF_CSRF_TIME_LIMIT=None,
        TESTING=settings.environment == "test",
    )
    if settings.is_production:
        app.config["PREFERRED_URL_SCHEME"] = "https"
    return app


def _wsgi_layers(app: Flask, settings: Settings) -> None:
    """The WSGI layers around Flask, innermost first (each wraps the one before)."""
    flask_wsgi = app.wsgi_app
    # Cached Top-5 and settlements answers, in front of Flask like the progress reports.
    app.wsgi_app = ProgressFastPath(app, ReadRouter(app, app.wsgi_app))  # type: ignore[method-assign]
    init_request_limits(app, flask_wsgi)  # in front of the fast paths: an oversized request goes to Flask
    init_compression(app)
    init_assets(app, settings)  # /static/ answered before any of the above
    init_metrics(app)  # counts the fast path's requests too
    if settings.trusted_proxy_hops:
        # Outermost: every layer in front of Flask (metrics, static files, request limits, the
        # fast paths) sees the client's address and scheme, not the proxy's.
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
