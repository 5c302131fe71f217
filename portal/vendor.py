"""Serves third-party browser code from where it was installed.

htmx and Swagger UI (the /api/v1/docs page) come from their npm packages (node_modules) and
plotly.js from the plotly wheel, so none is copied into the repository. Only the files named
here are served: a small allow-list, not the packages' whole directories.
"""

from __future__ import annotations

from pathlib import Path

import plotly
from flask import Blueprint, abort, send_file
from flask.typing import ResponseReturnValue

from portal.settings import settings

bp = Blueprint("vendor", __name__, url_prefix="/vendor")


def _locations() -> dict[str, Path]:
    node_modules = settings().node_modules
    return {
        "htmx.min.js": node_modules / "htmx.org" / "dist" / "htmx.min.js",
        "plotly.min.js": Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
        "swagger-ui-bundle.js": node_modules / "swagger-ui-dist" / "swagger-ui-bundle.js",
        "swagger-ui.css": node_modules / "swagger-ui-dist" / "swagger-ui.css",
    }


def _mimetype(name: str) -> str:
    return "text/css" if name.endswith(".css") else "text/javascript"


@bp.get("/<name>")
def asset(name: str) -> ResponseReturnValue:
    path = _locations().get(name)
    if path is None:
        abort(404)
    if not path.is_file():
        abort(404, description=f"{name} is not installed; run the set-up command (npm ci) first")
    return send_file(path, mimetype=_mimetype(name), max_age=86400)
