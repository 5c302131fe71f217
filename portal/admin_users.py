"""Admin page over accounts: find users, change their role, switch accounts off and on
(htmx swaps the edited row)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import Session

from models import Role, User
from models.accounts.service import AccountError, change_role, list_users, set_active
from models.errors import DomainError, NotFound
from portal.auth import role_required
from portal.database import db_session
from portal.errors import as_sentence
from portal.extensions import htmx
from portal.queries.accounts import AdminUsersQuery, UserActiveForm, UserRoleForm
from portal.queries.base import LenientQuery
from portal.queries.parse import RequestInvalid, parse_query

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")

ROLES = [role.value for role in Role]
F = TypeVar("F", bound=LenientQuery)


@bp.get("/")
@role_required(Role.ADMIN)
def index() -> ResponseReturnValue:
    query = parse_query(AdminUsersQuery)
    search, role = query.q, query.role.value if query.role else ""
    result = list_users(db_session(), search=search, role=query.role, page=query.page)
    template = "admin_users/_table.html" if htmx and htmx.target == "user-table" else "admin_users/list.html"
    return render_template(template, result=result, roles=ROLES, search=search, role=role)


def _edited_row(user: User, refusal: DomainError | None, done: str, *, role: bool = False) -> ResponseReturnValue:
    """The row again (htmx; "saved" beside the role after a role change) or back to the list
    with a message (no script); a refusal without htmx is the one refusal page."""
    if htmx:
        # htmx swaps only successful answers, so a refusal comes back as the row with its reason.
        return render_template("admin_users/_row.html", user=user, roles=ROLES,
                               error=None if refusal is None else refusal.message,
                               saved=role and refusal is None)
    if refusal is not None:
        raise refusal
    flash(done, "info")
    return redirect(url_for("admin_users.index"), 303)


def _user_or_404(user_id: int) -> User:
    user = db_session().get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    return user


def _form(model: type[F]) -> tuple[F, RequestInvalid | None]:
    """The posted form read by its model, or (htmx) the refusal that `_edited_row` shows in the
    row, since htmx swaps only successful answers; without htmx it is the one 422 page."""
    try:
        return parse_query(model, request.form), None
    except RequestInvalid as exc:
        if not htmx:
            raise
        return None, exc  # type: ignore[return-value]  # the change is not run without a form


def _change(user: User, refusal: RequestInvalid | None,
            change: Callable[[Session, User, User], object]) -> DomainError | None:
    """Run a committing account change for the signed-in admin: its refusal (the form's, or the
    rules': the last admin stays) for `_edited_row`, None when done."""
    if refusal is not None:
        return refusal
    session = db_session()
    try:
        change(session, user, current_user._get_current_object())
    except AccountError as exc:
        # The row is drawn again from the account as it stands, not as the refused change left it.
        session.rollback()
        session.refresh(user)
        return as_sentence(exc)
    return None


@bp.post("/<int:user_id>/role")
@role_required(Role.ADMIN)
def set_role(user_id: int) -> ResponseReturnValue:
    user = _user_or_404(user_id)
    form, refusal = _form(UserRoleForm)
    refused = _change(user, refusal, lambda session, user, actor: change_role(session, user, form.role, actor=actor))
    return _edited_row(user, refused, f"{user.email or user.display_name} is now {user.role.value}.", role=True)


@bp.post("/<int:user_id>/active")
@role_required(Role.ADMIN)
def set_user_active(user_id: int) -> ResponseReturnValue:
    """`active=0` switches the account off (its sessions end, its API tokens stop working), `1` on."""
    user = _user_or_404(user_id)
    form, refusal = _form(UserActiveForm)
    refused = _change(user, refusal,
                      lambda session, user, actor: set_active(session, user, form.active == "1", actor=actor))
    state = "active again" if user.is_active else "deactivated"
    return _edited_row(user, refused, f"{user.email or user.display_name} is {state}.")
