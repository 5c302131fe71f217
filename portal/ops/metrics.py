"""`GET /metrics`: Prometheus text format (prometheus-client), for operators' monitoring.

Two kinds of figures:
- counted in the portal processes: HTTP requests and latency by endpoint (the progress
  endpoint answered in front of Flask included) and progress reports by outcome. Under
  gunicorn these use prometheus-client's multi-process mode: set PROMETHEUS_MULTIPROC_DIR
  (gunicorn.conf.py empties it at start and forgets dead workers), and whichever worker
  answers the scrape reports the sum over all of them;
- read at scrape time from the systems of record, so they are right however many worker
  hosts there are: batch runs and partitions by outcome with their durations and the time
  of the last succeeded nightly run (database), queue depth, failed jobs and workers (Redis).

Every label value comes from a closed set, so that no client can add series (each costs memory
in every worker and at every scrape): `endpoint` is a route's endpoint name, a fast path's
fixed name or "unmatched" (never the path); `method` one of the standard HTTP methods or
"other"; `status` the status code the app answered.

Access: `Authorization: Bearer <METRICS_TOKEN>`, or a client address inside METRICS_NETWORKS,
or a signed-in admin. Anyone else gets 401 (no credentials) or 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, current_app, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from redis.exceptions import RedisError
from rq import Worker

from jobs.enqueue import batch_queue
from models import Role
from models.batch.ops_status import batch_figures
from portal.database import session_factory
from portal.endpoint_label import ENDPOINT_KEY
from portal.read_replica import READS, replica_state
from portal.redis_client import queue_redis_client
from portal.settings import settings

PROGRESS_PATH = re.compile(r"^(/api/v1)?/videos/\d+/sessions/\d+/progress$")

REQUESTS = Counter("paysystem_http_requests", "HTTP requests answered, by endpoint, method and status.",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("paysystem_http_request_duration_seconds", "Time to answer an HTTP request, by endpoint.",
                    ["endpoint"], buckets=(.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
PROGRESS = Counter("paysystem_progress_reports", "Player progress reports, by HTTP status (204 = recorded).",
                   ["status"])

# RFC 9110's methods and PATCH: anything else a client sends is counted as "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def method_label(method: str) -> str:
    """The request method as a label value: a standard method, or "other"."""
    return method if method in METHODS else "other"


class RequestMetrics:
    """Outermost WSGI layer: counts and times every request, Flask's and the fast path's."""

    def __init__(self, wrapped: WsgiApp) -> None:
        self.wrapped = wrapped

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        seen: list[str] = []

        def recording_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            seen.append(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            return self.wrapped(environ, recording_start_response)
        finally:
            status = seen[-1] if seen else "500"
            path = environ.get("PATH_INFO", "")
            endpoint = environ.get(ENDPOINT_KEY)
            is_progress = environ.get("REQUEST_METHOD") == "POST" and PROGRESS_PATH.match(path) is not None
            if endpoint is None:
                endpoint = "api.progress_fast_path" if is_progress else "unmatched"
            REQUESTS.labels(endpoint, method_label(environ.get("REQUEST_METHOD", "")), status).inc()
            LATENCY.labels(endpoint).observe(time.perf_counter() - started)
            if is_progress:
                PROGRESS.labels(status).inc()


def note_endpoint() -> None:
    """The app's first before-request hook (create_app): the endpoint label of the request's metrics."""
    request.environ[ENDPOINT_KEY] = request.endpoint or "unmatched"


class StoreCollector:
    """Figures read at scrape time from the database and Redis (custom collectors work in the
    per-scrape registry, also in multi-process mode)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterable[Any]:
        with session_factory(self.app)() as session:
            figures = batch_figures(session)
        runs = CounterMetricFamily("paysystem_batch_runs", "Batch runs by trigger and state.",
                                   labels=["trigger", "state"])
        for (trigger, state), count in sorted(figures.runs.items()):
            runs.add_metric([trigger, state], count)
        yield runs
        parts = CounterMetricFamily("paysystem_batch_partitions", "Batch partitions by state.", labels=["state"])
        for state, count in sorted(figures.partitions.items()):
            parts.add_metric([state], count)
        yield parts
        for name, what, values in (("paysystem_batch_run_duration_seconds", "runs", figures.run_seconds),
                                   ("paysystem_batch_partition_duration_seconds", "partitions",
                                    figures.partition_seconds)):
            summary = SummaryMetricFamily(name, f"Durations of finished batch {what}, by final state.",
                                          labels=["state"])
            for state, (count, total) in sorted(values.items()):
                summary.add_metric([state], count_value=count, sum_value=total)
            yield summary
        last = GaugeMetricFamily("paysystem_batch_last_nightly_success_timestamp_seconds",
                                 "When the latest succeeded nightly run finished (Unix time; 0: never).")
        last.add_metric([], figures.last_nightly_success.timestamp() if figures.last_nightly_success else 0)
        yield last
        yield from self._replica()
        yield from self._queues()

    def _replica(self) -> Iterable[Any]:
        """The read replica as the figure reads see it (checked now, not from the process's
        kept verdict): its lag, and whether it may be read (0 with the reason otherwise)."""
        state = replica_state(self.app)
        if state is None:
            return
        lag = GaugeMetricFamily("paysystem_read_replica_lag_seconds",
                                "Seconds_Behind_Master of the read replica (-1: not replicating or unreachable).")
        lag.add_metric([], state.lag_seconds if state.lag_seconds is not None else -1)
        yield lag
        usable = GaugeMetricFamily("paysystem_read_replica_usable",
                                   "1 when figure reads may go to the replica; 0 with the reason otherwise.",
                                   labels=["reason"])
        usable.add_metric([state.reason], 1 if state.usable else 0)
        yield usable

    def _queues(self) -> Iterable[Any]:
        config = self.app.config["PAYSYSTEM_SETTINGS"]
        jobs = GaugeMetricFamily("paysystem_queue_jobs", "Jobs of the batch queue by registry.",
                                 labels=["queue", "registry"])
        workers = GaugeMetricFamily("paysystem_queue_workers", "RQ workers listening on the batch queue.",
                                    labels=["queue"])
        up = GaugeMetricFamily("paysystem_queue_redis_up", "Whether the queue's Redis answered this scrape.")
        try:
            connection = queue_redis_client(self.app)
            queue = batch_queue(config, connection)
            counts = {"queued": queue.count, "started": queue.started_job_registry.count,
                      "deferred": queue.deferred_job_registry.count, "scheduled": queue.scheduled_job_registry.count,
                      "failed": queue.failed_job_registry.count}
            listening = Worker.count(queue=queue)
        except RedisError:
            up.add_metric([], 0)
            yield up
            return
        for registry, count in counts.items():
            jobs.add_metric([queue.name, registry], count)
        workers.add_metric([queue.name], listening)
        up.add_metric([], 1)
        yield from (jobs, workers, up)


