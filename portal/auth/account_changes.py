"""The account page's e-mail change and account deletion (issue 21, item 14).

The rules live in models/accounts/email_change.py and models/accounts/deletion.py; here are the forms,
the mails handed to the outbox and the answers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from models.accounts.deletion import delete_account
from models.accounts.email_change import confirm_email_change, request_email_change
from models.accounts.mailed_links import LinkError, new_link_token
from models.accounts.service import AccountError
from portal.auth.account_mail import send_email_change_mails
from portal.auth.account_page import account_page
from portal.auth.forms import DeleteAccountForm, EmailChangeForm
from portal.auth.sessions import sign_out
from portal.auth.views import bp
from portal.database import db_session
from portal.mail_outbox import mail_outbox
from portal.settings import settings


@bp.post("/account/email")
@login_required
def account_email() -> ResponseReturnValue:
    form = EmailChangeForm()
    if not form.validate_on_submit():
        return account_page(status=400, email_form=form)
    token = new_link_token()
    name, old = current_user.display_name, current_user.email
    try:
        address = request_email_change(db_session(), current_user, form.new_email.data or "",
                                       form.password.data or "", token, datetime.now(UTC))
    except AccountError as exc:  # shown beside the field it is about, the form kept
        field = form.password if exc.code == "wrong_password" else form.new_email
        field.errors = [str(exc)]
        return account_page(status=400, email_form=form)
    if address is not None:
        link = settings().public_url(url_for("auth.email_confirm", token=token))
        mail_outbox().submit(partial(send_email_change_mails, new_address=address, old_address=old, name=name,
                                     link=link))
    # The same answer whether or not a link went out (the address may be someone else's).
    flash(f"If {form.new_email.data} can be used, a confirmation link is on its way there. Your address "
          "changes when you open it.", "info")
    return redirect(url_for("auth.account"))


@bp.get("/email/<token>")
def email_confirm(token: str) -> ResponseReturnValue:
    try:
        user = confirm_email_change(db_session(), token, datetime.now(UTC))
    except (LinkError, AccountError) as exc:  # the expired-link page (410)
        return render_template("auth/verify_invalid.html", message=str(exc)), 410
    flash(f"Your e-mail address is now {user.email}.", "info")
    return redirect(url_for("auth.account" if current_user.is_authenticated else "auth.signin"))


@bp.post("/account/delete")
@login_required
def account_delete() -> ResponseReturnValue:
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return account_page(status=400, delete_form=form)
    try:
        delete_account(db_session(), current_user._get_current_object(), form.password.data or "",
                       media_root=settings().media_root, now=datetime.now(UTC))
    except AccountError as exc:  # shown beside the field it is about, the form kept
        (form.password if exc.code == "wrong_password" else form.confirm).errors = [str(exc)]
        return account_page(status=409 if exc.kind == "conflict" else 400, delete_form=form)
    sign_out()
    flash("Your account is deleted. Thank you for having been with us.", "info")
    return redirect(url_for("home.index"))
