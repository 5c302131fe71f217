"""/metrics: who may read it, and real gunicorn (multi-process mode, two workers) plus a real
RQ worker: the text format parses and its counters move after requests and a batch run."""

from __future__ import annotations

import random
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from jobs.enqueue import request_days
from models import BatchRun, RunState
from portal import create_app
from tests.batch_support import DAY0, busy_world
from tests.ops_support import clients_by_role, process_env, start_process, stop_process
from tests.support import free_port


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of a Prometheus text exposition."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def total(parsed: dict, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in parsed.items() if n == name and all((k, v2) in ls for k, v2 in labels.items()))


@pytest.fixture(scope="module")
def by_role(app, session_factory):
    return clients_by_role(app, session_factory)


def test_metrics_access_by_role_token_and_network(app, settings, by_role):
    assert by_role["anonymous"].get("/metrics").status_code == 401
    assert by_role["viewer"].get("/metrics").status_code == 403
    assert by_role["seller"].get("/metrics").status_code == 403
    page = by_role["admin"].get("/metrics")
    assert page.status_code == 200 and page.mimetype == "text/plain"
    assert total(samples(page.get_data(as_text=True)), "paysystem_queue_redis_up") == 1
    tokened = create_app(replace(settings, metrics_token="s3cret-metrics-token")).test_client()
    assert tokened.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"}).status_code == 200
    assert tokened.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert tokened.get("/metrics").status_code == 401
    local = create_app(replace(settings, metrics_networks=("127.0.0.0/8",))).test_client()
    assert local.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    remote = create_app(replace(settings, metrics_networks=("10.0.0.0/8",))).test_client()
    assert remote.get("/metrics").status_code == 401


def _request_series(admin) -> set[tuple[str, tuple]]:  # type: ignore[no-untyped-def]
    """The series of the request metrics in a scrape: (sample name, labels)."""
    parsed = samples(admin.get("/metrics").get_data(as_text=True))
    return {key for key in parsed if key[0].startswith(("paysystem_http_", "paysystem_progress_"))}


def test_random_methods_and_paths_add_no_series(by_role):
    """Label values come from closed sets: a client inventing methods and paths cannot grow /metrics."""
    rng = random.Random(1811)
    anonymous = by_role["anonymous"]

    def word(low: int, high: int) -> str:
        return "".join(rng.choices(string.ascii_letters + string.digits, k=rng.randint(low, high)))

    def burst(count: int) -> set[str]:
        methods = set()
        for _ in range(count):
            method = word(3, 10).upper()
            methods.add(method)
            path = rng.choice(["/" + word(1, 20) + "/" + word(1, 20), "/videos", "/api/v1/videos",
                               f"/api/v1/videos/{rng.randint(1, 9)}/sessions/{rng.randint(1, 9)}/progress",
                               "/api/v1/" + word(1, 30)])
            anonymous.open(path, method=method)
            anonymous.get("/" + word(1, 40))
        return methods

    burst(20)  # the "other" method and "unmatched" endpoint series appear once
    _request_series(by_role["admin"])  # and the scrape's own
    before = _request_series(by_role["admin"])
    methods = burst(300)
    after = _request_series(by_role["admin"])
    assert after == before, sorted(after - before)[:10]
    values = {value for _, labels in after for _, value in labels}
    assert "other" in values and "unmatched" in values
    assert not values & methods


def _get(url: str, token: str | None = None, method: str = "GET") -> tuple[int, str]:
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.slow
def test_metrics_under_gunicorn_in_multiprocess_mode_move_after_requests_and_a_run(backend, tmp_path):
    busy_world(backend, days=1)
    settings = backend.with_settings(batch_queue=f"metrics-{uuid.uuid4().hex[:8]}")
    port, token = free_port(), "metrics-test-token"
    env = process_env(settings, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"), METRICS_TOKEN=token,
                      PORTAL_WORKERS="2", PORTAL_THREADS="1")
    from settings import PROJECT_ROOT

    portal = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--log-level",
                               "warning", "portal.wsgi:app"], env=env, cwd=PROJECT_ROOT, start_new_session=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    worker = start_process(settings, "worker")
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        status, body = _get(base + "/metrics", token)
        assert status == 200, body
        before = samples(body)
        for _ in range(6):  # spread over both gunicorn workers
            assert _get(base + "/healthz")[0] == 200
        assert _get(base + "/api/v1/videos/1/sessions/1/progress", method="POST")[0] == 401  # the fast path
        run_id = request_days(settings, DAY0, DAY0).started[0]
        with backend.engine.connect() as conn:
            while time.monotonic() < deadline:
                state = conn.execute(select(BatchRun.state).where(BatchRun.id == run_id)).scalar()
                conn.rollback()
                if state in (RunState.SUCCEEDED, RunState.FAILED):
                    break
                time.sleep(0.2)
        assert state == RunState.SUCCEEDED
        after = samples(_get(base + "/metrics", token)[1])
    finally:
        worker_log = stop_process(worker)
        portal_log = stop_process(portal)
    name = "paysystem_http_requests_total"
    assert total(after, name, endpoint="health.healthz") - total(before, name, endpoint="health.healthz") >= 6, \
        portal_log
    assert total(after, name, endpoint="api.progress_fast_path", status="401") >= 1
    assert total(after, "paysystem_progress_reports_total", status="401") >= 1
    assert total(after, "paysystem_http_request_duration_seconds_count", endpoint="health.healthz") >= 6
    runs = "paysystem_batch_runs_total"
    assert total(after, runs, state="succeeded") == total(before, runs, state="succeeded") + 1, worker_log
    assert total(after, "paysystem_batch_partitions_total", state="succeeded") == settings.batch_partitions
    assert total(after, "paysystem_batch_run_duration_seconds_count", state="succeeded") == 1
    assert total(after, "paysystem_queue_jobs", registry="failed") == 0
    assert total(after, "paysystem_queue_workers") == 1
