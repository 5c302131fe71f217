"""Token endpoints of the JSON API."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from portal.api import api_bp
from portal.api.auth import api_auth, current_api_user


@api_bp.get("/me")
@api_auth()
def me() -> ResponseReturnValue:
    user = current_api_user()
    return jsonify(id=user.id, email=user.email, display_name=user.display_name, role=user.role.value)
