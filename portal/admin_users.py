"""Admin page over accounts: find users, change their role (htmx swaps the edited row)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from models import Role, User
from models.accounts import AccountError, change_role, list_users
from portal.auth import role_required
from portal.database import db_session
from portal.extensions import htmx
from portal.paging import page_arg

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")

ROLES = [role.value for role in Role]


@bp.get("/")
@role_required(Role.ADMIN)
def index() -> ResponseReturnValue:
    role = request.args.get("role") or ""
    if role and role not in ROLES:
        abort(400, description=f"role must be one of {', '.join(ROLES)}")
    search = request.args.get("q", "")
    result = list_users(db_session(), search=search, role=Role(role) if role else None, page=page_arg(request.args))
    template = "admin_users/_table.html" if htmx and htmx.target == "user-table" else "admin_users/list.html"
    return render_template(template, result=result, roles=ROLES, search=search, role=role)


@bp.post("/<int:user_id>/role")
@role_required(Role.ADMIN)
def set_role(user_id: int) -> ResponseReturnValue:
    session = db_session()
    user = session.get(User, user_id)
    if user is None:
        abort(404, description=f"There is no user {user_id}.")
    role = request.form.get("role", "")
    error, status = None, 200
    if role not in ROLES:
        error, status = f"Choose one of {', '.join(ROLES)}.", 400
    else:
        try:
            change_role(session, user, Role(role), actor=current_user._get_current_object())
        except AccountError as exc:
            session.rollback()
            session.refresh(user)
            error, status = str(exc).capitalize() + ".", 409
    if htmx:
        # htmx swaps only successful answers, so a refusal comes back as the row with its reason.
        return render_template("admin_users/_row.html", user=user, roles=ROLES, error=error, saved=error is None)
    if error:
        abort(status, description=error)
    flash(f"{user.email or user.display_name} is now {user.role.value}.", "info")
    return redirect(url_for("admin_users.index"), 303)
