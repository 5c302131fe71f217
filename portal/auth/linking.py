"""Confirming a social identity for an existing account.

The identity waits in the session (see `sessions.PendingLink`) until the owner of the
account it is meant for has signed in and said yes on this page.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from models.accounts.service import AccountError
from models.accounts.social import link_identity
from portal.auth.forms import LinkForm
from portal.auth.sessions import clear_pending_link, pending_link
from portal.auth.views import bp
from portal.database import db_session
from portal.queries.accounts import LinkAnswerForm
from portal.queries.parse import parse_query


@bp.route("/link", methods=["GET", "POST"])
@login_required
def link() -> ResponseReturnValue:
    pending = pending_link()
    if pending is None:
        flash("No social sign-in is waiting to be linked.", "info")
        return redirect(url_for("auth.account"))
    if pending.user_id != current_user.id:
        clear_pending_link()
        flash(
            f"The {pending.label} sign-in was meant for another account; sign in as its owner to link it.",
            "error",
        )
        return redirect(url_for("auth.account"))
    form = LinkForm()
    if form.validate_on_submit():
        answer = parse_query(LinkAnswerForm, request.form)  # a button other than the two: 422, still waiting
        clear_pending_link()
        if answer.action == "decline":
            flash(f"Your {pending.label} account was not linked.", "info")
            return redirect(url_for("auth.account"))
        session = db_session()
        try:
            link_identity(session, current_user._get_current_object(), pending.profile)
        except AccountError as exc:  # rolled back and flashed on the account page
            session.rollback()
            flash(f"Not linked: {exc}.", "error")
            return redirect(url_for("auth.account"))
        flash(f"Your {pending.label} account is linked; you can sign in with it from now on.", "info")
        return redirect(url_for("auth.account"))
    return render_template("auth/link.html", pending=pending, form=form), 400 if request.method == "POST" else 200
