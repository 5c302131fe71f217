"""Defect 10 of issue 13: security headers and CSP on every response, HSTS and Secure cookies
in production, no inline script, and no published development secret on a public address."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace

import pytest

from models import Role
from paysystem.public_bind import PublicBindError, check_bind, secret_for_host
from portal import create_app
from settings import DEV_SECRET_KEY, PROJECT_ROOT, generate_fernet_key
from tests.support import TEST_PASSWORD, free_port
from tests.watching_support import bearer

PAGES = ["/", "/videos", "/auth/signin", "/auth/signup", "/api/v1/", "/healthz", "/no-such-page"]


def _csp(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    policy = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    csp = _csp(response)
    assert csp.get("script-src") == ["'self'"], csp  # our own scripts (htmx, plotly, player.js); nothing inline
    assert csp.get("frame-ancestors") == ["'none'"] and csp.get("object-src") == ["'none'"]
    assert csp.get("default-src") == ["'self'"] and csp.get("base-uri") == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # plain-HTTP development and tests


def test_only_the_third_party_admin_dashboard_may_run_inline_script(client):
    csp = _csp(client.get("/admin/rq/"))
    assert "'unsafe-inline'" in csp["script-src"] and csp["frame-ancestors"] == ["'none'"]
    assert _csp(client.get("/admin/users/"))["script-src"] == ["'self'"]


def test_the_progress_fast_path_answers_with_the_same_headers(client, make_user, settings):
    viewer = make_user(Role.VIEWER)
    response = client.post("/api/v1/videos/1/sessions/1/progress", json={"position_ms": 1}, headers=bearer(viewer, settings))
    assert response.status_code == 404
    assert response.headers["X-Content-Type-Options"] == "nosniff" and _csp(response)["frame-ancestors"] == ["'none'"]


def test_production_adds_hsts_and_secure_cookies(settings, make_user):
    app = create_app(replace(settings, environment="production", secret_key="p" * 48,
                             payout_details_keys=(generate_fernet_key(),)))
    client = app.test_client()
    user = make_user(Role.VIEWER)
    page = client.get("/auth/signin", base_url="https://localhost")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    signed_in = client.post("/auth/signin", data={"csrf_token": token, "email": user.email, "password": TEST_PASSWORD,
                                                  "remember": "y"}, base_url="https://localhost",
                            headers={"Referer": "https://localhost/auth/signin"})  # CSRF over HTTPS
    assert signed_in.status_code == 302
    cookies = signed_in.headers.getlist("Set-Cookie")
    assert len(cookies) >= 2 and all("Secure" in c and "HttpOnly" in c for c in cookies), cookies


def test_no_template_has_inline_script_or_event_handlers():
    """The CSP allows no inline script, so none may exist (JSON data blocks are not run)."""
    offenders = []
    for template in sorted((PROJECT_ROOT / "portal" / "templates").rglob("*.html")):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{template.name}: {tag}")
        offenders += [f"{template.name}: {m}" for m in re.findall(r"\son[a-z]+\s*=", text)]
        offenders += [f"{template.name}: javascript: URL" for _ in re.findall(r"javascript:", text)]
    assert offenders == []


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "example.com"])
def test_a_public_development_instance_never_uses_the_published_secret(host):
    secret = secret_for_host(host, {})
    assert secret != DEV_SECRET_KEY and len(secret) >= 32
    assert secret_for_host(host, {"SECRET_KEY": DEV_SECRET_KEY}) != DEV_SECRET_KEY
    assert secret_for_host(host, {"SECRET_KEY": "mine-" + "k" * 40}) == "mine-" + "k" * 40
    with pytest.raises(PublicBindError, match="SECRET_KEY"):
        check_bind([f"{host}:8000" if ":" not in host else f"[{host}]:8000"], DEV_SECRET_KEY)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_a_loopback_development_instance_may_use_the_development_secret(host):
    assert secret_for_host(host, {}) == DEV_SECRET_KEY
    check_bind([f"{host}:5000" if host != "::1" else "[::1]:5000", "unix:/tmp/portal.sock"], DEV_SECRET_KEY)


def test_gunicorn_refuses_a_public_bind_with_the_development_secret(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "PAYSYSTEM_ENV")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'unused.db'}"
    started = subprocess.run([sys.executable, "-m", "gunicorn", "--bind", f"0.0.0.0:{free_port()}",
                              "portal.wsgi:app"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                             timeout=60)
    assert started.returncode != 0
    assert "published development SECRET_KEY" in started.stderr
