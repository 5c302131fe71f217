"""rq-dashboard at /admin/rq is for admins only and CSRF-protected; /healthz/batch pages
someone when yesterday's nightly run has not succeeded in time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from models.batch.ops_status import nightly_health
from models.batch.tables import RunState
from models.business_time import today
from portal import create_app
from tests.ops_support import add_run, assert_admin_only_page, clients_by_role, forget_runs

RQ_URLS = [
    "/admin/rq/",
    "/admin/rq/0/view/workers",
    "/admin/rq/0/data/queues.json",
    "/admin/rq/0/data/workers.json",
    "/admin/rq/0/data/jobs/batch/queued/8/asc/1.json",
    "/admin/rq/static/js/jquery-3.5.1.min.js",
]
RQ_ACTIONS = ["/admin/rq/job/nope/delete", "/admin/rq/job/nope/requeue", "/admin/rq/requeue/batch",
              "/admin/rq/queue/batch/failed/empty", "/admin/rq/queue/batch/compact"]


@pytest.fixture(scope="module")
def by_role(app, session_factory):
    return clients_by_role(app, session_factory)


@pytest.mark.parametrize("url", RQ_URLS)
def test_rq_dashboard_pages_and_data_are_for_admins_only(by_role, url):
    assert_admin_only_page(by_role, url)


@pytest.mark.parametrize("url", RQ_ACTIONS)
def test_rq_dashboard_actions_need_an_admin_and_a_csrf_token(by_role, url):
    anonymous = by_role["anonymous"].post(url)
    assert anonymous.status_code == 302 and "/auth/signin" in anonymous.headers["Location"]
    assert by_role["viewer"].post(url, headers={"X-CSRFToken": by_role["viewer"].csrf}).status_code == 403
    assert by_role["seller"].post(url, headers={"X-CSRFToken": by_role["seller"].csrf}).status_code == 403
    admin = by_role["admin"]
    assert admin.post(url).status_code == 400  # cross-site: no token
    assert admin.post(url, headers={"X-CSRFToken": admin.csrf}).status_code in (200, 404, 409)  # no such job / empty queue


def test_rq_dashboard_hands_its_script_the_csrf_token_and_refuses_requeue_by_get(by_role):
    admin = by_role["admin"]
    assert admin.get("/admin/rq/").status_code == 200
    cookie = admin.get_cookie("_csrf_token", path="/admin/rq")
    assert cookie is not None and cookie.value
    assert admin.post("/admin/rq/requeue/batch", headers={"X-CSRFToken": cookie.value}).get_json()["status"] == "OK"
    assert admin.get("/admin/rq/requeue/batch").status_code == 405


def test_rq_dashboard_shows_our_queue_its_jobs_and_the_scheduled_nightly_job(by_role, settings):
    from rq_scheduler import Scheduler

    from jobs.queues import batch_queue, queue_connection, queue_name
    from jobs.schedule import nightly_job_id, reconcile_nightly

    connection = queue_connection(settings)
    reconcile_nightly(Scheduler(queue_name=queue_name(settings), connection=connection), settings)
    job = batch_queue(settings, connection).enqueue_call("os.getpid", job_id="ops-dashboard-probe")
    try:
        admin = by_role["admin"]
        queues = admin.get("/admin/rq/0/data/queues.json").get_json()["queues"]
        assert queue_name(settings) in [q["name"] for q in queues]
        listed = admin.get(f"/admin/rq/0/data/jobs/{queue_name(settings)}/queued/8/asc/1.json").get_json()
        assert "ops-dashboard-probe" in [j["id"] for j in listed["jobs"]]
        nightly = admin.get(f"/admin/rq/0/data/job/{nightly_job_id(settings)}.json")
        assert nightly.status_code == 200 and "nightly" in nightly.get_json()["description"]
    finally:
        job.delete()
        Scheduler(queue_name=queue_name(settings), connection=connection).cancel(nightly_job_id(settings))


# Values for each part of a dashboard URL: a good one first, then ones a hand-edited or stale
# URL may carry. Every URL made of them answers 200 or a clean 404 (never an exception: a 500).
URL_PARTS = {
    "instance_number": [0, 1, 2, 2**63 - 1],
    "queue_name": ["batch", "no-such-queue"],
    "registry_name": ["queued", "failed", "scheduled", "no-such-registry"],
    "per_page": ["8", "0", "x", "-1"],
    "order": ["asc", "dsc", "zz"],
    "page": ["1", "0", "x"],
    "job_id": ["no-such-job"],
    "filename": ["js/jquery-3.5.1.min.js", "js/no-such.js"],
}


def _dashboard_urls(app):  # type: ignore[no-untyped-def]
    """(method, url) for every rq-dashboard route, with one part at a time set to each of its values."""
    urls = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("rq_dashboard."):
            continue
        base = {name: URL_PARTS[name][0] for name in rule.arguments if name not in (rule.defaults or {})}
        variants = [base] + [{**base, name: value} for name in base for value in URL_PARTS[name][1:]]
        for method in sorted(rule.methods & {"GET", "POST"}):
            for args in variants:
                try:
                    built = rule.build(args, append_unknown=False)
                except ValueError:
                    continue  # not a value of this rule's <int:> part: such a URL matches no route
                if built is not None:
                    urls.add((method, built[1]))
    return sorted(urls)


def test_every_rq_dashboard_url_an_admin_can_reach_answers_200_or_a_clean_404(by_role, app):
    admin = by_role["admin"]
    urls = _dashboard_urls(app)
    assert ("GET", "/admin/rq/1/view") in urls and ("GET", "/admin/rq/0/data/jobs/batch/no-such-registry/8/asc/1.json") \
        in urls
    answers = {}
    for method, url in urls:
        if method == "POST" and "/batch" in url:
            continue  # actions on the real batch queue: tests above; here on a queue that does not exist
        response = admin.open(url, method=method, headers={"X-CSRFToken": admin.csrf})
        answers[(method, url)] = response.status_code
        if response.status_code == 404:
            assert "Traceback" not in response.get_data(as_text=True)
    # 308: /0/ and /0/view are the dashboard's own redirects to /admin/rq/; 405: requeue by GET is
    # refused (above); 409: Redis refuses to compact a queue that does not exist (portal/ops/rq.py)
    unexpected = {key: status for key, status in answers.items() if status not in (200, 308, 404, 405, 409)}
    assert unexpected == {}
    assert answers[("GET", "/admin/rq/1/view")] == 404
    assert answers[("GET", "/admin/rq/0/data/jobs/batch/queued/0/asc/1.json")] == 404
    assert answers[("GET", "/admin/rq/0/view/workers")] == 200


@pytest.fixture
def late_app(settings):
    """An app whose deadline for yesterday's run has passed at any time of day."""
    return create_app(replace(settings, batch_health_deadline="00:00"))


