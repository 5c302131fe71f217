"""Sign-up, sign-in, sign-out and the account page."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from models import Role
from models.accounts.mailed_links import new_link_token
from models.accounts.service import AccountError, authenticate, normalize_email
from portal.auth.account_mail import SignUpLinks, sign_up_and_mail
from portal.auth.account_page import account_page
from portal.auth.forms import SignInForm, SignUpForm
from portal.auth.redirects import safe_next
from portal.auth.sessions import sign_in, sign_out
from portal.database import db_session
from portal.login_limits import login_attempt, signup_attempt
from portal.mail_outbox import mail_outbox
from portal.queries.accounts import AuthQuery
from portal.queries.parse import parse_query
from portal.settings import settings

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/signin", methods=["GET", "POST"])
@login_attempt
def signin() -> ResponseReturnValue:
    query = parse_query(AuthQuery)
    if current_user.is_authenticated:
        return redirect(safe_next(query.next))
    form = SignInForm(next=query.next)
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
    query = parse_query(AuthQuery)
    if current_user.is_authenticated:
        return redirect(safe_next(query.next))
    form = SignUpForm(next=query.next)
    if request.method == "GET" and query.role is not None:
        form.role.data = query.role.value
    if form.validate_on_submit():
        try:
            address = normalize_email(form.email.data or "")
        except AccountError as exc:  # shown beside the e-mail field, the form kept
            form.email.errors.append(str(exc))
            form.keep_passwords_only_if_valid()
            return render_template("auth/signup.html", form=form), 400
        # The same work and answer for a new and a registered address (issue 18, item 16): the
        # account is made, and the mail chosen, off the request path (portal/auth/account_mail.py).
        token = new_link_token()
        links = SignUpLinks(verify=settings().public_url(url_for("auth.verify", token=token)),
                            sign_in=settings().public_url(url_for("auth.signin")),
                            forgot=settings().public_url(url_for("auth.forgot")))
        mail_outbox().submit(partial(
            sign_up_and_mail, email=address, password=form.password.data or "", role=Role(form.role.data),
            display_name=form.display_name.data or None, token=token, links=links, now=datetime.now(UTC)))
        return render_template("auth/signup_sent.html", email=form.email.data)
    status = 400 if request.method == "POST" else 200
    form.keep_passwords_only_if_valid()
    return render_template("auth/signup.html", form=form), status


@bp.post("/signout")
def signout() -> ResponseReturnValue:
    sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("home.index"))


@bp.get("/account")
@login_required
def account() -> ResponseReturnValue:
    return account_page()
