"""Error pages for the browser and JSON errors for the API (`{"error", "message"}`)."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.error_pages import page_for


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json" and not request.headers.get("HX-Request")
    )


def error_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> ResponseReturnValue:
        message = "The form expired or was sent from elsewhere; reload the page and try again."
        if wants_json():
            return jsonify(error="csrf_failed", message=message), 400
        return render_template("errors/error.html", code=400, title="Form expired", message=message), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        code = exc.code or 500
        if wants_json():
            return jsonify(error=error_code(exc), message=exc.description), code
        page = page_for(exc)
        return render_template("errors/error.html", code=code, title=page.title, message=page.message,
                               actions=page.actions), code
