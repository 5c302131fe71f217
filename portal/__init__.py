"""The PaySystem portal: a server-rendered Flask + htmx app and its JSON API."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.cookie_session import CookieSessionInterface
from portal.database import init_database
from portal.extensions import csrf, htmx, login_manager
from portal.numbers import IdConverter, JSONProvider
from portal.redis_client import init_redis
from settings import Settings, load_settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app; refuses to start on unsafe settings (see Settings.validate)."""
    settings = (settings or load_settings()).validate()
    # Static files are served from the content-hashed build (portal/assets.py), not by Flask.
    app = Flask(__name__, static_folder=None)
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
    if settings.trusted_proxy_hops:
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    init_database(app, settings.database_url)
    from portal.read_replica import init_read_replica

    init_read_replica(app, settings.database_read_url, settings.read_replica_max_lag_seconds)
    init_redis(app, settings.cache_redis_url, queue_url=settings.queue_redis_url)
    from portal.mail_outbox import init_mail_outbox

    init_mail_outbox(app)
    login_manager.init_app(app)
    from portal.auth.server_sessions import init_server_sessions

    init_server_sessions(app)
    csrf.init_app(app)
    htmx.init_app(app)
    from portal import presentation, upload_limits

    presentation.init_app(app)
    upload_limits.init_app(app)

    from portal import admin_users, auth, catalog, errors, health, home, watch
    from portal.api.routes import api_bp
    from portal.auth.social import init_social_login
    from portal.login_limits import init_login_limits

    app.register_blueprint(health.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(catalog.bp)
    app.register_blueprint(watch.bp)
    # The JSON API authenticates with bearer tokens, not cookies, so CSRF does not apply.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(admin_users.bp)
    from portal.ops import init_ops

    init_ops(app, settings)
    from portal import seller_portal

    app.register_blueprint(seller_portal.bp)
    from portal import statements

    app.register_blueprint(statements.bp)
    init_social_login(app, settings)
    from portal.body_limits import init_body_limits

    init_body_limits(app, settings)
    # After every blueprint: it limits the views marked @login_attempt.
    init_login_limits(app, settings)
    errors.register(app)
    from portal import error_pages

    error_pages.register(app)
    from portal.security_headers import init_security_headers

    init_security_headers(app, settings)
    from portal.api.read_fast_path import ReadFastPath
    from portal.playback.fast_path import ProgressFastPath
    from portal.request_limits import init_request_limits

    flask_wsgi = app.wsgi_app
    # Cached Top-5 and settlements answers, in front of Flask like the progress reports.
    app.wsgi_app = ProgressFastPath(app, ReadFastPath(app, app.wsgi_app))  # type: ignore[method-assign]
    init_request_limits(app, flask_wsgi)  # in front of the fast paths: an oversized request goes to Flask
    from portal.assets import init_assets
    from portal.compression import init_compression

    init_compression(app)
    init_assets(app, settings)  # /static/ answered before any of the above
    from portal.ops.metrics import init_metrics

    init_metrics(app)  # outermost: counts the fast path's requests too
    return app
