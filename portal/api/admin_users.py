"""Admin API over accounts: list users, change a user's role, switch an account off or on.

Documented and validated by spectree with portal/api/admin_users_schemas.py; a refused query
or body is a 422 `invalid_request`, as everywhere (portal/queries/parse.py).
"""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from models import Role, User
from models.accounts.service import change_role, list_users, set_active
from models.errors import NotFound
from portal.api import admin_users_schemas as schema
from portal.api.auth import api_auth, current_api_user
from portal.api.auth_endpoints import user_payload
from portal.api.auth_schemas import Account
from portal.api.blueprint import api_bp
from portal.api.openapi import api_spec, responses, validated_json, validated_query
from portal.database import db_session
from portal.queries.accounts import AdminUsersQuery

_ROLES = ", ".join(role.value for role in Role)
AUTHED = (401, 403, 503)  # no or a bad token, not an admin, the revocation check unavailable
TAGS = ["admin: accounts"]


@api_bp.get("/admin/users")
@api_auth(Role.ADMIN)
@api_spec.validate(query=AdminUsersQuery, resp=responses(schema.AdminUserPage, *AUTHED, 422), tags=TAGS)
def admin_list_users() -> ResponseReturnValue:
    """`?q=` e-mail or name fragment, `?role=`, `?page=` (from 1), `?per_page=` (≤ 200)."""
    query: AdminUsersQuery = validated_query()
    result = list_users(db_session(), search=query.q, role=query.role, page=query.page, per_page=query.per_page)
    return jsonify(users=[user_payload(user) for user in result.users], **result.page_meta())


@api_bp.patch("/admin/users/<int:user_id>")
@api_auth(Role.ADMIN)
@api_spec.validate(json=schema.AccountChange, resp=responses(Account, *AUTHED, 404, 409, 413, 422), tags=TAGS)
def admin_change_account(user_id: int) -> ResponseReturnValue:
    """`{"role": "viewer" | "seller" | "admin"}` or `{"active": false}` (true switches it on again)."""
    # The last admin stays (AccountError, 409 `conflict`): answered by the one error handler; the
    # request's session, locks and all, is rolled back when the request ends (portal/database.py).
    change: schema.AccountChange = validated_json()
    session = db_session()
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    if change.role is not None:
        change_role(session, user, change.role, actor=current_api_user())
    else:
        set_active(session, user, bool(change.active), actor=current_api_user())
    return jsonify(user_payload(user))
