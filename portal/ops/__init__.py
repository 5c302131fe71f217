"""The operations console (issue 12): queue dashboard, job runs, data status, price plans,
ad impressions, batch health and metrics. `init_ops` mounts all of it on the app."""

from __future__ import annotations

from flask import Flask

from settings import Settings


def init_ops(app: Flask, settings: Settings) -> None:
    from portal.ops import ads, health, money, plans, rq, runs, status

    rq.init_rq_dashboard(app, settings.queue_redis_url)
    app.register_blueprint(health.bp)
    app.register_blueprint(runs.bp)
    app.register_blueprint(status.bp)
    app.register_blueprint(plans.bp)
    app.register_blueprint(ads.bp)
    app.register_blueprint(money.bp)
