"""Sign-up, sign-in, sign-out and the account page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from models import Role
from models.accounts import AccountError, EmailTaken, authenticate, create_user
from portal.auth.forms import SignInForm, SignUpForm
from portal.auth.redirects import safe_next
from portal.auth.sessions import sign_in, sign_out
from portal.database import db_session
from portal.login_limits import login_attempt, signup_attempt

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/signin", methods=["GET", "POST"])
@login_attempt
def signin() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = SignInForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = authenticate(db_session(), form.email.data or "", form.password.data or "")
        if user is None:
            # One message for unknown e-mail and wrong password: no account enumeration.
            db_session().rollback()
            flash("E-mail or password is not correct.", "error")
            return render_template("auth/signin.html", form=form), 401
        return sign_in(user, next_url=form.next.data, remember=bool(form.remember.data))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/signin.html", form=form), status


@bp.route("/signup", methods=["GET", "POST"])
@signup_attempt
def signup() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = SignUpForm(next=request.args.get("next", ""))
    if request.method == "GET" and request.args.get("role") in (Role.VIEWER.value, Role.SELLER.value):
        form.role.data = request.args["role"]
    if form.validate_on_submit():
        session = db_session()
        try:
            user = create_user(
                session,
                email=form.email.data or "",
                password=form.password.data or "",
                role=Role(form.role.data),
                display_name=form.display_name.data or None,
            )
        except AccountError as exc:
            session.rollback()
            taken = isinstance(exc, EmailTaken)
            # Not "this e-mail is registered": the same status as any refusal, and a message
            # that is true whatever the reason (sign-up is also throttled per address).
            form.email.errors.append(
                "We could not create an account with this e-mail. If you have signed up before, sign in "
                "instead." if taken else str(exc)
            )
            return render_template("auth/signup.html", form=form), 400
        flash(f"Welcome, {user.display_name}! Your {user.role.value} account is ready.", "info")
        return sign_in(user, next_url=form.next.data)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/signup.html", form=form), status


@bp.post("/signout")
def signout() -> ResponseReturnValue:
    sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("home.index"))


@bp.get("/account")
@login_required
def account() -> ResponseReturnValue:
    from portal.auth.recovery import account_page  # recovery imports this module's blueprint

    return account_page()
