"""Sign-in and sign-out pages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from models.accounts import find_user_by_email
from models.base import utcnow
from models.passwords import verify_password
from portal.auth.forms import SignInForm
from portal.auth.redirects import safe_next
from portal.database import db_session

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = SignInForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = find_user_by_email(db_session(), form.email.data or "")
        # One message for unknown e-mail and wrong password: no account enumeration.
        if user is None or not user.is_active or not verify_password(user.password_hash, form.password.data or ""):
            flash("E-mail or password is not correct.", "error")
            return render_template("auth/signin.html", form=form), 401
        user.last_login_at = utcnow()
        db_session().commit()
        login_user(user, remember=bool(form.remember.data))
        return redirect(safe_next(form.next.data))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/signin.html", form=form), status


@bp.post("/signout")
def signout() -> ResponseReturnValue:
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("home.index"))
