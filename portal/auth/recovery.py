"""Account recovery and the account page's changes (issue 14, item 6).

"Forgot password?" sends a single-use link that works for an hour; the answer, and the work
done before it, are the same whether or not the address has an account, so the form does not
reveal who is registered (the mail is sent off the request path: portal/mail_outbox.py).
Setting a new password (by link or on the account page) goes through
models.accounts.service.change_password, which ends every other session of the account.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from models.accounts.passwords import verify_password
from models.accounts.recovery import (
    RecoveryError,
    new_reset_token,
    reset_password,
    user_for_reset_token,
)
from models.accounts.service import AccountError, change_password, rename
from portal.auth.account_mail import send_reset_mail
from portal.auth.account_page import account_page
from portal.auth.forms import ForgotForm, PasswordForm, RenameForm, ResetForm
from portal.auth.server_sessions import keep_this_session
from portal.auth.sessions import sign_out
from portal.auth.views import bp
from portal.database import db_session
from portal.login_limits import forgot_attempt
from portal.mail_outbox import mail_outbox
from portal.settings import settings


def _now() -> datetime:
    return datetime.now(UTC)


@bp.route("/forgot", methods=["GET", "POST"])
@forgot_attempt
def forgot() -> ResponseReturnValue:
    """The same work and the same answer for every address: the link is made here, and whether
    it is stored and mailed is decided off the request path (portal/mail_outbox.py), so neither
    the answer nor its timing tells who has an account."""
    form = ForgotForm()
    if form.validate_on_submit():
        token = new_reset_token()
        link = settings().public_url(url_for("auth.reset", token=token))
        mail_outbox().submit(partial(send_reset_mail, form.email.data or "", token, link, _now()))
        return render_template("auth/forgot_sent.html", email=form.email.data)
    return render_template("auth/forgot.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> ResponseReturnValue:
    db = db_session()
    try:
        _, user = user_for_reset_token(db, token, _now())
    except RecoveryError as exc:  # the expired-link page (410), which offers a new link
        return render_template("auth/reset_invalid.html", message=str(exc)), 410
    form = ResetForm()
    if form.validate_on_submit():
        try:
            reset_password(db, token, form.password.data or "", _now())
        except RecoveryError as exc:  # the expired-link page (410), which offers a new link
            return render_template("auth/reset_invalid.html", message=str(exc)), 410
        except AccountError as exc:  # shown beside the field, the form kept
            form.password.errors = [str(exc)]
            return render_template("auth/reset.html", form=form, email=user.email), 400
        if current_user.is_authenticated:
            sign_out()
        flash("Your password is changed and every other session is signed out. Sign in with the new password.",
              "info")
        return redirect(url_for("auth.signin"))
    return render_template("auth/reset.html", form=form, email=user.email), 400 if request.method == "POST" else 200


@bp.post("/account/name")
@login_required
def account_name() -> ResponseReturnValue:
    form = RenameForm()
    if form.validate_on_submit():
        try:
            rename(db_session(), current_user, form.display_name.data or "")
        except AccountError as exc:  # shown beside the field, the form kept
            form.display_name.errors = [str(exc)]
            return account_page(rename_form=form, status=400)
        flash("Your name is changed.", "info")
        return redirect(url_for("auth.account"))
    return account_page(rename_form=form, status=400)


@bp.post("/account/password")
@login_required
def account_password() -> ResponseReturnValue:
    form = PasswordForm()
    if form.validate_on_submit():
        if current_user.password_hash and not verify_password(current_user.password_hash, form.current.data or ""):
            form.current.errors = ["That is not your current password."]
            return account_page(password_form=form, status=400)
        try:
            change_password(db_session(), current_user, form.password.data or "")
        except AccountError as exc:  # shown beside the field, the form kept
            form.password.errors = [str(exc)]
            return account_page(password_form=form, status=400)
        keep_this_session(current_user)  # this session stays signed in; every other one has ended
        flash("Your password is changed. Every other session of your account is signed out.", "info")
        return redirect(url_for("auth.account"))
    return account_page(password_form=form, status=400)
