"""The `/api/v1` blueprint itself, a leaf the endpoint modules register their routes on."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from portal.api.openapi import PUBLIC, api_spec, responses


class ApiIndex(BaseModel):
    name: str
    version: str


api_bp = Blueprint("api", __name__, url_prefix="/api/v1")


@api_bp.before_request
def refuse_a_malformed_json_body() -> None:
    """A JSON body that does not parse is refused (400) on every endpoint, also on those that
    read no body (a run's retry, a cancel): a client sending one has a bug it should hear of,
    and whether it did must not depend on which endpoint it hit. Parsed once: Flask keeps the
    result for the endpoint that reads it."""
    if request.is_json and (request.content_length or request.headers.get("Transfer-Encoding")):
        request.get_json()


@api_bp.get("/")
@api_spec.validate(resp=responses(ApiIndex), security=PUBLIC, tags=["meta"])
def index() -> ResponseReturnValue:
    """The API's name and version (no token needed)."""
    return jsonify(name="PaySystem API", version="v1")
