"""E-mail verification in the browser (issue 18, item 16): following the mailed link, and the
account page's "send the link again" (at most VERIFY_MAILS_PER_HOUR an hour)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from models.accounts.mailed_links import LinkError, new_link_token
from models.accounts.verification import VERIFY_MAILS_PER_HOUR, request_verification, verify_email
from portal.auth.account_mail import send_verification_mail
from portal.auth.account_page import account_page
from portal.auth.views import bp
from portal.database import db_session
from portal.mail_outbox import mail_outbox
from portal.settings import settings


@bp.get("/verify/<token>")
def verify(token: str) -> ResponseReturnValue:
    """Mark the address verified; the owner goes on to their account page, anyone else
    (another browser, signed out) to sign in — the link proves the mailbox, not the password."""
    try:
        user = verify_email(db_session(), token, datetime.now(UTC))
    except LinkError as exc:  # the expired-link page (410), not an HTTP conversion
        return render_template("auth/verify_invalid.html", message=str(exc)), 410
    if current_user.is_authenticated and current_user.id == user.id:
        flash("Your e-mail address is verified.", "info")
        return redirect(url_for("auth.account"))
    flash("Your e-mail address is verified. Sign in to continue.", "info")
    return redirect(url_for("auth.signin"))


@bp.post("/account/verify")
@login_required
def account_verify() -> ResponseReturnValue:
    """Send the verification link again (rate-limited per account: 429 past it)."""
    if current_user.is_verified or not current_user.email:
        flash("Your e-mail address is already verified." if current_user.is_verified
              else "Your account has no e-mail address to verify.", "info")
        return redirect(url_for("auth.account"))
    token = new_link_token()
    link = settings().public_url(url_for("auth.verify", token=token))
    address, name, user_id = current_user.email, current_user.display_name, current_user.id
    if not request_verification(db_session(), user_id, token, datetime.now(UTC)):
        flash(f"You asked for {VERIFY_MAILS_PER_HOUR} links in the last hour. Use the newest one, or try again "
              "later.", "error")
        return account_page(status=429)
    mail_outbox().submit(partial(send_verification_mail, address, name, link))
    flash(f"A new link is on its way to {address}.", "info")
    return redirect(url_for("auth.account"))
