"""The `/api/v1` blueprint itself, a leaf the endpoint modules register their routes on."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from portal.api.openapi import PUBLIC, api_spec, responses


class ApiIndex(BaseModel):
    name: str
    version: str


api_bp = Blueprint("api", __name__, url_prefix="/api/v1")


@api_bp.get("/")
@api_spec.validate(resp=responses(ApiIndex), security=PUBLIC, tags=["meta"])
def index() -> ResponseReturnValue:
    """The API's name and version (no token needed)."""
    return jsonify(name="PaySystem API", version="v1")
