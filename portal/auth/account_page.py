"""The account page (`/auth/account`), rendered by every form on it: the name, the password, the
e-mail address (verification, change) and deleting the account, each posting to its own route
(portal/auth/recovery.py, verification.py, account_changes.py)."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from models.accounts.deletion import has_earnings
from portal.auth.forms import DeleteAccountForm, EmailChangeForm, PasswordForm, RenameForm
from portal.auth.sessions import pending_link
from portal.database import db_session


def account_page(rename_form: RenameForm | None = None, password_form: PasswordForm | None = None,
                 status: int = 200, *, email_form: EmailChangeForm | None = None,
                 delete_form: DeleteAccountForm | None = None) -> ResponseReturnValue:
    """The page with the forms as given (a refused one with its errors) and the rest empty."""
    linked = {identity.provider for identity in current_user.identities}
    return render_template(
        "auth/account.html", linked=linked, pending=pending_link(),
        rename_form=rename_form or RenameForm(formdata=None, display_name=current_user.display_name),
        password_form=password_form or PasswordForm(formdata=None),
        email_form=email_form or EmailChangeForm(formdata=None),
        delete_form=delete_form or DeleteAccountForm(formdata=None),
        has_earnings=has_earnings(db_session(), current_user.id),
    ), status
