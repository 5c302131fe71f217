"""Serves third-party browser code from where it was installed.

htmx comes from its npm package (node_modules) and plotly.js from the plotly wheel, so
neither is copied into the repository.
"""

from __future__ import annotations

from pathlib import Path

import plotly
from flask import Blueprint, abort, send_file
from flask.typing import ResponseReturnValue

from portal.settings import settings

bp = Blueprint("vendor", __name__, url_prefix="/vendor")


def _locations() -> dict[str, Path]:
    return {
        "htmx.min.js": settings().node_modules / "htmx.org" / "dist" / "htmx.min.js",
        "plotly.min.js": Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
    }


@bp.get("/<name>")
def asset(name: str) -> ResponseReturnValue:
    path = _locations().get(name)
    if path is None:
        abort(404)
    if not path.is_file():
        abort(404, description=f"{name} is not installed; run the set-up command (npm ci) first")
    return send_file(path, mimetype="text/javascript", max_age=86400)