def _allowed() -> bool | None:
    """True: may read; False: signed in or credentialed but not allowed (403); None: who? (401)."""
    config = settings()
    header = request.headers.get("Authorization", "")
    if config.metrics_token and header.lower().startswith("bearer "):
        return hmac.compare_digest(header[7:].strip().encode(), config.metrics_token.encode())
    if config.metrics_networks and request.remote_addr:
        try:
            address = ipaddress.ip_address(request.remote_addr)
        except ValueError:
            address = None
        if address is not None and any(address in ipaddress.ip_network(n, strict=False)
                                       for n in config.metrics_networks):
            return True
    if current_user.is_authenticated:
        return current_user.role == Role.ADMIN
    return None


def metrics_view() -> ResponseReturnValue:
    allowed = _allowed()
    if not allowed:
        status = 401 if allowed is None else 403
        return Response("metrics: send the metrics token or sign in as an admin\n", status,
                        {"WWW-Authenticate": 'Bearer realm="metrics"'} if status == 401 else {},
                        mimetype="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in (REQUESTS, LATENCY, PROGRESS, READS):
            registry.register(collector)
    registry.register(StoreCollector(current_app._get_current_object()))  # type: ignore[attr-defined]
    return Response(generate_latest(registry), 200, {"Cache-Control": "no-store"}, mimetype=CONTENT_TYPE_LATEST)


def init_metrics(app: Flask) -> None:
    """Mount /metrics and wrap the app (call last in create_app, around every other layer).
    `note_endpoint` is registered by create_app as the first before-request hook."""
    app.add_url_rule("/metrics", "ops_metrics", metrics_view, methods=["GET"])
    app.wsgi_app = RequestMetrics(app.wsgi_app)  # type: ignore[method-assign]

