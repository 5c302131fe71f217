"""The `/api/v1` blueprint itself, a leaf the endpoint modules register their routes on."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")


@api_bp.get("/")
def index() -> ResponseReturnValue:
    return jsonify(name="PaySystem API", version="v1")