def test_healthz_batch_is_503_while_yesterday_is_missing_or_failed_and_200_once_it_succeeded(
        late_app, settings, session_factory):
    yesterday = today(settings.tz) - timedelta(days=1)
    forget_runs(session_factory, yesterday)
    client = late_app.test_client()
    missing = client.get("/healthz/batch")
    assert missing.status_code == 503
    assert missing.get_json()["reason"] == "missing" and missing.get_json()["day"] == yesterday.isoformat()
    add_run(session_factory, yesterday, RunState.FAILED, partitions=2)
    failed = client.get("/healthz/batch")
    assert failed.status_code == 503 and failed.get_json()["reason"] == "failed"
    assert "retry" in failed.get_json()["message"]
    run_id = add_run(session_factory, yesterday, RunState.SUCCEEDED)
    fixed = client.get("/healthz/batch")
    assert fixed.status_code == 200
    assert fixed.get_json()["reason"] == "succeeded" and fixed.get_json()["run_id"] == run_id
    assert client.get("/healthz").status_code == 200  # liveness is unchanged
    forget_runs(session_factory, yesterday)


def test_a_missing_run_is_not_a_failure_before_the_deadline(settings, session_factory):
    seoul_now = datetime(2026, 3, 10, 3, 0, tzinfo=settings.tz)
    with session_factory() as session:
        early = nightly_health(session, settings.tz, "06:00", seoul_now.astimezone(UTC))
        late = nightly_health(session, settings.tz, "06:00", (seoul_now + timedelta(hours=4)).astimezone(UTC))
    assert early.ok and early.reason == "not_due"
    assert not late.ok and late.reason == "missing" and late.day.isoformat() == "2026-03-09"
