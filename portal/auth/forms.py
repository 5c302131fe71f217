"""Sign-in, sign-up, link-confirmation, recovery and account-page forms (flask-wtf: CSRF token
included)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional
from wtforms.widgets import PasswordInput

from models import Role
from models.accounts.passwords import MIN_PASSWORD_LENGTH

ROLE_CHOICES = [
    SelectChoice(Role.VIEWER.value, "Viewer — watch videos"),
    SelectChoice(Role.SELLER.value, "Seller — upload videos and get paid for their views"),
]


class SignInForm(FlaskForm):
    # No e-mail syntax check here: email-validator refuses reserved domains such as the demo's
    # `*.paysystem.test`, and a malformed address is simply an unknown account.
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField("Keep me signed in")
    next = HiddenField()


class SignUpForm(FlaskForm):
    role = RadioField("I want to join as", choices=ROLE_CHOICES, default=Role.VIEWER.value)
    display_name = StringField("Name shown to others", validators=[Optional(), Length(max=100)])
    email = EmailField("E-mail", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=f"The password needs at least {MIN_PASSWORD_LENGTH} characters (at most 1024).",
            ),
        ],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
        widget=PasswordInput(hide_value=False),
    )
    confirm = PasswordField(
        "Password again", validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
        widget=PasswordInput(hide_value=False),
    )
    next = HiddenField()

    def keep_passwords_only_if_valid(self) -> None:
        """After a refusal the passwords come back filled in when they were fine, so a typo in
        the e-mail does not cost typing both again (issue 21, item 14); a refused password is
        emptied, both fields together."""
        if self.password.errors or self.confirm.errors:
            self.password.data = self.confirm.data = ""


class LinkForm(FlaskForm):
    """Confirm or decline attaching a pending social identity to the signed-in account."""


def _new_password_fields() -> tuple[PasswordField, PasswordField]:
    return (
        PasswordField("New password", validators=[
            DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024,
                                   message=f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")],
            description=f"At least {MIN_PASSWORD_LENGTH} characters."),
        PasswordField("New password again", validators=[
            DataRequired(), EqualTo("password", message="The passwords differ.")]),
    )


class ForgotForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])


class ResetForm(FlaskForm):
    password, confirm = _new_password_fields()


class RenameForm(FlaskForm):
    display_name = StringField("Name shown to others", validators=[DataRequired(), Length(max=100)])


class PasswordForm(FlaskForm):
    # Checked in the view: an account that signs in only socially has no current password.
    current = PasswordField("Current password", validators=[Length(max=1024)])
    password, confirm = _new_password_fields()


class EmailChangeForm(FlaskForm):
    new_email = EmailField("New e-mail address", validators=[DataRequired(), Length(max=254)])
    # Checked by the service: an account that signs in only socially has no password.
    password = PasswordField("Current password", validators=[Length(max=1024)])


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Current password", validators=[Length(max=1024)])
    confirm = BooleanField("I understand that my account is deleted for good",
                           validators=[DataRequired(message="Tick the box to confirm.")])
