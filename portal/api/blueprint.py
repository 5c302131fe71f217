"""The `/api/v1` blueprint itself, a leaf the endpoint modules register their routes on."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from portal.api.openapi import PUBLIC, RequestInvalid, api_spec, responses

_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


class ApiIndex(BaseModel):
    name: str
    version: str


api_bp = Blueprint("api", __name__, url_prefix="/api/v1")


@api_bp.before_request
def _refuse_unnamed_form_fields() -> None:
    """A multipart part whose name werkzeug cannot read (`name="0\\"`) arrives as a field named
    None; spectree puts the form into its error report and its JSON encoding (sorted keys)
    failed on it with a 500 (found by tests/test_api_fuzz.py). Refused here, as the schema would."""
    if request.mimetype in _FORMS and any(not isinstance(name, str) for name in (*request.form, *request.files)):
        raise RequestInvalid("form: every field needs a name", 422)


@api_bp.get("/")
@api_spec.validate(resp=responses(ApiIndex), security=PUBLIC, tags=["meta"])
def index() -> ResponseReturnValue:
    """The API's name and version (no token needed)."""
    return jsonify(name="PaySystem API", version="v1")
