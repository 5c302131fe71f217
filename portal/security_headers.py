"""Security headers on every response: a Content-Security-Policy that runs only our own
scripts, no framing, no MIME sniffing, a referrer policy, and HSTS in production.

Scripts come only from this origin: htmx and plotly.js (installed packages) and our own
scripts are served from the static build under /static (portal/assets.py). Nothing inline runs — templates carry no <script> body or
on* attribute (a JSON data block is not run); tests/test_security_headers.py checks that.
Styles allow 'unsafe-inline' because plotly.js and htmx set style attributes and insert
<style> elements at run time; styles cannot run code.
"""

from __future__ import annotations

from flask import Flask, Response, request

from settings import Settings

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
])
# rq-dashboard (an installed package, admins only, mounted at /admin/rq) runs inline scripts
# and compiles underscore templates; it gets them there and nowhere else.
THIRD_PARTY_ADMIN_PREFIXES = ("/admin/rq",)
RELAXED_POLICY = CONTENT_SECURITY_POLICY.replace(
    "script-src 'self'", "script-src 'self' 'unsafe-inline' 'unsafe-eval'")
# A year, the usual preload-ready value; only ever sent by a production (HTTPS) portal.
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(settings: Settings) -> list[tuple[str, str]]:
    """The headers every response of this portal carries (also the WSGI fast path's)."""
    headers = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if settings.is_production:
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


def init_security_headers(app: Flask, settings: Settings) -> None:
    headers = security_headers(settings)

    def _add(response: Response) -> Response:
        if request.path.startswith(THIRD_PARTY_ADMIN_PREFIXES):
            response.headers.setdefault("Content-Security-Policy", RELAXED_POLICY)
        for name, value in headers:
            response.headers.setdefault(name, value)
        return response

    app.after_request(_add)
