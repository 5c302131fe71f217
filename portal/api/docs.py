"""`/api/v1/openapi.json` (the generated document) and `/api/v1/docs` (Swagger UI).

Swagger UI comes from the `swagger-ui-dist` npm package, served by portal/vendor.py; the page
starts it from our own script file, so the strict Content-Security-Policy holds here too.
"""

from __future__ import annotations

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue

from portal.api.blueprint import api_bp
from portal.api.openapi import PUBLIC, api_spec, openapi_document, responses


@api_bp.get("/openapi.json")
@api_spec.validate(resp=responses(None, description="The OpenAPI 3.1 document of /api/v1"), security=PUBLIC,
                   tags=["meta"])
def openapi_json() -> ResponseReturnValue:
    """This document."""
    return jsonify(openapi_document(current_app._get_current_object()))  # type: ignore[attr-defined]
