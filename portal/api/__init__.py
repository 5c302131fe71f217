"""JSON API `/api/v1`: bearer-token authentication, JSON errors."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")


@api_bp.get("/")
def index() -> ResponseReturnValue:
    return jsonify(name="PaySystem API", version="v1")


def error_body(code: str, message: str) -> dict[str, str]:
    """The one error shape of the API: `{"error": code, "message": text}`."""
    return {"error": code, "message": message}


def api_error(status: int, code: str, message: str) -> ResponseReturnValue:
    return jsonify(error_body(code, message)), status


# Endpoint modules register their routes on api_bp when imported.
from portal.api import admin_users, auth_endpoints  # noqa: E402,F401,I001
from portal.api import catalog, playback  # noqa: E402,F401,I001
from portal.api import stats  # noqa: E402,F401,I001
