"""The payout-details form (flask-wtf: CSRF included). The rules of the fields live in
models/money/payout_details.py; this form only carries them and shows each refusal next to
its field."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from models.money.payout_details import BANKS
from models.money.withholding import BUSINESS, INDIVIDUAL


class PayoutDetailsForm(FlaskForm):
    legal_name = StringField("Legal name", validators=[Length(max=100)])
    kind = RadioField("Paid as", choices=[SelectChoice(INDIVIDUAL, "an individual (income tax withheld)"),
                                          SelectChoice(BUSINESS, "a registered business (no withholding)")],
                      default=INDIVIDUAL,
                      validate_choice=False)
    business_number = StringField("Business registration number", validators=[Optional(), Length(max=20)],
                                  description="10 digits; only for a registered business.")
    bank_code = SelectField("Bank", choices=[SelectChoice("", "— choose —")] + [
                                SelectChoice(code, f"{name} ({code})") for code, name in BANKS.items()],
                            validate_choice=False)
    # Never filled in from the stored details: only the last 4 digits are ever shown.
    account_number = StringField("Account number", validators=[Length(max=40)],
                                 description="10 to 16 digits; dashes and spaces are fine.")
    holder_name = StringField("Account holder", validators=[Length(max=100)])
    password = PasswordField("Your password", validators=[Length(max=1024)],
                             description="Asked again: a stolen session alone cannot redirect your money.")
