"""Flask's signed-cookie session, opened without building its signer when there is no cookie.

Flask builds an itsdangerous serializer (key derivation included) on every request before it
even looks for the cookie. Players of the JSON API never send one, and they send a progress
report every few seconds, so for them that work is pure cost. Requests that do carry a
session cookie are handled by Flask's own code, unchanged.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class CookieSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)
