"""Over-long request lines and headers are answered in the portal's own error model (issue 18,
item 15): gunicorn used to answer 414 / 431 itself, in HTML, also on /api. Against a real
gunicorn started with gunicorn.conf.py, and in-process for the pieces."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import requests

from models import Role
from portal.request_limits import GUNICORN_REQUEST_LINE, HEADER_FIELD_BYTES, REQUEST_LINE_BYTES
from settings import PROJECT_ROOT
from tests.ops_support import process_env
from tests.support import free_port
from tests.watching_support import bearer

LONG_QUERY = "q=" + "x" * REQUEST_LINE_BYTES  # over the app's request line, under gunicorn's
LONG_HEADER = {"X-Long": "y" * HEADER_FIELD_BYTES}  # over the app's header line, under gunicorn's


@pytest.fixture(scope="module")
def gunicorn(settings):  # type: ignore[no-untyped-def]
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                             "--log-level", "warning", "portal.wsgi:app"],
                            env=process_env(settings, PORTAL_WORKERS="1", PORTAL_THREADS="2"), cwd=PROJECT_ROOT,
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if requests.get(base + "/healthz", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or its worker still loading the app
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"gunicorn did not start: {proc.communicate()[0][-2000:]}")
            time.sleep(0.2)
        yield base
    finally:  # also when the start failed or a test was interrupted: no gunicorn outlives the module
        if proc.poll() is None:
            proc.terminate()
            proc.communicate(timeout=30)


def _json_refusal(response: requests.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:300]
    body = response.json()
    assert set(body) == {"error", "message"} and body["error"] == error, body


@pytest.mark.slow
def test_a_long_request_line_on_the_api_is_a_json_414_under_gunicorn(gunicorn, make_user, settings):
    _json_refusal(requests.get(f"{gunicorn}/api/v1/videos?{LONG_QUERY}", timeout=10), 414, "request_uri_too_long")
    # The progress fast path answers in front of Flask: an oversized report is refused the same way.
    token = bearer(make_user(Role.VIEWER), settings)
    _json_refusal(requests.post(f"{gunicorn}/api/v1/videos/1/sessions/1/progress?{LONG_QUERY}", json={
        "position_ms": 1}, headers=token, timeout=10), 414, "request_uri_too_long")
    # Just under the limit: an ordinary answer.
    fits = "q=" + "x" * (REQUEST_LINE_BYTES - len("GET /api/v1/videos? HTTP/1.1") - 2)
    assert requests.get(f"{gunicorn}/api/v1/videos?{fits}", timeout=10).status_code == 200


@pytest.mark.slow
def test_a_long_header_on_the_api_is_a_json_431_under_gunicorn(gunicorn, make_user, settings):
    _json_refusal(requests.get(f"{gunicorn}/api/v1/videos", headers=LONG_HEADER, timeout=10), 431,
                  "request_header_fields_too_large")
    token = bearer(make_user(Role.VIEWER), settings)
    _json_refusal(requests.post(f"{gunicorn}/api/v1/videos/1/sessions/1/progress", json={"position_ms": 1},
                                headers={**token, **LONG_HEADER}, timeout=10), 431, "request_header_fields_too_large")


@pytest.mark.slow
def test_pages_answer_the_error_page_and_beyond_gunicorns_maximum_gunicorn_answers(gunicorn):
    page = requests.get(f"{gunicorn}/videos?{LONG_QUERY}", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 414 and "text/html" in page.headers["Content-Type"]
    assert 'data-status="414"' in page.text  # the portal's error page, not gunicorn's
    header = requests.get(f"{gunicorn}/videos", headers={"Accept": "text/html", **LONG_HEADER}, timeout=10)
    assert header.status_code == 431 and 'data-status="431"' in header.text
    # What gunicorn.conf.py cannot raise: a request line over gunicorn's own maximum.
    beyond = requests.get(f"{gunicorn}/api/v1/videos?q={'x' * GUNICORN_REQUEST_LINE}", timeout=10)
    assert beyond.status_code == 414 and "text/html" in beyond.headers["Content-Type"]
