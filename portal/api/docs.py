"""`/api/v1/openapi.json` (the generated document) and `/api/v1/docs` (Swagger UI).

Swagger UI comes from the `swagger-ui-dist` npm package, served by portal/assets.py; the page
starts it from our own script file, so the strict Content-Security-Policy holds here too.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, render_template, url_for
from flask.typing import ResponseReturnValue
from spectree import Response

from portal.api.blueprint import api_bp
from portal.api.openapi import PUBLIC, api_spec, openapi_document, responses


@api_bp.get("/openapi.json")
@api_spec.validate(resp=responses(None, description="The OpenAPI 3.1 document of /api/v1"), security=PUBLIC,
                   tags=["meta"])
def openapi_json() -> ResponseReturnValue:
    """This document."""
    return jsonify(openapi_document(current_app._get_current_object()))  # type: ignore[attr-defined]


class HtmlPage(Response):
    """A 200 whose body is an HTML page (spectree documents bodies as JSON models only)."""

    def __init__(self, description: str) -> None:
        super().__init__(HTTP_200=(None, description))

    def generate_spec(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        spec = super().generate_spec(*args, **kwargs)
        spec["200"]["content"] = {"text/html": {"schema": {"type": "string"}}}
        return spec


@api_bp.get("/docs")
@api_spec.validate(resp=HtmlPage("Swagger UI on /api/v1/openapi.json"), security=PUBLIC, tags=["meta"])
def api_docs() -> ResponseReturnValue:
    """Interactive documentation of this API (Swagger UI)."""
    return render_template("api/docs.html", spec_url=url_for("api.openapi_json"))
